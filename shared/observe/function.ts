/**
 * The HTTP function both observe entries register, in the shell every function shares
 * (`shared/http-function.ts`): per-instance clients created once (config, Pixie client, the
 * embedded script, the publisher), then per request the observe HTTP semantics of `handler.ts`
 * around the given observe core.
 *
 * @module
 */
import type { HttpFunction } from '@google-cloud/functions-framework';
import { PubSub } from '@google-cloud/pubsub';
import { parseConfig, secretValues } from '../config.ts';
import { createFindingPublisher } from '../findings/publisher.ts';
import { httpFunction } from '../http-function.ts';
import { requestDeadline } from '../instance.ts';
import { registerSecrets } from '../log.ts';
import { createPixieClient } from '../pixie/client.ts';
import { pixieClientOptions } from '../pixie/config.ts';
import { embeddedScriptReader } from '../pxl/embedded.ts';
import { loadScript, type ScriptName } from '../pxl/scripts.ts';
import type { ScheduledFunction } from '../settings.ts';
import { observeSchedule, observeSpec } from './config.ts';
import { handleObserve } from './handler.ts';
import type { ObserveCore } from './types.ts';

/** Builds the HTTP function `name` running `core` over the script `scriptOf` names (fixed, or chosen from the environment). */
export const observeFunction = (
  name: ScheduledFunction,
  scriptOf: ScriptName | ((env: NodeJS.ProcessEnv) => ScriptName),
  core: ObserveCore,
  env: NodeJS.ProcessEnv = process.env,
): HttpFunction =>
  httpFunction({
    name,
    start: async () => {
      const config = parseConfig(observeSpec, env);
      const schedule = observeSchedule(name, config);
      const scriptName = typeof scriptOf === 'string' ? scriptOf : scriptOf(env);
      registerSecrets(secretValues(observeSpec, config));
      const pixie = createPixieClient(pixieClientOptions(config));
      // The end-to-end encryption key (RSA-4096: 0.1-1 s) is generated on libuv's thread pool from
      // instance start, overlapping the host's start-up and the wait for the first request. Only a
      // script run needs it: the client's first run awaits the same key, i.e. what is left of its
      // generation. A failed generation is retried by that run, so it is not lost here.
      pixie.prepare().catch(() => undefined);
      return {
        config,
        schedule,
        pixie,
        script: await loadScript(scriptName, embeddedScriptReader),
        publisher: createFindingPublisher({ pubsub: new PubSub(), topicName: config.FINDINGS_TOPIC, timeoutMs: config.FUNCTION_TIMEOUT_SECONDS * 1000 }),
      };
    },
    // Instance start: build the clients (and start the key) while the host starts, rather than on the first request.
    startEarly: true,
    logging: ({ config }) => ({ level: config.LOG_LEVEL, project: config.GOOGLE_CLOUD_PROJECT, cluster: config.KG_CLUSTER_NAME }),
    handle: (req, { state: deps, log, startedAt }) => {
      const { config } = deps;
      const deadline = requestDeadline(startedAt, config.FUNCTION_TIMEOUT_SECONDS);
      return handleObserve(req, {
        script: deps.script.name,
        log,
        now: new Date(startedAt),
        schedule: deps.schedule,
        deadline,
        run: async (window) => {
          const report = await core(
            window,
            {
              pixie: deps.pixie,
              script: deps.script,
              publisher: deps.publisher,
              log,
              cluster: config.KG_CLUSTER_NAME,
              source: config.KG_KERNEL_SOURCE,
              namespaces: config.KG_NAMESPACES,
              maxRows: config.OBSERVE_MAX_ROWS,
            },
            { deadline },
          );
          return {
            findings: report.findings,
            published: report.publish.published.length,
            failed: report.publish.failed.length,
            containers: report.containers,
            windows: report.windows,
            coverage: report.coverage,
          };
        },
      });
    },
  });
