/**
 * `remediate`: HTTP function behind the Terraform-owned push subscription of the findings topic.
 * Raises CPU limits of opted-in workloads within the policy, reports every decision as a
 * `remediation.result` finding and an Event. The core is `shared/kube/remediate-push.ts`.
 *
 * @module
 */
import * as ff from '@google-cloud/functions-framework';
import { PubSub } from '@google-cloud/pubsub';
import { createFindingPublisher } from '../../shared/findings/publisher.ts';
import { policyFromConfig, remediationSpec } from '../../shared/kube/config.ts';
import { pushFunction } from '../../shared/kube/push-function.ts';
import { handleRemediatePush } from '../../shared/kube/remediate-push.ts';
import { createRemediator } from '../../shared/kube/remediator.ts';

export const remediate: ff.HttpFunction = pushFunction(
  'remediate',
  remediationSpec,
  (config, kubeConfig, runtime) => ({
    remediator: createRemediator({ kubeConfig, operator: policyFromConfig(config), reportingInstance: runtime.K_REVISION ?? 'local' }),
    publisher: createFindingPublisher({ pubsub: new PubSub(), topicName: config.FINDINGS_TOPIC, timeoutMs: runtime.FUNCTION_TIMEOUT_SECONDS * 1000 }),
  }),
  (body, { deps, log, config, deadline }) =>
    handleRemediatePush(body, {
      ...deps,
      log,
      mode: config.REMEDIATION_MODE,
      cluster: config.KG_CLUSTER_NAME,
      maxEvidenceAgeMs: config.REMEDIATION_MAX_EVIDENCE_AGE,
      now: () => new Date(),
      deadline,
    }),
);

ff.http('remediate', remediate);
