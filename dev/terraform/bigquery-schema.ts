/**
 * Derives the BigQuery table schema of the findings history from the topic's Avro schema
 * (`shared/findings/finding.avsc`), following Pub/Sub's mapping for BigQuery subscriptions with
 * `use_topic_schema`: record -> RECORD, string -> STRING, int/long -> INTEGER, float/double ->
 * FLOAT, boolean -> BOOLEAN, bytes -> BYTES, union of null and T -> NULLABLE T, array of T ->
 * REPEATED T; every other field is REQUIRED.
 *
 * `node dev/terraform/bigquery-schema.ts` rewrites `terraform/modules/kernel-gossip/findings.bigquery.json`;
 * a unit test fails while the committed file differs from what this derives.
 *
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

/** The Avro schema of the findings topic. */
export const AVRO_SCHEMA_FILE = path.join(root, 'shared', 'findings', 'finding.avsc');
/** The BigQuery schema the Terraform module gives the findings table. */
export const BIGQUERY_SCHEMA_FILE = path.join(root, 'terraform', 'modules', 'kernel-gossip', 'findings.bigquery.json');

/** One column of a BigQuery table schema, as the BigQuery API and `google_bigquery_table.schema` take it. */
export interface BigQueryField {
  readonly name: string;
  readonly type: 'STRING' | 'INTEGER' | 'FLOAT' | 'BOOLEAN' | 'BYTES' | 'RECORD';
  readonly mode: 'REQUIRED' | 'NULLABLE' | 'REPEATED';
  readonly description?: string;
  readonly fields?: readonly BigQueryField[];
}

/** Thrown for an Avro construct that has no BigQuery column equivalent here. */
export class UnsupportedAvroError extends Error {
  override readonly name = 'UnsupportedAvroError';
}

const PRIMITIVES = {
  string: 'STRING',
  int: 'INTEGER',
  long: 'INTEGER',
  float: 'FLOAT',
  double: 'FLOAT',
  boolean: 'BOOLEAN',
  bytes: 'BYTES',
} as const;

type Primitive = keyof typeof PRIMITIVES;

const isPrimitive = (value: unknown): value is Primitive => typeof value === 'string' && Object.hasOwn(PRIMITIVES, value);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Column type and nested fields of a non-null, non-array Avro type. */
const columnOf = (type: unknown, where: string): Pick<BigQueryField, 'type' | 'fields'> => {
  if (isPrimitive(type)) {
    return { type: PRIMITIVES[type] };
  }
  if (isObject(type)) {
    if (isPrimitive(type['type'])) {
      return { type: PRIMITIVES[type['type']] };
    }
    if (type['type'] === 'record') {
      return { type: 'RECORD', fields: recordFields(type, where) };
    }
  }
  throw new UnsupportedAvroError(`${where}: Avro type ${JSON.stringify(type)} has no BigQuery column mapping`);
};

/** One Avro field as one BigQuery column. */
const fieldToColumn = (field: unknown, where: string): BigQueryField => {
  if (!isObject(field) || typeof field['name'] !== 'string') {
    throw new UnsupportedAvroError(`${where}: a record field needs a name`);
  }
  const name = field['name'];
  const at = `${where}.${name}`;
  const description = typeof field['doc'] === 'string' ? { description: field['doc'] } : {};
  let type: unknown = field['type'];
  let mode: BigQueryField['mode'] = 'REQUIRED';
  if (Array.isArray(type)) {
    const branches = type.filter((branch) => branch !== 'null');
    if (branches.length !== 1 || type.length !== 2) {
      throw new UnsupportedAvroError(`${at}: only unions of null and one type map to a column`);
    }
    type = branches[0];
    mode = 'NULLABLE';
  }
  if (isObject(type) && type['type'] === 'array') {
    if (mode === 'NULLABLE') {
      throw new UnsupportedAvroError(`${at}: a nullable array has no BigQuery equivalent (use an empty array)`);
    }
    const items = type['items'];
    if (Array.isArray(items)) {
      throw new UnsupportedAvroError(`${at}: arrays of unions have no BigQuery equivalent`);
    }
    return { name, mode: 'REPEATED', ...columnOf(items, at), ...description };
  }
  return { name, mode, ...columnOf(type, at), ...description };
};

const recordFields = (record: Record<string, unknown>, where: string): BigQueryField[] => {
  const fields = record['fields'];
  if (!Array.isArray(fields)) {
    throw new UnsupportedAvroError(`${where}: a record needs fields`);
  }
  return fields.map((field) => fieldToColumn(field, where));
};

/** BigQuery columns for a top-level Avro record schema. */
export const avroToBigQuery = (schema: unknown): BigQueryField[] => {
  if (!isObject(schema) || schema['type'] !== 'record') {
    throw new UnsupportedAvroError('the top-level Avro schema must be a record');
  }
  return recordFields(schema, typeof schema['name'] === 'string' ? schema['name'] : 'record');
};

/** The file text of the BigQuery schema for an Avro schema text. */
export const renderBigQuerySchema = (avroText: string): string => `${JSON.stringify(avroToBigQuery(JSON.parse(avroText)), null, 2)}\n`;

if (import.meta.main) {
  const avro = await readFile(AVRO_SCHEMA_FILE, 'utf8');
  await writeFile(BIGQUERY_SCHEMA_FILE, renderBigQuerySchema(avro));
  console.log(`wrote ${path.relative(process.cwd(), BIGQUERY_SCHEMA_FILE)}`);
}
