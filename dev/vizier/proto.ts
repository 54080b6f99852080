/**
 * Pixie's enums by name for the local Vizier (data and semantic types, lifecycle states), read from
 * the generated descriptors of the project's proto text (shared/pixie/generated), so no enum number
 * is written twice.
 *
 * @module
 */
import { createRegistry } from '@bufbuild/protobuf';
import { file_cloudapi } from '../../shared/pixie/generated/cloudapi_pb.js';
import { file_vizierapi } from '../../shared/pixie/generated/vizierapi_pb.js';

const registry = createRegistry(file_vizierapi, file_cloudapi);

/** Values of a proto enum by name, e.g. `enumValues('px.api.vizierpb.SemanticType')`. */
export const enumValues = (name: string): Readonly<Record<string, number>> => {
  const found = registry.getEnum(name);
  if (found === undefined) {
    throw new Error(`no enum ${name} in the generated Pixie descriptors`);
  }
  return Object.fromEntries(found.values.map((value) => [value.name, value.number]));
};
