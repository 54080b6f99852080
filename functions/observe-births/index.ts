/**
 * `observe-births`: HTTP function called by Cloud Scheduler (OIDC checked by the platform).
 * Each run reads the kernel cascade of the containers born in the window since the previous
 * scheduled run through Pixie and publishes a `pod.birth` certificate per pod. The probe is the
 * always-on `pod_birth_lite` unless KG_BIRTH_PROBE asks for the full `pod_birth`.
 * Core: `shared/observe/observe-births.ts`.
 *
 * @module
 */
import * as ff from '@google-cloud/functions-framework';
import { parseConfig } from '../../shared/config.ts';
import { birthProbeSpec } from '../../shared/observe/config.ts';
import { observeBirths as core } from '../../shared/observe/observe-births.ts';
import { observeFunction } from '../../shared/observe/function.ts';

export const observeBirths: ff.HttpFunction = observeFunction('observe-births', (env) => parseConfig(birthProbeSpec, env).KG_BIRTH_PROBE, core);

ff.http('observe-births', observeBirths);
