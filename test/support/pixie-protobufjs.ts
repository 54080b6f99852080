/**
 * An independent codec for the tests and benchmarks: the project's own Pixie proto text in
 * shared/pixie/proto, loaded once with protobufjs (a different implementation from the generated
 * @bufbuild/protobuf codec the client and the local Vizier use, and from the hand-written row-batch
 * code), so what they write and read is checked against the proto text itself.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';

const PROTO_DIR = fileURLToPath(new URL('../../shared/pixie/proto/', import.meta.url));

const loadRoot = (): protobuf.Root => {
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string | null => {
    // google/protobuf/* come from protobufjs' bundled common types.
    if (target.startsWith('google/protobuf/')) {
      return target;
    }
    return path.isAbsolute(target) ? target : path.join(PROTO_DIR, path.basename(target));
  };
  root.loadSync(['vizierapi.proto', 'cloudapi.proto', 'uuid.proto'], { keepCase: true });
  root.resolveAll();
  return root;
};

/** The loaded proto text (every message and enum of shared/pixie/proto). */
export const pixieRoot = loadRoot();
const root = pixieRoot;

/** A message type by its full name; throws if the proto text lacks it (a broken checkout). */
const type = (name: string): protobuf.Type => root.lookupType(name);

export const pb = {
  ExecuteScriptRequest: type('px.api.vizierpb.ExecuteScriptRequest'),
  ExecuteScriptResponse: type('px.api.vizierpb.ExecuteScriptResponse'),
  RowBatchData: type('px.api.vizierpb.RowBatchData'),
  HealthCheckRequest: type('px.api.vizierpb.HealthCheckRequest'),
  HealthCheckResponse: type('px.api.vizierpb.HealthCheckResponse'),
  GetClusterInfoRequest: type('px.cloudapi.GetClusterInfoRequest'),
  GetClusterInfoResponse: type('px.cloudapi.GetClusterInfoResponse'),
} as const;

/**
 * Encodes a plain object (proto field names, keepCase; int64 as decimal strings) as `message`.
 * Unknown keys are an error here (protobufjs would drop them silently).
 */
export const encode = (message: protobuf.Type, value: Record<string, unknown>): Buffer => {
  checkKeys(message, value);
  return Buffer.from(message.encode(message.fromObject(value)).finish());
};

const checkKeys = (message: protobuf.Type, value: Record<string, unknown>): void => {
  for (const [key, child] of Object.entries(value)) {
    const field = message.fields[key];
    if (field === undefined) {
      throw new Error(`cannot encode ${message.fullName}: no field ${key}`);
    }
    const fieldType = field.resolvedType;
    if (fieldType instanceof protobuf.Type && !field.map && child !== null && typeof child === 'object') {
      for (const item of Array.isArray(child) ? (child as unknown[]) : [child]) {
        checkKeys(fieldType, item as Record<string, unknown>);
      }
    }
  }
};

/** Decodes `bytes` as `message` into a plain object with defaults, int64 as decimal strings. */
export const decode = (message: protobuf.Type, bytes: Uint8Array): Record<string, unknown> =>
  message.toObject(message.decode(bytes), { longs: String, enums: Number, bytes: Buffer, defaults: true, oneofs: true });
