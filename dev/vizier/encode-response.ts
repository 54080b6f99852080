/**
 * Encoders for the server side of the protocol: ExecuteScriptResponse (with RowBatchData in packed
 * or unpacked form), HealthCheckResponse and GetClusterInfoResponse. Used by the client's tests;
 * the client itself only decodes these, so they live beside the local Vizier, not in shared/.
 *
 * @module
 */
import type { Column } from '../../shared/pixie/columns.ts';
import { encodeUuid } from '../../shared/pixie/encode.ts';
import { DataType, type ExecutionStats, type MutationInfo, type RowBatch, type Status, type TableMetadata } from '../../shared/pixie/types.ts';
import { WireType, Writer } from '../../shared/pixie/wire.ts';

/** How repeated scalars are written: packed (proto3's default) or one tag per value. */
export interface BatchEncoding {
  readonly packed?: boolean;
}

const encodeScalars = (
  values: ArrayLike<number | bigint>,
  packed: boolean,
  wire: number,
  put: (writer: Writer, value: number | bigint) => void,
): Writer => {
  const out = new Writer();
  if (packed) {
    const run = new Writer();
    for (let i = 0; i < values.length; i++) {
      put(run, values[i] as number | bigint);
    }
    const bytes = run.finish();
    return bytes.length === 0 ? out : out.tag(1, WireType.LEN).rawUint32(bytes.length).raw(bytes);
  }
  for (let i = 0; i < values.length; i++) {
    out.tag(1, wire);
    put(out, values[i] as number | bigint);
  }
  return out;
};

const putDouble = (writer: Writer, value: number | bigint): void => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, Number(value), true);
  writer.raw(bytes);
};

/** Serializes one px.api.vizierpb.Column (its oneof field number is its DataType's column slot). */
export const encodeColumn = (column: Column, encoding: BatchEncoding = {}): Writer => {
  const packed = encoding.packed ?? true;
  const out = new Writer();
  switch (column.type) {
    case DataType.BOOLEAN:
      return out.message(1, encodeScalars(column.values, packed, WireType.VARINT, (w, v) => w.rawUint32(Number(v))));
    case DataType.INT64:
    case DataType.TIME64NS:
      return out.message(
        column.type === DataType.INT64 ? 2 : 4,
        encodeScalars(column.values, packed, WireType.VARINT, (w, v) => w.rawVarint64(BigInt(v))),
      );
    case DataType.FLOAT64:
      return out.message(5, encodeScalars(column.values, packed, WireType.FIXED64, putDouble));
    case DataType.UINT128: {
      const inner = new Writer();
      for (let i = 0; i < column.length; i++) {
        inner.message(1, new Writer().int64(1, column.low[i] as bigint).int64(2, column.high[i] as bigint));
      }
      return out.message(3, inner);
    }
    default: {
      const inner = new Writer();
      for (let i = 0; i < column.length; i++) {
        inner.bytes(1, column.raw(i), true);
      }
      return out.message(6, inner);
    }
  }
};

/** Serializes a px.api.vizierpb.RowBatchData. */
export const encodeRowBatch = (batch: RowBatch, encoding: BatchEncoding = {}): Uint8Array => {
  const out = new Writer();
  for (const column of batch.cols) {
    out.message(1, encodeColumn(column, encoding));
  }
  return out.int64(2, batch.numRows).bool(3, batch.eow).bool(4, batch.eos).string(5, batch.tableId).finish();
};

/** Serializes a px.api.vizierpb.Status. */
export const encodeStatus = (status: Partial<Status>): Writer => {
  const out = new Writer().int32(1, status.code ?? 0).string(2, status.message ?? '');
  for (const error of status.compilerErrors ?? []) {
    const compilerError = new Writer().int64(1, error.line).int64(2, error.column).string(3, error.message);
    out.message(4, new Writer().message(1, compilerError));
  }
  return out;
};

const encodeMetadata = (meta: TableMetadata): Writer => {
  const relation = new Writer();
  for (const column of meta.columns) {
    relation.message(
      1,
      new Writer()
        .string(1, column.name)
        .uint32(2, column.type)
        .string(3, column.description)
        .uint32(4, column.semanticType),
    );
  }
  return new Writer().message(1, relation).string(2, meta.name).string(3, meta.id);
};

