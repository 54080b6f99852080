/**
 * HTTP semantics shared by the observe functions: the window from the request, a deadline from
 * the function timeout, and every failure mapped to a status with a logged reason.
 *
 * - 4xx: a request that can never be served (bad body); Cloud Scheduler should not retry it.
 * - 5xx: Pixie unreachable, unhealthy or failing, a probe that did not deploy, incomplete data,
 *   findings not all published; Cloud Scheduler's retry applies, and the same window gives the
 *   same finding ids, so a retry never duplicates silently.
 *
 * @module
 */
import type { Logger } from '../log.ts';
import { MutationFailedError, PixieAuthError, PixieError } from '../pixie/errors.ts';
import type { CronSchedule } from './cron.ts';
import type { JsonAnswer } from '../http-function.ts';
import { IncompleteDataError } from './run.ts';
import { TableShapeError } from './throttle-table.ts';
import { type ObserveWindow, resolveWindow, WindowRequestError } from './window.ts';

export interface ObserveHttpRequest {
  readonly method: string;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}


export interface ObserveRunResult {
  readonly findings: number;
  readonly published: number;
  readonly failed: number;
  readonly [key: string]: unknown;
}

export interface HandleObserveOptions {
  readonly script: string;
  readonly log: Logger;
  readonly now: Date;
  /** The job's schedule, which a scheduled run's window follows. */
  readonly schedule: CronSchedule;
  readonly deadline: Date;
  readonly run: (window: ObserveWindow) => Promise<ObserveRunResult>;
}

const MAX_WINDOW_SECONDS = 6 * 3600;

export const handleObserve = async (request: ObserveHttpRequest, options: HandleObserveOptions): Promise<JsonAnswer> => {
  const { log } = options;
  if (request.method !== 'POST') {
    return { status: 405, body: { error: 'use POST (Cloud Scheduler sends POST)' } };
  }
  let window: ObserveWindow;
  try {
    window = resolveWindow({
      body: request.body,
      headers: request.headers,
      now: options.now,
      schedule: options.schedule,
      maxSeconds: MAX_WINDOW_SECONDS,
    });
  } catch (error) {
    if (error instanceof WindowRequestError) {
      log.warn(`bad observe request: ${error.message}`, { event: 'observe.rejected', script: options.script });
      return { status: 400, body: { error: error.message } };
    }
    throw error;
  }
  const windowFields = { windowStart: window.start.toISOString(), windowEnd: window.end.toISOString(), script: options.script };
  try {
    const result = await options.run(window);
    if (result.failed > 0) {
      log.error(`${result.failed} of ${result.findings} findings were not published; the run will be retried`, {
        event: 'observe.failed',
        reason: 'publish',
        ...windowFields,
        ...result,
      });
      return { status: 503, body: { error: 'not every finding was published', ...result } };
    }
    log.info(`observed ${options.script}: ${result.findings} findings published`, { event: 'observe.completed', ...windowFields, ...result });
    return { status: 200, body: { ...result, window: { start: windowFields.windowStart, end: windowFields.windowEnd } } };
  } catch (error) {
    if (error instanceof MutationFailedError) {
      log.error(`probe failed to deploy: ${error.message}`, { event: 'probe.failed', error, ...windowFields });
      return { status: 502, body: { error: 'probe failed to deploy', tracepoints: error.tracepoints } };
    }
    if (error instanceof PixieAuthError) {
      log.error('Pixie rejected the API key', { event: 'observe.failed', reason: 'pixie-auth', error, ...windowFields });
      return { status: 502, body: { error: 'pixie rejected the api key' } };
    }
    if (error instanceof PixieError) {
      log.error(`Pixie failed: ${error.message}`, { event: 'observe.failed', reason: 'pixie', code: error.code, error, ...windowFields });
      return { status: 502, body: { error: 'pixie failed', code: error.code } };
    }
    if (error instanceof IncompleteDataError || error instanceof TableShapeError) {
      log.error(`kernel data unusable: ${error.message}`, { event: 'observe.failed', reason: 'data', error, ...windowFields });
      return { status: 502, body: { error: error.message } };
    }
    log.error('observe run failed unexpectedly', { event: 'observe.failed', reason: 'internal', error, ...windowFields });
    return { status: 500, body: { error: 'internal error' } };
  }
};
