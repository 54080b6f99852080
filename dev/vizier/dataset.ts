/**
 * Datasets the local Vizier serves: one JSON file per table in a directory.
 *
 * File format (`<dir>/<table>.json`; the table name is the file name unless `name` is given):
 * ```json
 * { "name": "process_stats",
 *   "relation": [ { "name": "time_", "type": "TIME64NS", "semantic": "ST_NONE", "desc": "..." }, ... ],
 *   "columns": { "time_": ["1700000000000000000", ...], "upid": ["00000001-0000-04d2-0000-000000003039", ...] } }
 * ```
 * Types are Pixie's DataType names. Values per type: TIME64NS / INT64 as decimal strings (or safe
 * integers), UINT128 as a UUID string (high 64 bits first, as Pixie's clients print them) or
 * `{ "high": "<dec>", "low": "<dec>" }`, FLOAT64 as numbers, STRING as strings (or `{ "base64": ... }`
 * for bytes that are not UTF-8), BOOLEAN as booleans. Every table needs a TIME64NS column and every
 * column the same number of values. Problems are reported with the file and column.
 *
 * @module
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { enumValues } from './proto.ts';

export const DATA_TYPES = ['BOOLEAN', 'INT64', 'UINT128', 'FLOAT64', 'STRING', 'TIME64NS'] as const;
export type DataTypeName = (typeof DATA_TYPES)[number];

interface ColumnBase {
  readonly name: string;
  readonly desc: string;
  /** SemanticType enum number. */
  readonly semantic: number;
}
export type Column = ColumnBase &
  (
    | { readonly type: 'BOOLEAN'; readonly values: readonly boolean[] }
    | { readonly type: 'INT64' | 'TIME64NS'; readonly values: BigInt64Array }
    | { readonly type: 'UINT128'; readonly high: BigUint64Array; readonly low: BigUint64Array }
    | { readonly type: 'FLOAT64'; readonly values: Float64Array }
    | { readonly type: 'STRING'; readonly values: readonly Buffer[] }
  );

export interface Table {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly numRows: number;
}

export type Dataset = ReadonlyMap<string, Table>;

/** A dataset file that does not fit the format. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

const DATA_TYPE_NUMBERS = enumValues('px.api.vizierpb.DataType');
const SEMANTIC_TYPES = enumValues('px.api.vizierpb.SemanticType');

/** DataType enum number of a type name. */
export const dataTypeNumber = (type: DataTypeName): number => {
  const value = DATA_TYPE_NUMBERS[type];
  if (value === undefined) {
    throw new DatasetError(`unknown data type ${type}`);
  }
  return value;
};

const UUID = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i;

/** Splits a UUID string into its high and low 64 bits (bytes 0-7, 8-15). */
export const uuidToUint128 = (text: string): { high: bigint; low: bigint } => {
  const match = UUID.exec(text);
  if (match === null) {
    throw new DatasetError(`not a UUID: ${JSON.stringify(text)}`);
  }
  const hex = match.slice(1).join('');
  return { high: BigInt(`0x${hex.slice(0, 16)}`), low: BigInt(`0x${hex.slice(16)}`) };
};

const toBigInt = (value: unknown, where: string): bigint => {
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    return BigInt(value);
  }
  if (typeof value === 'string' && /^-?\d+$/.test(value)) {
    return BigInt(value);
  }
  throw new DatasetError(`${where}: expected an integer (decimal string or safe integer), got ${JSON.stringify(value)}`);
};

