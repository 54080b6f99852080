/**
 * The `remediate` core: one Pub/Sub push in, one decision out, published as a
 * `remediation.result` finding, and an HTTP status that tells Pub/Sub whether to redeliver.
 *
 * - malformed or schema-violating push: 2xx (acknowledged; redelivery could never help), logged
 *   with the reason as event `push.rejected`;
 * - findings other than `cpu.throttle`: 2xx, nothing to do, logged as event `push.ignored` (the
 *   subscription's filter on the `kind` attribute keeps them away; a push without it still gets an answer);
 * - a throttle finding whose evidence is not admitted (`admission.ts`: another cluster, a window
 *   in the future or too old, a name Kubernetes would refuse): a `remediation.result` with the
 *   refusal, logged as event `remediation.refused`, 2xx, and not one request to the API server;
 * - a decision (applied, recommended, skipped, conflict, failed on 403/404): published, logged as
 *   event `remediation.decided`, 2xx;
 * - the API server unreachable, 5xx or 429, or the result not published: 5xx, so Pub/Sub
 *   redelivers (the annotation of the finding id makes the redelivery act at most once).
 *
 * @module
 */
import { stableId } from '../findings/codec.ts';
import type { FindingPublisher } from '../findings/publisher.ts';
import { acknowledgeRejected, parsePushBody } from '../findings/push.ts';
import { FINDING_SCHEMA_VERSION } from '../findings/schema.ts';
import type { Refusal, RemediationFinding, ThrottleFinding } from '../findings/types.ts';
import type { JsonAnswer } from '../http-function.ts';
import type { Logger } from '../log.ts';
import { admitFinding } from './admission.ts';
import type { RemediationReport, Remediator } from './remediator.ts';
import { TransientKubeError } from './remediator.ts';

export interface RemediatePushDeps {
  readonly remediator: Remediator;
  readonly publisher: FindingPublisher;
  readonly log: Logger;
  readonly mode: 'off' | 'recommend' | 'apply';
  /** This cluster's name (`KG_CLUSTER_NAME`): the only one acted on, and the one results name. */
  readonly cluster: string;
  /** Oldest window end acted on, as an age (`REMEDIATION_MAX_EVIDENCE_AGE`). */
  readonly maxEvidenceAgeMs: number;
  readonly now: () => Date;
  readonly deadline: Date;
}

/**
 * The `remediation.result` finding that reports one decision. It names the cluster of the
 * remediator that decided, so a refusal of another cluster's finding on a shared topic is never
 * read as that cluster's decision.
 */
export const resultFinding = (finding: ThrottleFinding, report: RemediationReport, deps: Pick<RemediatePushDeps, 'mode' | 'cluster'>, now: Date, refusal?: Refusal): RemediationFinding => {
  const plan = report.plan;
  const mode = deps.mode;
  const remediation = {
    findingId: finding.id,
    outcome: report.outcome,
    ...(refusal === undefined ? {} : { refusal }),
    reason: [report.reason, ...report.notes].join('; ').slice(0, 4000),
    mode,
    ...(plan?.fromLimitMillicores === undefined ? {} : { fromLimitMillicores: plan.fromLimitMillicores }),
    ...(plan?.toLimitMillicores === undefined ? {} : { toLimitMillicores: plan.toLimitMillicores }),
    ...(plan?.patchYaml === undefined ? {} : { patch: plan.patchYaml }),
    ...(report.conflictingManager === undefined ? {} : { conflictingManager: report.conflictingManager }),
    podsResized: report.podsResized,
  } as const;
  const workload = { kind: report.workload.kind, name: report.workload.name, container: finding.workload.container };
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: 'remediation.result',
    id: stableId('remediation.result', { findingId: finding.id, outcome: report.outcome, refusal, to: plan?.toLimitMillicores, workload }),
    cluster: deps.cluster,
    namespace: finding.namespace,
    workload,
    observedWindow: finding.observedWindow,
    severity: report.outcome === 'failed' || report.outcome === 'conflict' ? 'warning' : 'info',
    source: finding.source,
    producedAt: now.toISOString(),
    summary: `${finding.namespace}/${workload.name} ${workload.container}: ${report.outcome}: ${report.reason}`.slice(0, 300),
    remediation,
  };
};

