/**
 * `health`: an HTTP function that reports the release and whether the function's configuration
 * parses. It proves the chain (bundle, runtime, config, logging) end to end and gives operators a
 * cheap probe.
 *
 * @module
 */
import * as ff from '@google-cloud/functions-framework';
import { createHealthHandler } from '../../shared/health.ts';

export const health: ff.HttpFunction = createHealthHandler(process.env);

ff.http('health', health);
