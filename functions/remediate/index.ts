/**
 * `remediate`: HTTP function behind the Terraform-owned push subscription of the findings topic.
 * Raises CPU limits of opted-in workloads within the policy, reports every decision as a
 * `remediation.result` finding and an Event. The core is `shared/kube/remediate-push.ts`.
 *
 * @module
 */
import * as ff from '@google-cloud/functions-framework';
import { PubSub } from '@google-cloud/pubsub';
import { GoogleAuth } from 'google-auth-library';
import { createFindingPublisher } from '../../shared/findings/publisher.ts';
import { once, requestDeadline } from '../../shared/instance.ts';
import { parseClusterConfig, policyFromConfig, remediationSpec } from '../../shared/kube/config.ts';
import { clusterKubeConfig } from '../../shared/kube/cluster.ts';
import { handleRemediatePush } from '../../shared/kube/remediate-push.ts';
import { createRemediator } from '../../shared/kube/remediator.ts';
import { createLogger, traceFromHeaders } from '../../shared/log.ts';
import { runtimeSpec } from '../../shared/runtime.ts';
import { parseConfig } from '../../shared/config.ts';

const instance = once(async () => {
  const runtime = parseConfig(runtimeSpec, process.env);
  const config = parseClusterConfig(remediationSpec, process.env);
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  const kubeConfig = await clusterKubeConfig(config, auth, runtime.GOOGLE_CLOUD_PROJECT);
  return {
    runtime,
    config,
    remediator: createRemediator({ kubeConfig, operator: policyFromConfig(config), reportingInstance: runtime.K_REVISION ?? 'local' }),
    publisher: createFindingPublisher({ pubsub: new PubSub(), topicName: config.FINDINGS_TOPIC, timeoutMs: runtime.FUNCTION_TIMEOUT_SECONDS * 1000 }),
  };
});

export const remediate: ff.HttpFunction = async (req, res) => {
  const startedAt = Date.now();
  const base = createLogger({ labels: { function: 'remediate' } });
  let deps: Awaited<ReturnType<typeof instance>>;
  try {
    deps = await instance();
  } catch (error) {
    base.error('remediate cannot start: configuration or cluster lookup failed', { event: 'function.misconfigured', error });
    res.status(500).json({ error: 'function not configured' });
    return;
  }
  const log = createLogger({
    minSeverity: deps.runtime.LOG_LEVEL,
    trace: traceFromHeaders(req.headers, deps.runtime.GOOGLE_CLOUD_PROJECT),
    labels: { function: 'remediate', cluster: deps.config.KG_CLUSTER_NAME },
  });
  const response = await handleRemediatePush(req.body, {
    remediator: deps.remediator,
    publisher: deps.publisher,
    log,
    mode: deps.config.REMEDIATION_MODE,
    now: () => new Date(),
    deadline: requestDeadline(startedAt, deps.runtime.FUNCTION_TIMEOUT_SECONDS),
  });
  res.status(response.status).json(response.body);
};

ff.http('remediate', remediate);
