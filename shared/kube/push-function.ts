/**
 * The HTTP function shape of `remediate` and `record`: clients built once per instance from the
 * environment (a failure answers 500 and is logged, so Pub/Sub redelivers after the fix), then one
 * push handled per request with a request-scoped logger.
 *
 * @module
 */
import type { HttpFunction } from '@google-cloud/functions-framework';
import { GoogleAuth } from 'google-auth-library';
import { parseConfig } from '../config.ts';
import { answerFrameworkErrorsAsJson } from '../framework-errors.ts';
import { once } from '../instance.ts';
import { createLogger, type Logger, traceFromHeaders } from '../log.ts';
import { type RuntimeConfig, runtimeSpec } from '../runtime.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { clusterKubeConfig } from './cluster.ts';
import { type ClusterConfig, parseClusterConfig, type clusterSpec } from './config.ts';
import type { HandlerResponse } from './remediate-push.ts';

export interface PushContext<C, D> {
  readonly runtime: RuntimeConfig;
  readonly config: C;
  readonly deps: D;
  readonly log: Logger;
  readonly startedAt: number;
}

/** Builds a push function: `spec` is read once, `build` makes the clients from it and a KubeConfig. */
export const pushFunction = <S extends typeof clusterSpec, D>(
  name: string,
  spec: S,
  build: (config: ReturnType<typeof parseClusterConfig<S>>, kubeConfig: KubeConfig, runtime: RuntimeConfig) => D,
  handle: (body: unknown, context: PushContext<ReturnType<typeof parseClusterConfig<S>>, D>) => Promise<HandlerResponse>,
  env: NodeJS.ProcessEnv = process.env,
): HttpFunction => {
  // Bodies the framework cannot parse are answered as JSON too (see framework-errors.ts).
  if (!answerFrameworkErrorsAsJson(name)) {
    createLogger({ labels: { function: name } }).warn('the functions framework was not found; its own errors keep their default answer', { event: 'function.framework-missing' });
  }
  const instance = once(async () => {
    const runtime = parseConfig(runtimeSpec, env);
    const config = parseClusterConfig(spec, env);
    const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    const kubeConfig = await clusterKubeConfig(config, auth, runtime.GOOGLE_CLOUD_PROJECT);
    return { runtime, config, deps: build(config, kubeConfig, runtime) };
  });
  return async function push(req, res) {
    const startedAt = Date.now();
    let state: Awaited<ReturnType<typeof instance>>;
    try {
      state = await instance();
    } catch (error) {
      createLogger({ labels: { function: name } }).error(`${name} cannot start: configuration or cluster lookup failed`, { event: 'function.misconfigured', error });
      res.status(500).json({ error: 'function not configured' });
      return;
    }
    const cluster = (state.config as unknown as ClusterConfig).KG_CLUSTER_NAME;
    const log = createLogger({
      minSeverity: state.runtime.LOG_LEVEL,
      trace: traceFromHeaders(req.headers, state.runtime.GOOGLE_CLOUD_PROJECT),
      labels: { function: name, cluster },
    });
    let response: HandlerResponse;
    try {
      response = await handle(req.body, { ...state, log, startedAt });
    } catch (error) {
      // The handlers map every known path to a status; this is a bug, answered as JSON and retried.
      log.error(`${name} failed unexpectedly`, { event: 'function.failed', error });
      response = { status: 500, body: { error: 'internal error' } };
    }
    res.status(response.status).json(response.body);
  };
};
