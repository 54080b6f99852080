/**
 * The `remediate` core: one Pub/Sub push in, one decision out, published as a
 * `remediation.result` finding, and an HTTP status that tells Pub/Sub whether to redeliver.
 *
 * - malformed or schema-violating push: 2xx (acknowledged; redelivery could never help), logged
 *   with the reason as event `push.rejected`;
 * - findings other than `cpu.throttle`: 2xx, nothing to do;
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
import type { RemediationFinding, ThrottleFinding } from '../findings/types.ts';
import type { Logger } from '../log.ts';
import type { RemediationReport, Remediator } from './remediator.ts';
import { TransientKubeError } from './remediator.ts';

export interface HandlerResponse {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface RemediatePushDeps {
  readonly remediator: Remediator;
  readonly publisher: FindingPublisher;
  readonly log: Logger;
  readonly mode: 'off' | 'recommend' | 'apply';
  readonly now: () => Date;
  readonly deadline: Date;
}

/** The `remediation.result` finding that reports one decision. */
export const resultFinding = (finding: ThrottleFinding, report: RemediationReport, mode: RemediatePushDeps['mode'], now: Date): RemediationFinding => {
  const plan = report.plan;
  const remediation = {
    findingId: finding.id,
    outcome: report.outcome,
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
    id: stableId('remediation.result', { findingId: finding.id, outcome: report.outcome, to: plan?.toLimitMillicores, workload }),
    cluster: finding.cluster,
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
export const handleRemediatePush = async (body: unknown, deps: RemediatePushDeps): Promise<HandlerResponse> => {
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
    log.debug('not a throttle finding; nothing to remediate', { event: 'push.ignored', kind: finding.kind });
    return { status: 200, body: { acknowledged: true, ignored: finding.kind } };
  }
  let report: RemediationReport;
  try {
    report = await deps.remediator.remediate(finding);
  } catch (error) {
    if (error instanceof TransientKubeError) {
      log.warn('Kubernetes API unavailable; Pub/Sub will redeliver', { event: 'remediation.retry', error, status: error.status });
      return { status: 503, body: { error: 'kubernetes api unavailable' } };
    }
    log.error('remediation failed unexpectedly', { event: 'remediation.retry', error });
    return { status: 500, body: { error: 'internal error' } };
  }
  const result = resultFinding(finding, report, deps.mode, deps.now());
  const published = await deps.publisher.publish([result], { deadline: deps.deadline });
  log[report.outcome === 'failed' || report.outcome === 'conflict' ? 'warn' : 'info'](`remediation ${report.outcome}: ${report.reason}`, {
    event: 'remediation.decided',
    outcome: report.outcome,
    kind: finding.kind,
    severity: result.severity,
    resultId: result.id,
    fromLimitMillicores: report.plan?.fromLimitMillicores,
    toLimitMillicores: report.plan?.toLimitMillicores,
    podsResized: report.podsResized,
    notes: report.notes,
  });
  if (published.failed.length > 0) {
    log.error('publishing the remediation result failed; Pub/Sub will redeliver', { event: 'publish.failed', error: published.failed[0] });
    return { status: 503, body: { error: 'result not published' } };
  }
  return { status: 200, body: { outcome: report.outcome, resultId: result.id } };
};
