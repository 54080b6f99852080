/**
 * `observe-throttle`: HTTP function called by Cloud Scheduler (OIDC checked by the platform).
 * Each run reads the kernel's CFS throttling counters through Pixie for the window since the
 * previous scheduled run, analyses them and publishes `cpu.throttle` findings. The core is
 * `shared/observe/observe-throttle.ts`; HTTP semantics are `shared/observe/handler.ts`.
 *
 * @module
 */
import * as ff from '@google-cloud/functions-framework';
import { PubSub } from '@google-cloud/pubsub';
import { parseConfig, secretValues } from '../../shared/config.ts';
import { createFindingPublisher } from '../../shared/findings/publisher.ts';
import { once, requestDeadline } from '../../shared/instance.ts';
import { createLogger, registerSecrets, traceFromHeaders } from '../../shared/log.ts';
import { observeSpec } from '../../shared/observe/config.ts';
import { handleObserve } from '../../shared/observe/handler.ts';
import { observeThrottle as observe } from '../../shared/observe/observe-throttle.ts';
import { createPixieClient } from '../../shared/pixie/client.ts';
import { pixieClientOptions } from '../../shared/pixie/config.ts';
import { embeddedScriptReader } from '../../shared/pxl/embedded.ts';
import { loadScript } from '../../shared/pxl/scripts.ts';

const instance = once(async () => {
  const config = parseConfig(observeSpec, process.env);
  registerSecrets(secretValues(observeSpec, config));
  return {
    config,
    pixie: createPixieClient(pixieClientOptions(config)),
    script: await loadScript('cpu_throttle', embeddedScriptReader),
    publisher: createFindingPublisher({ pubsub: new PubSub(), topicName: config.FINDINGS_TOPIC, timeoutMs: config.FUNCTION_TIMEOUT_SECONDS * 1000 }),
  };
});

export const observeThrottle: ff.HttpFunction = async (req, res) => {
  const startedAt = Date.now();
  let deps: Awaited<ReturnType<typeof instance>>;
  try {
    deps = await instance();
  } catch (error) {
    createLogger({ labels: { function: 'observe-throttle' } }).error('observe-throttle cannot start: configuration is invalid', {
      event: 'function.misconfigured',
      error,
    });
    res.status(500).json({ error: 'function not configured' });
    return;
  }
  const { config } = deps;
  const log = createLogger({
    minSeverity: config.LOG_LEVEL,
    trace: traceFromHeaders(req.headers, config.GOOGLE_CLOUD_PROJECT),
    labels: { function: 'observe-throttle', cluster: config.KG_CLUSTER_NAME },
  });
  const deadline = requestDeadline(startedAt, config.FUNCTION_TIMEOUT_SECONDS);
  const response = await handleObserve(req, {
    script: 'cpu_throttle',
    log,
    now: new Date(startedAt),
    defaultWindowSeconds: config.OBSERVE_WINDOW_SECONDS,
    deadline,
    run: async (window) => {
      const report = await observe(window, {
        pixie: deps.pixie,
        script: deps.script,
        publisher: deps.publisher,
        log,
        cluster: config.KG_CLUSTER_NAME,
        source: config.KG_KERNEL_SOURCE,
        namespaces: config.KG_NAMESPACES,
      }, { deadline });
      return {
        findings: report.findings,
        published: report.publish.published.length,
        failed: report.publish.failed.length,
        containers: report.containers,
        windows: report.windows,
      };
    },
  });
  res.status(response.status).json(response.body);
};

ff.http('observe-throttle', observeThrottle);
