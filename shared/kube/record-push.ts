/**
 * The `record` core: one Pub/Sub push in, one object upserted. Malformed pushes and objects the
 * API server refuses for good are acknowledged with an error log; a transient failure answers
 * 503 so Pub/Sub redelivers.
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
