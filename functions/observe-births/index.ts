/**
 * `observe-births`: HTTP function called by Cloud Scheduler (OIDC checked by the platform).
 * Each run reads the kernel cascade of the containers born in the window since the previous
 * scheduled run through Pixie and publishes a `pod.birth` certificate per pod.
 * Core: `shared/observe/observe-births.ts`.
 *
 * @module
 */
import * as ff from '@google-cloud/functions-framework';
import { observeBirths as core } from '../../shared/observe/observe-births.ts';
import { observeFunction } from '../../shared/observe/function.ts';

export const observeBirths: ff.HttpFunction = observeFunction('observe-births', 'pod_birth', core);

ff.http('observe-births', observeBirths);
