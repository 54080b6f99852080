/**
 * Avro JSON encoding for the subset of Avro the finding schema uses (records, arrays, nullable
 * unions, string, boolean, int, long, double), driven by the schema itself so the code cannot drift
 * from the contract.
 *
 * "Natural" values are what TypeScript code handles: optional fields are absent (`undefined`).
 * "Wire" values are what Pub/Sub validates: every field present, `null` for absent, non-null union
 * values wrapped in their branch name. {@link toAvroJson} goes natural to wire, {@link fromAvroJson}
 * wire to natural; both reject anything the schema does not allow, naming the path.
 *
 * @module
 */

export type AvroPrimitive = 'null' | 'string' | 'boolean' | 'int' | 'long' | 'double';

export interface AvroRecord {
  readonly type: 'record';
  readonly name: string;
  readonly namespace?: string;
  readonly doc?: string;
  readonly fields: readonly AvroField[];
}

export interface AvroArray {
  readonly type: 'array';
  readonly items: AvroType;
}

/** A type: a primitive or named-type reference (a string), a record, an array, or a union. */
export type AvroType = AvroRecord | AvroArray | readonly AvroType[] | string;

export interface AvroField {
  readonly name: string;
  readonly type: AvroType;
  readonly doc?: string;
  readonly default?: unknown;
}

