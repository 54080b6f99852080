/**
 * The `record` core: one Pub/Sub push in, one object upserted. Malformed pushes and objects the
 * API server refuses for good are acknowledged with an error log, findings about another cluster
 * with a warning and nothing written; a transient failure answers 503 so Pub/Sub redelivers.
 *
 * @module
 */
import { acknowledgeRejected, parsePushBody } from '../findings/push.ts';
import type { Logger } from '../log.ts';
import type { Recorder } from './recorder.ts';
import type { JsonAnswer } from '../http-function.ts';
import { TransientKubeError } from './remediator.ts';

export interface RecordPushDeps {
  readonly recorder: Recorder;
  /** This cluster's name (KG_CLUSTER_NAME): findings about another cluster are not this cluster's record. */
  readonly cluster: string;
  readonly log: Logger;
  /** When the push must be answered by: no Kubernetes call outlives it. */
  readonly deadline: Date;
}

export const handleRecordPush = async (body: unknown, deps: RecordPushDeps): Promise<JsonAnswer> => {
  const parsed = parsePushBody(body);
  if (!parsed.ok) {
    return acknowledgeRejected(deps.log, parsed);
  }
  const { finding, messageId, deliveryAttempt } = parsed.delivery;
  const log = deps.log.child(
    { findingId: finding.id, namespace: finding.namespace, workload: `${finding.workload.kind}/${finding.workload.name}` },
    { messageId, kind: finding.kind, ...(deliveryAttempt === undefined ? {} : { deliveryAttempt }) },
  );
  const foreign =
    finding.cluster !== deps.cluster
      ? `the finding is about cluster ${JSON.stringify(finding.cluster.slice(0, 80))}, this is ${JSON.stringify(deps.cluster)}`
      : finding.kind === 'remediation.result' && finding.remediation.refusal === 'foreign-cluster'
        ? 'the decision refuses a finding about another cluster'
        : undefined;
  if (foreign !== undefined) {
    // A topic shared by several clusters, or remediate's refusal of a foreign finding (the result
    // names this cluster but the workload is another cluster's): writing it would overwrite this
    // cluster's object of the same name with another cluster's evidence or decision.
    log.warn(`not recorded: ${foreign}`, { event: 'record.foreign_cluster' });
    return { status: 200, body: { acknowledged: true, skipped: 'foreign-cluster' } };
  }
  try {
    const report = await deps.recorder.record(finding, { deadline: deps.deadline });
    if (report.outcome === 'rejected') {
      log.error(`the API server refused ${report.object}`, { event: 'record.rejected', reason: report.reason });
      return { status: 200, body: { acknowledged: true, rejected: report.reason } };
    }
    log.info(`recorded ${report.object}`, { event: 'record.upserted', object: report.object });
    return { status: 200, body: { recorded: report.object } };
  } catch (error) {
    if (error instanceof TransientKubeError) {
      log.warn('recording failed for now; Pub/Sub will redeliver', { event: 'record.retry', error, status: error.status });
      return { status: 503, body: { error: 'kubernetes api unavailable' } };
    }
    log.error('recording failed unexpectedly', { event: 'record.retry', error });
    return { status: 500, body: { error: 'internal error' } };
  }
};
