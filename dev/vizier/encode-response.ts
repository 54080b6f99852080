/**
 * Encoders for the server side of the protocol: ExecuteScriptResponse (with RowBatchData in packed
 * or unpacked form), HealthCheckResponse and GetClusterInfoResponse, written by the generated codec
 * (shared/pixie/generated). Used by the client's tests; the client itself only decodes these, so
 * they live beside the local Vizier, not in shared/.
 *
 * @module
 */
import { clone, create, createFileRegistry, type DescMessage, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { Column } from '../../shared/pixie/columns.ts';
import { uuidMessage } from '../../shared/pixie/encode.ts';
import { ExecuteScriptResponseBatchBytesSchema } from '../../shared/pixie/generated/batch_bytes_pb.js';
import { ClusterStatus, GetClusterInfoResponseSchema } from '../../shared/pixie/generated/cloudapi_pb.js';
import {
  type ColumnSchema,
  DataType as WireDataType,
  file_vizierapi,
  HealthCheckResponseSchema,
  LifeCycleState,
  type QueryExecutionStatsSchema,
  type QueryMetadataSchema,
  RowBatchDataSchema,
  SemanticType,
  type StatusSchema,
} from '../../shared/pixie/generated/vizierapi_pb.js';
import { DataType, type ExecutionStats, type MutationInfo, type RowBatch, type Status, type TableMetadata } from '../../shared/pixie/types.ts';

/**
 * A wire number as a generated enum type. The client's shapes (shared/pixie/types.ts) keep enum
 * values as the numbers on the wire, and proto3 enums are open (any int32 is a valid value, kept as
 * is: protobuf language guide, "Enums"), so every number is a value of the enum.
 */
export const openEnum = <E extends number>(_values: Readonly<Record<string, E | string>>, value: number): E => value as E;

/** How repeated scalars are written: packed (proto3's default) or one tag per value. */
export interface BatchEncoding {
  readonly packed?: boolean;
}

/**
 * px.api.vizierpb.RowBatchData as described with `[packed = false]` on every repeated scalar: the
 * same messages, written one tag per value (a form decoders must accept, protobuf encoding guide,
 * "Packed Repeated Fields"). Built from the generated file's own descriptor, so no field number is
 * repeated here.
 */
const unpackedRowBatchData = ((): DescMessage => {
  const file = clone(FileDescriptorProtoSchema, file_vizierapi.proto);
  for (const message of file.messageType) {
    for (const field of message.field) {
      const scalar = field.type !== FieldDescriptorProto_Type.MESSAGE && field.type !== FieldDescriptorProto_Type.STRING && field.type !== FieldDescriptorProto_Type.BYTES;
      if (field.label === FieldDescriptorProto_Label.REPEATED && scalar) {
        field.options = { ...field.options, packed: false } as typeof field.options;
      }
    }
  }
  const found = createFileRegistry(file, () => undefined).getMessage(RowBatchDataSchema.typeName);
  if (found === undefined) {
    throw new Error(`${RowBatchDataSchema.typeName} missing from its own file descriptor`);
  }
  return found;
})();

const columnMessage = (column: Column): MessageInitShape<typeof ColumnSchema> => {
  switch (column.type) {
    case DataType.BOOLEAN:
      return { colData: { case: 'booleanData', value: { data: Array.from(column.values, (value) => value !== 0) } } };
    case DataType.INT64:
      return { colData: { case: 'int64Data', value: { data: Array.from(column.values) } } };
    case DataType.TIME64NS:
      return { colData: { case: 'time64nsData', value: { data: Array.from(column.values) } } };
    case DataType.FLOAT64:
      return { colData: { case: 'float64Data', value: { data: Array.from(column.values) } } };
    case DataType.UINT128:
      return {
        colData: {
          case: 'uint128Data',
          value: { data: Array.from({ length: column.length }, (_, i) => ({ low: column.low[i] ?? 0n, high: column.high[i] ?? 0n })) },
        },
      };
    default:
      return { colData: { case: 'stringData', value: { data: Array.from({ length: column.length }, (_, i) => column.raw(i)) } } };
  }
};

/** Serializes a px.api.vizierpb.RowBatchData. */
export const encodeRowBatch = (batch: RowBatch, encoding: BatchEncoding = {}): Uint8Array => {
  const message = create(RowBatchDataSchema, {
    cols: batch.cols.map(columnMessage),
    numRows: BigInt(batch.numRows),
    eow: batch.eow,
    eos: batch.eos,
    tableId: batch.tableId,
  });
  return encoding.packed === false ? toBinary(unpackedRowBatchData, message) : toBinary(RowBatchDataSchema, message);
};

/** A px.api.vizierpb.Status. */
export const statusMessage = (status: Partial<Status>): MessageInitShape<typeof StatusSchema> => ({
  code: status.code ?? 0,
  message: status.message ?? '',
  errorDetails: (status.compilerErrors ?? []).map((error) => ({
    error: { case: 'compilerError', value: { line: BigInt(error.line), column: BigInt(error.column), message: error.message } },
  })),
});

const metadataMessage = (meta: TableMetadata): MessageInitShape<typeof QueryMetadataSchema> => ({
  relation: {
    columns: meta.columns.map((column) => ({
      columnName: column.name,
      columnType: openEnum(WireDataType, column.type),
      columnDesc: column.description,
      columnSemanticType: openEnum(SemanticType, column.semanticType),
    })),
  },
  name: meta.name,
  id: meta.id,
});

const statsMessage = (stats: ExecutionStats): MessageInitShape<typeof QueryExecutionStatsSchema> => ({
  timing: { executionTimeNs: BigInt(stats.executionTimeNs), compilationTimeNs: BigInt(stats.compilationTimeNs) },
  bytesProcessed: BigInt(stats.bytesProcessed),
  recordsProcessed: BigInt(stats.recordsProcessed),
});

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

const resultOf = (init: ExecuteScriptResponseInit): NonNullable<MessageInitShape<typeof ExecuteScriptResponseBatchBytesSchema>['result']> => {
  const batch = init.batchBytes ?? (init.batch && encodeRowBatch(init.batch, init.encoding));
  if (batch !== undefined || init.encryptedBatch !== undefined || init.executionStats !== undefined) {
    return {
      case: 'data',
      value: {
        ...(batch && { batch }),
        ...(init.encryptedBatch && { encryptedBatch: init.encryptedBatch }),
        ...(init.executionStats && { executionStats: statsMessage(init.executionStats) }),
      },
    };
  }
  return init.metaData ? { case: 'metaData', value: metadataMessage(init.metaData) } : { case: undefined };
};

/** Serializes a px.api.vizierpb.ExecuteScriptResponse (the batch-as-bytes variant: same wire). */
export const encodeExecuteScriptResponse = (init: ExecuteScriptResponseInit): Uint8Array =>
  toBinary(
    ExecuteScriptResponseBatchBytesSchema,
    create(ExecuteScriptResponseBatchBytesSchema, {
      ...(init.status && { status: statusMessage(init.status) }),
      queryId: init.queryId,
      result: resultOf(init),
      ...(init.mutationInfo && {
        mutationInfo: {
          ...(init.mutationInfo.status && { status: statusMessage(init.mutationInfo.status) }),
          states: init.mutationInfo.states.map(({ id, state, name }) => ({ id, state: openEnum(LifeCycleState, state), name })),
        },
      }),
    }),
  );

/** Serializes a px.api.vizierpb.HealthCheckResponse. */
export const encodeHealthCheckResponse = (status: Partial<Status>): Uint8Array =>
  toBinary(HealthCheckResponseSchema, create(HealthCheckResponseSchema, { status: statusMessage(status) }));

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
export const encodeGetClusterInfoResponse = (clusters: readonly ClusterInfoInit[]): Uint8Array =>
  toBinary(
    GetClusterInfoResponseSchema,
    create(GetClusterInfoResponseSchema, {
      clusters: clusters.map((cluster) => ({
        id: uuidMessage(cluster.id),
        status: openEnum(ClusterStatus, cluster.status),
        lastHeartbeatNs: BigInt(cluster.lastHeartbeatNs ?? 0),
        clusterName: cluster.clusterName ?? '',
        clusterVersion: cluster.clusterVersion ?? '',
        vizierVersion: cluster.vizierVersion ?? '',
        prettyClusterName: cluster.prettyClusterName ?? '',
        numNodes: cluster.numNodes ?? 0,
        numInstrumentedNodes: cluster.numInstrumentedNodes ?? 0,
        statusMessage: cluster.statusMessage ?? '',
        operatorVersion: cluster.operatorVersion ?? '',
      })),
    }),
  );
