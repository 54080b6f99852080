/**
 * Encoders for the requests this client sends: ExecuteScriptRequest, HealthCheckRequest and
 * GetClusterInfoRequest (field numbers as in `proto/`).
 *
 * @module
 */
import type { EncryptionOptions, ExecuteScriptRequest, FuncToExecute } from './types.ts';
import { uuidToUint128 } from './uint128.ts';
import { Writer } from './wire.ts';

const encodeFunc = (func: FuncToExecute): Writer => {
  const out = new Writer().string(1, func.funcName);
  for (const [name, value] of Object.entries(func.args ?? {})) {
    out.message(2, new Writer().string(1, name).string(2, value));
  }
  return out.string(3, func.outputTablePrefix);
};

const encodeEncryption = (options: EncryptionOptions): Writer =>
  new Writer()
    .string(1, options.jwkKey)
    .string(2, options.keyAlg)
    .string(3, options.contentAlg)
    .string(4, options.compressionAlg);

/** Serializes a px.api.vizierpb.ExecuteScriptRequest. */
export const encodeExecuteScriptRequest = (request: ExecuteScriptRequest): Uint8Array => {
  const out = new Writer().string(1, request.queryStr ?? '').string(3, request.clusterId);
  for (const func of request.execFuncs ?? []) {
    out.message(4, encodeFunc(func));
  }
  out.bool(5, request.mutation ?? false);
  if (request.encryptionOptions) {
    out.message(6, encodeEncryption(request.encryptionOptions));
  }
  return out
    .string(7, request.queryId ?? '')
    .string(10, request.queryName ?? '')
    .finish();
};

/** Serializes a px.api.vizierpb.HealthCheckRequest. */
export const encodeHealthCheckRequest = (clusterId: string): Uint8Array => new Writer().string(1, clusterId).finish();

/** Serializes a px.uuidpb.UUID from a dashed UUID string (bytes 0-7 high, 8-15 low). */
export const encodeUuid = (uuid: string): Writer => {
  const { high, low } = uuidToUint128(uuid);
  return new Writer().int64(2, high).int64(3, low);
};

/** Serializes a px.cloudapi.GetClusterInfoRequest; without an id it asks for every cluster. */
export const encodeGetClusterInfoRequest = (clusterId?: string): Uint8Array => {
  const out = new Writer();
  if (clusterId !== undefined) {
    out.message(1, encodeUuid(clusterId));
  }
  return out.finish();
};
