/**
 * Encoders for the requests this client sends: ExecuteScriptRequest, HealthCheckRequest and
 * GetClusterInfoRequest, written by the generated codec (`generated/`, from `proto/`).
 *
 * @module
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { GetClusterInfoRequestSchema } from './generated/cloudapi_pb.js';
import { type UUID, UUIDSchema } from './generated/uuid_pb.js';
import { ExecuteScriptRequestSchema, HealthCheckRequestSchema } from './generated/vizierapi_pb.js';
import type { ExecuteScriptRequest } from './types.ts';
import { uuidToUint128 } from './uint128.ts';

/** Serializes a px.api.vizierpb.ExecuteScriptRequest. */
export const encodeExecuteScriptRequest = (request: ExecuteScriptRequest): Uint8Array =>
  toBinary(
    ExecuteScriptRequestSchema,
    create(ExecuteScriptRequestSchema, {
      queryStr: request.queryStr ?? '',
      clusterId: request.clusterId,
      execFuncs: (request.execFuncs ?? []).map((func) => ({
        funcName: func.funcName,
        argValues: Object.entries(func.args ?? {}).map(([name, value]) => ({ name, value })),
        outputTablePrefix: func.outputTablePrefix,
      })),
      mutation: request.mutation ?? false,
      ...(request.encryptionOptions && { encryptionOptions: { ...request.encryptionOptions } }),
      queryId: request.queryId ?? '',
      queryName: request.queryName ?? '',
    }),
  );

/** Serializes a px.api.vizierpb.HealthCheckRequest. */
export const encodeHealthCheckRequest = (clusterId: string): Uint8Array =>
  toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { clusterId }));

/** A px.uuidpb.UUID from a dashed UUID string (bytes 0-7 high, 8-15 low). */
export const uuidMessage = (uuid: string): UUID => {
  const { high, low } = uuidToUint128(uuid);
  return create(UUIDSchema, { highBits: high, lowBits: low });
};

/** Serializes a px.cloudapi.GetClusterInfoRequest; without an id it asks for every cluster. */
export const encodeGetClusterInfoRequest = (clusterId?: string): Uint8Array =>
  toBinary(GetClusterInfoRequestSchema, create(GetClusterInfoRequestSchema, clusterId === undefined ? {} : { id: uuidMessage(clusterId) }));
