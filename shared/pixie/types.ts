/**
 * Pixie API enums and decoded message shapes, named after the wire schema in `proto/`.
 * Enums are `as const` objects (numbers as on the wire) plus a name lookup for messages.
 *
 * @module
 */
import type { Column } from './columns.ts';

export { DataType } from './data-type.ts';

/** Semantic types (px.api.vizierpb.SemanticType), complete list. */
export const SemanticType = {
  ST_UNSPECIFIED: 0,
  ST_NONE: 1,
  ST_TIME_NS: 2,
  ST_AGENT_UID: 100,
  ST_ASID: 101,
  ST_UPID: 200,
  ST_SERVICE_NAME: 300,
  ST_POD_NAME: 400,
  ST_POD_PHASE: 401,
  ST_POD_STATUS: 402,
  ST_NODE_NAME: 500,
  ST_CONTAINER_NAME: 600,
  ST_CONTAINER_STATE: 601,
  ST_CONTAINER_STATUS: 602,
  ST_NAMESPACE_NAME: 700,
  ST_BYTES: 800,
  ST_PERCENT: 900,
  ST_DURATION_NS: 901,
  ST_THROUGHPUT_PER_NS: 902,
  ST_THROUGHPUT_BYTES_PER_NS: 903,
  ST_QUANTILES: 1000,
  ST_DURATION_NS_QUANTILES: 1001,
  ST_IP_ADDRESS: 1100,
  ST_PORT: 1200,
  ST_HTTP_REQ_METHOD: 1300,
  ST_HTTP_RESP_STATUS: 1400,
  ST_HTTP_RESP_MESSAGE: 1500,
  ST_SCRIPT_REFERENCE: 3000,
} as const;
export type SemanticType = (typeof SemanticType)[keyof typeof SemanticType];

/** Tracepoint lifecycle (px.api.vizierpb.LifeCycleState). */
export const LifeCycleState = {
  UNKNOWN_STATE: 0,
  PENDING_STATE: 1,
  RUNNING_STATE: 2,
  FAILED_STATE: 3,
  TERMINATED_STATE: 4,
} as const;
export type LifeCycleState = (typeof LifeCycleState)[keyof typeof LifeCycleState];

/** Cluster status as Pixie Cloud reports it (px.cloudapi.ClusterStatus). */
export const ClusterStatus = {
  CS_UNKNOWN: 0,
  CS_HEALTHY: 1,
  CS_UNHEALTHY: 2,
  CS_DISCONNECTED: 3,
  CS_UPDATING: 4,
  CS_CONNECTED: 5,
  CS_UPDATE_FAILED: 6,
  CS_DEGRADED: 7,
} as const;
export type ClusterStatus = (typeof ClusterStatus)[keyof typeof ClusterStatus];

/** The name of an enum value, or `UNKNOWN(<n>)` for values this client does not know. */
export const enumName = (values: Readonly<Record<string, number>>, value: number): string =>
  Object.keys(values).find((key) => values[key] === value) ?? `UNKNOWN(${value})`;

/** One PxL compiler error; line and column are 1-based, as Pixie sends them. */
export interface CompilerError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** px.api.vizierpb.Status: a gRPC code number, a message and compiler errors if any. */
export interface Status {
  readonly code: number;
  readonly message: string;
  readonly compilerErrors: readonly CompilerError[];
}

export interface MutationState {
  readonly id: string;
  readonly state: number;
  readonly name: string;
}

export interface MutationInfo {
  readonly status: Status | undefined;
  readonly states: readonly MutationState[];
}

export interface ColumnInfo {
  readonly name: string;
  readonly type: number;
  readonly description: string;
  readonly semanticType: number;
}

/** The schema of one output table, sent before any of its data. */
export interface TableMetadata {
  /** Per-query table id (a UUID in Vizier). Batches refer to it. */
  readonly id: string;
  readonly name: string;
  readonly columns: readonly ColumnInfo[];
}

/** One columnar batch of rows of one table. */
export interface RowBatch {
  readonly tableId: string;
  readonly numRows: number;
  /** End of window (for windowed/streaming scripts). */
  readonly eow: boolean;
  /** End of stream: the last batch of this table. */
  readonly eos: boolean;
  /** Columns in the order of the table's relation. */
  readonly cols: readonly Column[];
}

export interface ExecutionStats {
  readonly executionTimeNs: number;
  readonly compilationTimeNs: number;
  readonly bytesProcessed: number;
  readonly recordsProcessed: number;
}

/** One decoded ExecuteScriptResponse. `encryptedBatch` is still a JWE until decrypted. */
export interface ExecuteScriptResponse {
  readonly queryId: string;
  readonly status: Status | undefined;
  readonly metaData: TableMetadata | undefined;
  readonly batch: RowBatch | undefined;
  readonly encryptedBatch: Uint8Array | undefined;
  readonly executionStats: ExecutionStats | undefined;
  readonly mutationInfo: MutationInfo | undefined;
}

/** One function of a vis-style script to run, with its arguments as text (the compiler parses them). */
export interface FuncToExecute {
  readonly funcName: string;
  readonly args?: Readonly<Record<string, string>>;
  readonly outputTablePrefix: string;
}

export interface EncryptionOptions {
  readonly jwkKey: string;
  readonly keyAlg: string;
  readonly contentAlg: string;
  readonly compressionAlg: string;
}

/** The fields of px.api.vizierpb.ExecuteScriptRequest this client sends. */
export interface ExecuteScriptRequest {
  readonly queryStr?: string;
  readonly clusterId: string;
  readonly execFuncs?: readonly FuncToExecute[];
  readonly mutation?: boolean;
  readonly encryptionOptions?: EncryptionOptions;
  readonly queryId?: string;
  readonly queryName?: string;
}

/** A Kubernetes pod's state as the cloud reports it in ClusterInfo. */
export interface PodStatus {
  readonly name: string;
  readonly status: number;
  readonly statusMessage: string;
  readonly reason: string;
  readonly restartCount: number;
}

/** One cluster known to Pixie Cloud (px.cloudapi.ClusterInfo, the fields worth having). */
export interface ClusterInfo {
  /** Cluster id as a dashed UUID string. */
  readonly id: string;
  readonly status: number;
  /** Name of `status` (e.g. `CS_HEALTHY`). */
  readonly statusName: string;
  readonly lastHeartbeatNs: number;
  readonly passthroughEnabled: boolean;
  readonly clusterUid: string;
  readonly clusterName: string;
  readonly prettyClusterName: string;
  readonly clusterVersion: string;
  readonly vizierVersion: string;
  readonly operatorVersion: string;
  readonly numNodes: number;
  readonly numInstrumentedNodes: number;
  readonly statusMessage: string;
  readonly previousStatus: number;
  readonly controlPlanePodStatuses: Readonly<Record<string, PodStatus>>;
  readonly unhealthyDataPlanePodStatuses: Readonly<Record<string, PodStatus>>;
}
