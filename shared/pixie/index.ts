/**
 * Pixie API client: public surface. See docs/pixie-client.md.
 *
 * @module
 */
export { createPixieClient, type PixieClient, type PixieClientOptions } from './client.ts';
export { isClusterUsable, type HealthStatus } from './cluster.ts';
export { collectTables, concatColumns, type CollectedTable, type QueryResult } from './collect.ts';
export {
  BooleanColumn,
  type Column,
  Float64Column,
  Int64Column,
  StringColumn,
  Time64NSColumn,
  UInt128Column,
} from './columns.ts';
export { pixieClientOptions, pixieConfigSpec, type PixieConfig } from './config.ts';
export { decodeRowBatch } from './decode-batch.ts';
export { decodeExecuteScriptResponse, decodeGetClusterInfoResponse, decodeHealthCheckResponse } from './decode.ts';
export { encodeExecuteScriptRequest, encodeGetClusterInfoRequest, encodeHealthCheckRequest } from './encode.ts';
export { type BatchDecrypter, createBatchDecrypter } from './encryption.ts';
export {
  ClusterUnavailableError,
  GrpcCode,
  LargeBatchRejectedError,
  MutationFailedError,
  PixieAuthError,
  PixieCancelledError,
  PixieDeadlineError,
  PixieError,
  PixieProtocolError,
  PxlCompileError,
  type LocatedCompilerError,
} from './errors.ts';
export { DEFAULT_RETRY_POLICY, type ExecuteEvent, type ExecuteScriptOptions, type RetryPolicy, type TableEnd } from './execute.ts';
export type { CallOptions } from './limits.ts';
export {
  DEFAULT_MAX_OUTPUT_ROWS,
  applyMaxOutputRows,
  isMutationScript,
  maxOutputRowsOf,
  withMaxOutputRows,
} from './script.ts';
export { DEFAULT_API_CLIENT, DEFAULT_CLOUD_ADDR, type ChannelSecurity } from './transport.ts';
export * from './types.ts';
export { type Upid, isUuid, uint128ToUuid, upidFromUint128, upidToString, upidToUint128, uuidToUint128 } from './uint128.ts';