/** Handles one push delivery. Never throws: every path maps to a status. */
export const handleRemediatePush = async (body: unknown, deps: RemediatePushDeps): Promise<JsonAnswer> => {
  const parsed = parsePushBody(body);
  if (!parsed.ok) {
    return acknowledgeRejected(deps.log, parsed);
  }
  const { finding, messageId, deliveryAttempt } = parsed.delivery;
  const log = deps.log.child({ findingId: finding.id, namespace: finding.namespace, workload: `${finding.workload.kind}/${finding.workload.name}` }, {
    messageId,
    ...(deliveryAttempt === undefined ? {} : { deliveryAttempt }),
  });
  if (finding.kind !== 'cpu.throttle') {
    log.info('not a throttle finding; nothing to remediate', { event: 'push.ignored', kind: finding.kind });
    return { status: 200, body: { acknowledged: true, ignored: finding.kind } };
  }
  const admission = admitFinding(finding, { cluster: deps.cluster, maxEvidenceAgeMs: deps.maxEvidenceAgeMs, now: deps.now() });
  if (!admission.admitted) {
    const report: RemediationReport = {
      outcome: 'skipped',
      reason: `refused (${admission.refusal}): ${admission.reason}`,
      plan: undefined,
      workload: { kind: finding.workload.kind, name: finding.workload.name, namespace: finding.namespace },
      podsResized: 0,
      notes: [],
    };
    return publishDecision(finding, report, deps, log, admission.refusal);
  }
  let report: RemediationReport;
  try {
    report = await deps.remediator.remediate(finding, { deadline: deps.deadline });
  } catch (error) {
    if (error instanceof TransientKubeError) {
      log.warn('Kubernetes API unavailable; Pub/Sub will redeliver', { event: 'remediation.retry', error, status: error.status });
      return { status: 503, body: { error: 'kubernetes api unavailable' } };
    }
    log.error('remediation failed unexpectedly', { event: 'remediation.retry', error });
    return { status: 500, body: { error: 'internal error' } };
  }
  return publishDecision(finding, report, deps, log, undefined);
};

/** Publishes the result of one decision (or refusal), logs it, and answers the push. */
const publishDecision = async (finding: ThrottleFinding, report: RemediationReport, deps: RemediatePushDeps, log: Logger, refusal: Refusal | undefined): Promise<JsonAnswer> => {
  const result = resultFinding(finding, report, deps, deps.now(), refusal);
  const published = await deps.publisher.publish([result], { deadline: deps.deadline });
  if (refusal === undefined) {
    log[report.outcome === 'failed' || report.outcome === 'conflict' ? 'warn' : 'info'](`remediation ${report.outcome}: ${report.reason}`, {
      event: 'remediation.decided',
      outcome: report.outcome,
      kind: finding.kind,
      findingSeverity: result.severity,
      resultId: result.id,
      fromLimitMillicores: report.plan?.fromLimitMillicores,
      toLimitMillicores: report.plan?.toLimitMillicores,
      podsResized: report.podsResized,
      notes: report.notes,
    });
  } else {
    // Counted by the remediations_refused log-based metric, by refusal.
    log.warn(`finding refused: ${report.reason}`, {
      event: 'remediation.refused',
      outcome: report.outcome,
      refusal,
      findingCluster: finding.cluster,
      windowEnd: finding.observedWindow.end,
      resultId: result.id,
    });
  }
  if (published.failed.length > 0) {
    log.error('publishing the remediation result failed; Pub/Sub will redeliver', { event: 'publish.failed', error: published.failed[0] });
    return { status: 503, body: { error: 'result not published' } };
  }
  return { status: 200, body: { outcome: report.outcome, ...(refusal === undefined ? {} : { refusal }), resultId: result.id } };
};
