/**
 * The one HTTP function shell every kernel-gossip function with clients runs in (observe-throttle,
 * observe-births, remediate, record): the instance state (config and clients) is built once per
 * instance; a request while it cannot be built is answered 500 as JSON and logged, so the caller
 * (Cloud Scheduler, a Pub/Sub push) retries after the fix; each request gets a request-scoped
 * logger (level, trace, function and cluster labels); the core's answer is sent as JSON, and a core
 * that throws (a bug: cores map every known failure to a status) is answered 500 and logged.
 *
 * @module
 */
import type { HttpFunction, Request } from '@google-cloud/functions-framework';
import { once } from './instance.ts';
import { createLogger, type Logger, type LogLevel, traceFromHeaders } from './log.ts';

/** What a function core answers: an HTTP status and a JSON body. */
export interface JsonAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

/** What the shell reads from an instance's state to log a request. */
export interface InstanceLogging {
  readonly level: LogLevel;
  /** The project traces are correlated in. */
  readonly project: string | undefined;
  readonly cluster: string;
}

export interface RequestContext<S> {
  readonly state: S;
  readonly log: Logger;
  /** When the request arrived (ms since the epoch): its deadline is planned from here. */
  readonly startedAt: number;
}

export interface HttpFunctionSpec<S> {
  readonly name: string;
  /** Builds the instance state (config parsed once, clients); a failure is retried by the next request. */
  readonly start: () => Promise<S>;
  readonly logging: (state: S) => InstanceLogging;
  /** Build the state when the function is created (overlapping the host's start-up), not at the first request. */
  readonly startEarly?: boolean;
  readonly handle: (req: Request, context: RequestContext<S>) => Promise<JsonAnswer>;
}

/** Builds the HTTP function `spec.name`. */
export const httpFunction = <S>(spec: HttpFunctionSpec<S>): HttpFunction => {
  const instance = once(spec.start);
  if (spec.startEarly === true) {
    // A failure here is reported by the first request, which builds again.
    instance().catch(() => undefined);
  }
  return async function serve(req, res) {
    const startedAt = Date.now();
    let state: S;
    try {
      state = await instance();
    } catch (error) {
      createLogger({ labels: { function: spec.name } }).error(`${spec.name} cannot start: its configuration or clients failed`, { event: 'function.misconfigured', error });
      res.status(500).json({ error: 'function not configured' });
      return;
    }
    const { level, project, cluster } = spec.logging(state);
    const log = createLogger({ minLevel: level, trace: traceFromHeaders(req.headers, project), labels: { function: spec.name, cluster } });
    let answer: JsonAnswer;
    try {
      answer = await spec.handle(req, { state, log, startedAt });
    } catch (error) {
      log.error(`${spec.name} failed unexpectedly`, { event: 'function.failed', error });
      answer = { status: 500, body: { error: 'internal error' } };
    }
    res.status(answer.status).json(answer.body);
  };
};
