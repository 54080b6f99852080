/**
 * JSON answers for the requests the Functions Framework fails before our handler runs.
 *
 * The framework parses every body itself (`server.js` in @google-cloud/functions-framework 5.0.5:
 * `bodyParser.json` for `application/json`, with no error middleware), so a body that is not JSON,
 * or a bare `null` (body-parser's strict mode), never reaches the function: the parser's error goes
 * to Express's final handler, which answers 400 with an HTML page. For a push endpoint that is a
 * nack: Pub/Sub redelivers the same bytes until they are dead-lettered. The framework offers no
 * hook for this (functions-framework-nodejs issue #686, "Propagate framework errors to user
 * application", open), so the one place left is Express's own: `app.handle(req, res, callback)`
 * uses `callback` as the final handler when one is given (express 5 `lib/application.js`). Every
 * Express app copies `handle` from `express.application` when it is created, and the framework
 * creates its app after loading the function, so wrapping `express.application.handle` of the
 * framework's own copy of Express, at load, gives every framework error a defined answer:
 *
 * - the body could not be read (body-parser's 4xx errors): **200** `{"acknowledged":true,
 *   "rejected":"body"}`, logged as event `push.rejected` like every other unreadable push. Pub/Sub
 *   treats 102, 200, 201, 202 and 204 as an ack (Pub/Sub "push subscriptions" docs), and the same
 *   bytes could never become valid, so acknowledging is the only answer that ends the loop;
 * - anything else: **500** `{"error":"internal error"}`, logged, so a real fault is retried.
 *
 * The integration tests post such bodies to the built bundle under the framework, so a framework
 * upgrade that moves this path fails them.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { createLogger } from './log.ts';

type Handle = (this: unknown, req: IncomingMessage, res: ServerResponse, callback?: (error?: unknown) => void) => void;

interface ExpressModule {
  readonly application: { handle: Handle & { [WRAPPED]?: true } };
}

const WRAPPED = Symbol.for('kernel-gossip.framework-errors');

/** The status body-parser (http-errors) put on an error, if any. */
const statusOf = (error: unknown): number | undefined => {
  if (typeof error !== 'object' || error === null) {
    return undefined;
  }
  const status = (error as { status?: unknown; statusCode?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
};

const typeOf = (error: unknown): string =>
  typeof error === 'object' && error !== null && typeof (error as { type?: unknown }).type === 'string' ? (error as { type: string }).type : 'unknown';

const send = (res: ServerResponse, status: number, body: Readonly<Record<string, unknown>>): void => {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
};

/** The final handler: what Express would have rendered as HTML, answered as JSON. */
export const answerFrameworkError = (functionName: string, error: unknown, req: IncomingMessage, res: ServerResponse): void => {
  const log = createLogger({ labels: { function: functionName } });
  if (res.headersSent) {
    // Too late for an answer: end the connection as Express's final handler does.
    req.socket.destroy();
    return;
  }
  if (error === undefined) {
    send(res, 404, { error: 'not found' });
    return;
  }
  const status = statusOf(error);
  if (status !== undefined && status >= 400 && status < 500) {
    log.error('push message rejected', { event: 'push.rejected', rejection: 'body', reason: `request body could not be read (${typeOf(error)})` });
    send(res, 200, { acknowledged: true, rejected: 'body' });
    return;
  }
  log.error('the functions framework failed the request', { event: 'function.failed', error });
  send(res, 500, { error: 'internal error' });
};

/**
 * Installs {@link answerFrameworkError} as the final handler of the framework's Express apps.
 * Returns false (and changes nothing) where the framework's Express cannot be found.
 */
export const answerFrameworkErrorsAsJson = (functionName: string): boolean => {
  let express: ExpressModule;
  try {
    const here = createRequire(import.meta.url);
    const host = createRequire(here.resolve('@google-cloud/functions-framework'));
    express = host('express') as ExpressModule;
  } catch {
    return false;
  }
  const original = express.application.handle;
  if (original[WRAPPED]) {
    return true;
  }
  const wrapped: Handle & { [WRAPPED]?: true } = function handle(this: unknown, req, res, callback) {
    const finalHandler = (error?: unknown): void => {
      answerFrameworkError(functionName, error, req, res);
    };
    original.call(this, req, res, callback ?? finalHandler);
  };
  wrapped[WRAPPED] = true;
  express.application.handle = wrapped;
  return true;
};
