/**
 * Decoders for the Pixie responses this client reads: ExecuteScriptResponse, HealthCheckResponse
 * and GetClusterInfoResponse. The generated codec (`generated/`, from the proto text in `proto/`)
 * reads the messages; this module only maps them to the client's shapes (`types.ts`). Row batches
 * arrive as bytes (`ExecuteScriptResponseBatchBytes`, wire-compatible with ExecuteScriptResponse)
 * and go to the hand-written columnar decoder, the one hot path.
 *
 * @module
 */
import { fromBinary } from '@bufbuild/protobuf';
import { decodeRowBatch } from './decode-batch.ts';
import { ExecuteScriptResponseBatchBytesSchema } from './generated/batch_bytes_pb.js';
import type * as cloud from './generated/cloudapi_pb.js';
import { GetClusterInfoResponseSchema } from './generated/cloudapi_pb.js';
import type * as vizier from './generated/vizierapi_pb.js';
import { HealthCheckResponseSchema } from './generated/vizierapi_pb.js';
import {
  ClusterStatus,
  type ClusterInfo,
  type CompilerError,
  type ExecuteScriptResponse,
  type ExecutionStats,
  type MutationInfo,
  type PodStatus,
  type Status,
  type TableMetadata,
  enumName,
} from './types.ts';
import { uint128ToUuid } from './uint128.ts';

const toStatus = (status: vizier.Status): Status => {
  const compilerErrors: CompilerError[] = [];
  for (const details of status.errorDetails) {
    if (details.error.case === 'compilerError') {
      const { line, column, message } = details.error.value;
      compilerErrors.push({ line: Number(line), column: Number(column), message });
    }
  }
  return { code: status.code, message: status.message, compilerErrors };
};

const toMetadata = (meta: vizier.QueryMetadata): TableMetadata => ({
  id: meta.id,
  name: meta.name,
  columns: (meta.relation?.columns ?? []).map((column) => ({
    name: column.columnName,
    type: column.columnType,
    description: column.columnDesc,
    semanticType: column.columnSemanticType,
  })),
});

const toStats = (stats: vizier.QueryExecutionStats): ExecutionStats => ({
  executionTimeNs: Number(stats.timing?.executionTimeNs ?? 0n),
  compilationTimeNs: Number(stats.timing?.compilationTimeNs ?? 0n),
  bytesProcessed: Number(stats.bytesProcessed),
  recordsProcessed: Number(stats.recordsProcessed),
});

const toMutationInfo = (info: vizier.MutationInfo): MutationInfo => ({
  status: info.status && toStatus(info.status),
  states: info.states.map(({ id, state, name }) => ({ id, state, name })),
});

/** Decodes one px.api.vizierpb.ExecuteScriptResponse. */
export const decodeExecuteScriptResponse = (bytes: Uint8Array): ExecuteScriptResponse => {
  const response = fromBinary(ExecuteScriptResponseBatchBytesSchema, bytes);
  const { result } = response;
  const data = result.case === 'data' ? result.value : undefined;
  return {
    queryId: response.queryId,
    status: response.status && toStatus(response.status),
    metaData: result.case === 'metaData' ? toMetadata(result.value) : undefined,
    batch: data?.batch && decodeRowBatch(data.batch),
    encryptedBatch: data?.encryptedBatch,
    executionStats: data?.executionStats && toStats(data.executionStats),
    mutationInfo: response.mutationInfo && toMutationInfo(response.mutationInfo),
  };
};

/** Decodes a px.api.vizierpb.HealthCheckResponse to its status (undefined when absent). */
export const decodeHealthCheckResponse = (bytes: Uint8Array): Status | undefined => {
  const { status } = fromBinary(HealthCheckResponseSchema, bytes);
  return status && toStatus(status);
};

const toPodStatuses = (pods: Readonly<Record<string, cloud.PodStatus>>): Record<string, PodStatus> =>
  Object.fromEntries(
    Object.entries(pods).map(([key, pod]) => [
      key,
      { name: pod.name, status: pod.status, statusMessage: pod.statusMessage, reason: pod.reason, restartCount: Number(pod.restartCount) },
    ]),
  );

const toClusterInfo = (cluster: cloud.ClusterInfo): ClusterInfo => ({
  id: cluster.id ? uint128ToUuid(cluster.id.highBits, cluster.id.lowBits) : '',
  status: cluster.status,
  statusName: enumName(ClusterStatus, cluster.status),
  lastHeartbeatNs: Number(cluster.lastHeartbeatNs),
  passthroughEnabled: cluster.config?.passthroughEnabled ?? false,
  clusterUid: cluster.clusterUid,
  clusterName: cluster.clusterName,
  clusterVersion: cluster.clusterVersion,
  vizierVersion: cluster.vizierVersion,
  prettyClusterName: cluster.prettyClusterName,
  numNodes: cluster.numNodes,
  numInstrumentedNodes: cluster.numInstrumentedNodes,
  statusMessage: cluster.statusMessage,
  previousStatus: cluster.previousStatus,
  operatorVersion: cluster.operatorVersion,
  controlPlanePodStatuses: toPodStatuses(cluster.controlPlanePodStatuses),
  unhealthyDataPlanePodStatuses: toPodStatuses(cluster.unhealthyDataPlanePodStatuses),
});

/** Decodes a px.cloudapi.GetClusterInfoResponse. */
export const decodeGetClusterInfoResponse = (bytes: Uint8Array): ClusterInfo[] =>
  fromBinary(GetClusterInfoResponseSchema, bytes).clusters.map(toClusterInfo);
