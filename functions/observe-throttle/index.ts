/**
 * `observe-throttle`: HTTP function called by Cloud Scheduler (OIDC checked by the platform).
 * Each run reads the kernel's CFS throttling counters through Pixie for the window since the
 * previous scheduled run (and the windows before it, for the streak the analysis needs), analyses
 * them and publishes `cpu.throttle` findings. Core: `shared/observe/observe-throttle.ts`.
 *
 * @module
 */
import * as ff from '@google-cloud/functions-framework';
import { observeFunction } from '../../shared/observe/function.ts';
import { observeThrottle as core } from '../../shared/observe/observe-throttle.ts';

export const observeThrottle: ff.HttpFunction = observeFunction('observe-throttle', 'cpu_throttle', core);

ff.http('observe-throttle', observeThrottle);
