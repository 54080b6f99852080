/**
 * The HTTP function of `remediate` and `record`, in the shell every function shares
 * (`shared/http-function.ts`): the cluster clients built once per instance from the environment
 * (a failure answers 500 and is logged, so Pub/Sub redelivers after the fix), then one push body
 * handled per request. Bodies the framework itself cannot parse are acknowledged as JSON too.
 *
 * @module
 */
import type { HttpFunction } from '@google-cloud/functions-framework';
import { GoogleAuth } from 'google-auth-library';
import { parseConfig } from '../config.ts';
import { answerFrameworkErrorsAsJson } from '../framework-errors.ts';
import { httpFunction, type JsonAnswer } from '../http-function.ts';
import { requestDeadline } from '../instance.ts';
import { createLogger, type Logger } from '../log.ts';
import { type RuntimeConfig, runtimeSpec } from '../runtime.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { clusterKubeConfig } from './cluster.ts';
import { type ClusterConfig, parseClusterConfig, type clusterSpec } from './config.ts';

export interface PushContext<C, D> {
  readonly runtime: RuntimeConfig;
  readonly config: C;
  readonly deps: D;
  readonly log: Logger;
  readonly startedAt: number;
  /** When the push must be answered by (the function's timeout less a margin): Kubernetes calls and publishing end by then. */
  readonly deadline: Date;
}

/** Builds a push function: `spec` is read once, `build` makes the clients from it and a KubeConfig. */
export const pushFunction = <S extends typeof clusterSpec, D>(
  name: string,
  spec: S,
  build: (config: ReturnType<typeof parseClusterConfig<S>>, kubeConfig: KubeConfig, runtime: RuntimeConfig) => D,
  handle: (body: unknown, context: PushContext<ReturnType<typeof parseClusterConfig<S>>, D>) => Promise<JsonAnswer>,
  env: NodeJS.ProcessEnv = process.env,
): HttpFunction => {
  // Bodies the framework cannot parse are answered as JSON too (see framework-errors.ts).
  if (!answerFrameworkErrorsAsJson(name)) {
    createLogger({ labels: { function: name } }).warn('the functions framework was not found; its own errors keep their default answer', { event: 'function.framework-missing' });
  }
  return httpFunction({
    name,
    start: async () => {
      const runtime = parseConfig(runtimeSpec, env);
      const config = parseClusterConfig(spec, env);
      const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
      const kubeConfig = await clusterKubeConfig(config, auth, runtime.GOOGLE_CLOUD_PROJECT);
      return { runtime, config, deps: build(config, kubeConfig, runtime) };
    },
    logging: ({ runtime, config }) => ({
      level: runtime.LOG_LEVEL,
      project: runtime.GOOGLE_CLOUD_PROJECT,
      cluster: (config as unknown as ClusterConfig).KG_CLUSTER_NAME,
    }),
    handle: (req, { state, log, startedAt }) => handle(req.body, { ...state, log, startedAt, deadline: requestDeadline(startedAt, state.runtime.FUNCTION_TIMEOUT_SECONDS) }),
  });
};