const encodeStats = (stats: ExecutionStats): Writer =>
  new Writer()
    .message(1, new Writer().int64(1, stats.executionTimeNs).int64(2, stats.compilationTimeNs))
    .int64(2, stats.bytesProcessed)
    .int64(3, stats.recordsProcessed);

const encodeMutationInfo = (info: MutationInfo): Writer => {
  const out = new Writer();
  if (info.status) {
    out.message(1, encodeStatus(info.status));
  }
  for (const state of info.states) {
    out.message(2, new Writer().string(1, state.id).uint32(2, state.state).string(3, state.name));
  }
  return out;
};

/** What one ExecuteScriptResponse carries; set at most one of metaData / data parts. */
export interface ExecuteScriptResponseInit {
  readonly queryId: string;
  readonly status?: Partial<Status>;
  readonly metaData?: TableMetadata;
  readonly batch?: RowBatch;
  /** An already serialized RowBatchData, sent as is (for servers that pre-encode). */
  readonly batchBytes?: Uint8Array;
  readonly encryptedBatch?: Uint8Array;
  readonly executionStats?: ExecutionStats;
  readonly mutationInfo?: MutationInfo;
  readonly encoding?: BatchEncoding;
}

/** Serializes a px.api.vizierpb.ExecuteScriptResponse. */
export const encodeExecuteScriptResponse = (init: ExecuteScriptResponseInit): Uint8Array => {
  const out = new Writer();
  if (init.status) {
    out.message(1, encodeStatus(init.status));
  }
  out.string(2, init.queryId);
  const hasData = init.batch ?? init.batchBytes ?? init.encryptedBatch ?? init.executionStats;
  if (hasData !== undefined) {
    const data = new Writer();
    const batchBytes = init.batchBytes ?? (init.batch ? encodeRowBatch(init.batch, init.encoding) : undefined);
    if (batchBytes) {
      data.bytes(1, batchBytes, true);
    }
    if (init.executionStats) {
      data.message(2, encodeStats(init.executionStats));
    }
    if (init.encryptedBatch) {
      data.bytes(3, init.encryptedBatch, true);
    }
    out.message(3, data);
  } else if (init.metaData) {
    out.message(4, encodeMetadata(init.metaData));
  }
  if (init.mutationInfo) {
    out.message(5, encodeMutationInfo(init.mutationInfo));
  }
  return out.finish();
};

/** Serializes a px.api.vizierpb.HealthCheckResponse. */
export const encodeHealthCheckResponse = (status: Partial<Status>): Uint8Array =>
  new Writer().message(1, encodeStatus(status)).finish();

/** The ClusterInfo fields a test server reports. */
export interface ClusterInfoInit {
  readonly id: string;
  readonly status: number;
  readonly clusterName?: string;
  readonly prettyClusterName?: string;
  readonly clusterVersion?: string;
  readonly vizierVersion?: string;
  readonly operatorVersion?: string;
  readonly numNodes?: number;
  readonly numInstrumentedNodes?: number;
  readonly statusMessage?: string;
  readonly lastHeartbeatNs?: number;
}

/** Serializes a px.cloudapi.GetClusterInfoResponse. */
export const encodeGetClusterInfoResponse = (clusters: readonly ClusterInfoInit[]): Uint8Array => {
  const out = new Writer();
  for (const cluster of clusters) {
    out.message(
      1,
      new Writer()
        .message(1, encodeUuid(cluster.id))
        .uint32(2, cluster.status)
        .int64(3, cluster.lastHeartbeatNs ?? 0)
        .string(6, cluster.clusterName ?? '')
        .string(7, cluster.clusterVersion ?? '')
        .string(8, cluster.vizierVersion ?? '')
        .string(9, cluster.prettyClusterName ?? '')
        .uint32(11, cluster.numNodes ?? 0)
        .uint32(12, cluster.numInstrumentedNodes ?? 0)
        .string(13, cluster.statusMessage ?? '')
        .string(17, cluster.operatorVersion ?? ''),
    );
  }
  return out.finish();
};