/** A value that does not fit the schema, with the path to it. */
export class AvroJsonError extends Error {
  override readonly name = 'AvroJsonError';
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${path === '' ? '(root)' : path}: ${problem}`);
    this.path = path;
  }
}

const PRIMITIVES = new Set<string>(['null', 'string', 'boolean', 'int', 'long', 'double']);
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** Named record types by full name, collected from their (inline) definitions. */
interface Names {
  readonly byFullName: Map<string, AvroRecord & { readonly fullName: string; readonly space: string }>;
}

const fullNameOf = (name: string, space: string): string => (name.includes('.') || space === '' ? name : `${space}.${name}`);

const collectNames = (type: AvroType, space: string, names: Names): void => {
  if (typeof type === 'string') {
    return;
  }
  if (Array.isArray(type)) {
    for (const branch of type as readonly AvroType[]) {
      collectNames(branch, space, names);
    }
    return;
  }
  const complex = type as AvroRecord | AvroArray;
  if (complex.type === 'array') {
    collectNames(complex.items, space, names);
    return;
  }
  const recordSpace = complex.namespace ?? space;
  const fullName = fullNameOf(complex.name, recordSpace);
  names.byFullName.set(fullName, { ...complex, fullName, space: recordSpace });
  for (const field of complex.fields) {
    collectNames(field.type, recordSpace, names);
  }
};

type Resolved =
  | { readonly kind: 'primitive'; readonly name: AvroPrimitive }
  | { readonly kind: 'record'; readonly record: AvroRecord; readonly fullName: string; readonly space: string }
  | { readonly kind: 'array'; readonly items: AvroType }
  | { readonly kind: 'union'; readonly branches: readonly AvroType[] };

const resolve = (type: AvroType, space: string, names: Names): Resolved => {
  if (typeof type === 'string') {
    if (PRIMITIVES.has(type)) {
      return { kind: 'primitive', name: type as AvroPrimitive };
    }
    const named = names.byFullName.get(fullNameOf(type, space)) ?? names.byFullName.get(type);
    if (named === undefined) {
      throw new AvroJsonError('', `schema names unknown type ${type}`);
    }
    return { kind: 'record', record: named, fullName: named.fullName, space: named.space };
  }
  if (Array.isArray(type)) {
    return { kind: 'union', branches: type as readonly AvroType[] };
  }
  const complex = type as AvroRecord | AvroArray;
  if (complex.type === 'array') {
    return { kind: 'array', items: complex.items };
  }
  const recordSpace = complex.namespace ?? space;
  return { kind: 'record', record: complex, fullName: fullNameOf(complex.name, recordSpace), space: recordSpace };
};

/** The name a union branch is wrapped in: the primitive name or the record's full name. */
const branchName = (type: AvroType, space: string, names: Names): string => {
  const resolved = resolve(type, space, names);
  switch (resolved.kind) {
    case 'primitive':
      return resolved.name;
    case 'record':
      return resolved.fullName;
    case 'array':
      return 'array';
    case 'union':
      throw new AvroJsonError('', 'nested unions are not valid Avro');
  }
};

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' && !Number.isFinite(value) ? String(value) : typeof value;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const checkPrimitive = (name: AvroPrimitive, value: unknown, path: string): unknown => {
  switch (name) {
    case 'null':
      if (value !== null) {
        throw new AvroJsonError(path, `expected null, got ${describe(value)}`);
      }
      return null;
    case 'string':
      if (typeof value !== 'string') {
        throw new AvroJsonError(path, `expected string, got ${describe(value)}`);
      }
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') {
        throw new AvroJsonError(path, `expected boolean, got ${describe(value)}`);
      }
      return value;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < INT_MIN || value > INT_MAX) {
        throw new AvroJsonError(path, `expected int (32-bit), got ${describe(value)} ${String(value)}`);
      }
      return value;
    case 'long':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw new AvroJsonError(path, `expected long (safe integer), got ${describe(value)} ${String(value)}`);
      }
      return value;
    case 'double':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new AvroJsonError(path, `expected finite double, got ${describe(value)}`);
      }
      return value;
  }
};

type Direction = 'toWire' | 'fromWire';

const convert = (type: AvroType, value: unknown, space: string, names: Names, path: string, direction: Direction): unknown => {
  const resolved = resolve(type, space, names);
  switch (resolved.kind) {
    case 'primitive':
      return checkPrimitive(resolved.name, value, path);
    case 'array': {
      if (!Array.isArray(value)) {
        throw new AvroJsonError(path, `expected array, got ${describe(value)}`);
      }
      return value.map((item: unknown, index) => convert(resolved.items, item, space, names, `${path}[${index}]`, direction));
    }
    case 'record':
      return convertRecord(resolved.record, resolved.space, value, names, path, direction);
    case 'union':
      return convertUnion(resolved.branches, value, space, names, path, direction);
  }
};

const convertUnion = (
  branches: readonly AvroType[],
  value: unknown,
  space: string,
  names: Names,
  path: string,
  direction: Direction,
): unknown => {
  const nullable = branches.includes('null');
  const others = branches.filter((branch) => branch !== 'null');
  if (value === null || value === undefined) {
    if (!nullable) {
      throw new AvroJsonError(path, 'is required');
    }
    if (value === undefined && direction === 'fromWire') {
      throw new AvroJsonError(path, 'is missing (Avro JSON needs null)');
    }
    return direction === 'toWire' ? null : undefined;
  }
  if (direction === 'toWire') {
    // Natural values carry no branch name: take the first branch that accepts the value.
    const errors: string[] = [];
    for (const branch of others) {
      try {
        return { [branchName(branch, space, names)]: convert(branch, value, space, names, path, direction) };
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
    throw new AvroJsonError(path, `fits no union branch (${errors.join('; ')})`);
  }
  if (!isPlainObject(value) || Object.keys(value).length !== 1) {
    throw new AvroJsonError(path, `expected null or a union value wrapped as {"<type>": value}, got ${describe(value)}`);
  }
  const [wrapped, inner] = Object.entries(value)[0] as [string, unknown];
  const branch = others.find((candidate) => branchName(candidate, space, names) === wrapped);
  if (branch === undefined) {
    throw new AvroJsonError(path, `union branch "${wrapped}" is not one of ${others.map((b) => branchName(b, space, names)).join(', ')}`);
  }
  return convert(branch, inner, space, names, path, direction);
};

const convertRecord = (
  record: AvroRecord,
  space: string,
  value: unknown,
  names: Names,
  path: string,
  direction: Direction,
): Record<string, unknown> => {
  if (!isPlainObject(value)) {
    throw new AvroJsonError(path, `expected object (${record.name}), got ${describe(value)}`);
  }
  const known = new Set(record.fields.map((field) => field.name));
  const unknown = Object.keys(value).filter((key) => !known.has(key) && value[key] !== undefined);
  if (unknown.length > 0) {
    throw new AvroJsonError(path, `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} in ${record.name}`);
  }
  const out: Record<string, unknown> = {};
  for (const field of record.fields) {
    const fieldPath = path === '' ? field.name : `${path}.${field.name}`;
    const missing = direction === 'fromWire' && !(field.name in value);
    if (missing && field.default === undefined) {
      throw new AvroJsonError(fieldPath, 'is missing');
    }
    // A field added later with a default: a message written before it takes the default, as Avro's
    // reader-writer resolution does.
    const converted = convert(field.type, missing ? field.default : value[field.name], space, names, fieldPath, direction);
    if (converted !== undefined) {
      out[field.name] = converted;
    }
  }
  return out;
};

/** A codec for one record schema. */
export interface AvroJsonCodec<T> {
  /** Natural value to Avro JSON wire form; throws {@link AvroJsonError}. */
  toWire(value: T): unknown;
  /** Avro JSON wire form to a natural value, validating every field; throws {@link AvroJsonError}. */
  fromWire(wire: unknown): T;
}

/** Builds a codec for a record schema. The type parameter is the natural TypeScript shape. */
export const avroJsonCodec = <T>(schema: AvroRecord): AvroJsonCodec<T> => {
  const names: Names = { byFullName: new Map() };
  collectNames(schema, '', names);
  const space = schema.namespace ?? '';
  return {
    toWire: (value) => convert(schema, value, space, names, '', 'toWire'),
    fromWire: (wire) => convert(schema, wire, space, names, '', 'fromWire') as T,
  };
};