const buildColumn = (spec: Record<string, unknown>, raw: unknown, where: string): Column => {
  const name = spec['name'];
  const type = spec['type'];
  if (typeof name !== 'string' || name === '') {
    throw new DatasetError(`${where}: relation entry needs a non-empty "name"`);
  }
  if (typeof type !== 'string' || !(DATA_TYPES as readonly string[]).includes(type)) {
    throw new DatasetError(`${where}: column ${name} has type ${JSON.stringify(type)}, expected one of ${DATA_TYPES.join(', ')}`);
  }
  const semanticName = spec['semantic'] ?? 'ST_NONE';
  const semantic = typeof semanticName === 'string' ? SEMANTIC_TYPES[semanticName] : undefined;
  if (semantic === undefined) {
    throw new DatasetError(`${where}: column ${name} has unknown semantic type ${JSON.stringify(semanticName)}`);
  }
  const desc = typeof spec['desc'] === 'string' ? spec['desc'] : '';
  if (!Array.isArray(raw)) {
    throw new DatasetError(`${where}: columns.${name} must be an array of values`);
  }
  const values: unknown[] = raw;
  const at = (i: number): string => `${where}: columns.${name}[${i}]`;
  const base = { name, desc, semantic };
  switch (type as DataTypeName) {
    case 'BOOLEAN':
      return {
        ...base,
        type: 'BOOLEAN',
        values: values.map((v, i) => {
          if (typeof v !== 'boolean') {
            throw new DatasetError(`${at(i)}: expected a boolean`);
          }
          return v;
        }),
      };
    case 'INT64':
    case 'TIME64NS': {
      const out = new BigInt64Array(values.length);
      values.forEach((v, i) => {
        out[i] = BigInt.asIntN(64, toBigInt(v, at(i)));
      });
      return { ...base, type: type as 'INT64' | 'TIME64NS', values: out };
    }
    case 'FLOAT64': {
      const out = new Float64Array(values.length);
      values.forEach((v, i) => {
        if (typeof v !== 'number') {
          throw new DatasetError(`${at(i)}: expected a number`);
        }
        out[i] = v;
      });
      return { ...base, type: 'FLOAT64', values: out };
    }
    case 'UINT128': {
      const high = new BigUint64Array(values.length);
      const low = new BigUint64Array(values.length);
      values.forEach((v, i) => {
        if (typeof v === 'string') {
          const parts = uuidToUint128(v);
          high[i] = parts.high;
          low[i] = parts.low;
        } else if (typeof v === 'object' && v !== null && 'high' in v && 'low' in v) {
          high[i] = BigInt.asUintN(64, toBigInt(v.high, at(i)));
          low[i] = BigInt.asUintN(64, toBigInt(v.low, at(i)));
        } else {
          throw new DatasetError(`${at(i)}: expected a UUID string or {high, low}`);
        }
      });
      return { ...base, type: 'UINT128', high, low };
    }
    case 'STRING':
      return {
        ...base,
        type: 'STRING',
        values: values.map((v, i) => {
          if (typeof v === 'string') {
            return Buffer.from(v, 'utf8');
          }
          if (typeof v === 'object' && v !== null && 'base64' in v && typeof v.base64 === 'string') {
            return Buffer.from(v.base64, 'base64');
          }
          throw new DatasetError(`${at(i)}: expected a string or {base64}`);
        }),
      };
  }
};

const columnLength = (column: Column): number => ('values' in column ? column.values.length : column.high.length);

/** Builds a table from its parsed JSON document; `where` names the source in errors. */
export const parseTable = (doc: unknown, fallbackName: string, where: string): Table => {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new DatasetError(`${where}: expected a JSON object {name?, relation, columns}`);
  }
  const record = doc as Record<string, unknown>;
  const name = record['name'] ?? fallbackName;
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
    throw new DatasetError(`${where}: table name ${JSON.stringify(name)} is not a PxL table name`);
  }
  const relation = record['relation'];
  const columnsDoc = record['columns'];
  if (!Array.isArray(relation) || relation.length === 0) {
    throw new DatasetError(`${where}: "relation" must be a non-empty array of {name, type, semantic?, desc?}`);
  }
  if (typeof columnsDoc !== 'object' || columnsDoc === null) {
    throw new DatasetError(`${where}: "columns" must be an object of column name -> values`);
  }
  const columns = relation.map((spec: unknown) => {
    if (typeof spec !== 'object' || spec === null) {
      throw new DatasetError(`${where}: relation entries must be objects`);
    }
    const specRecord = spec as Record<string, unknown>;
    const columnName = specRecord['name'];
    return buildColumn(specRecord, typeof columnName === 'string' ? (columnsDoc as Record<string, unknown>)[columnName] : undefined, where);
  });
  if (!columns.some((c) => c.type === 'TIME64NS')) {
    throw new DatasetError(`${where}: table ${name} needs a TIME64NS column (e.g. time_)`);
  }
  const numRows = columnLength(columns[0] as Column);
  for (const column of columns) {
    if (columnLength(column) !== numRows) {
      throw new DatasetError(`${where}: column ${column.name} has ${columnLength(column)} values, expected ${numRows}`);
    }
  }
  return { name, columns, numRows };
};

/** Loads every `*.json` table file of `dir`. */
export const loadDataset = (dir: string): Dataset => {
  const tables = new Map<string, Table>();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) {
    throw new DatasetError(`dataset ${dir} has no *.json table files`);
  }
  for (const file of files) {
    const full = path.join(dir, file);
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(full, 'utf8'));
    } catch (cause) {
      throw new DatasetError(`${full}: not valid JSON`, { cause });
    }
    const table = parseTable(doc, file.slice(0, -'.json'.length), full);
    if (tables.has(table.name)) {
      throw new DatasetError(`${full}: table ${table.name} is defined twice`);
    }
    tables.set(table.name, table);
  }
  return tables;
};
