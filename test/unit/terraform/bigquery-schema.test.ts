/**
 * The findings table's BigQuery schema is derived from the topic's Avro schema; the BigQuery
 * subscription writes with use_topic_schema, so the two must agree column for column.
 */
import { access, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  AVRO_SCHEMA_FILE,
  avroToBigQuery,
  BIGQUERY_SCHEMA_FILE,
  renderBigQuerySchema,
  UnsupportedAvroError,
} from '../../../dev/terraform/bigquery-schema.ts';

const readAvro = async (): Promise<string> => {
  await access(AVRO_SCHEMA_FILE).catch((cause: unknown) => {
    throw new Error(`${AVRO_SCHEMA_FILE} is missing: the findings topic schema is the contract Terraform enforces`, { cause });
  });
  return readFile(AVRO_SCHEMA_FILE, 'utf8');
};

describe('findings BigQuery schema', () => {
  it('is what dev/terraform/bigquery-schema.ts derives from shared/findings/finding.avsc (run it after a schema change)', async () => {
    const committed = await readFile(BIGQUERY_SCHEMA_FILE, 'utf8');
    expect(committed).toBe(renderBigQuerySchema(await readAvro()));
  });

  it('has one top-level column per top-level Avro field, in order', async () => {
    const avro = JSON.parse(await readAvro()) as { fields: { name: string }[] };
    const columns = JSON.parse(await readFile(BIGQUERY_SCHEMA_FILE, 'utf8')) as { name: string }[];
    expect(columns.map((c) => c.name)).toEqual(avro.fields.map((f) => f.name));
  });

  it('maps primitives, nullable unions, arrays and nested records', () => {
    const columns = avroToBigQuery({
      type: 'record',
      name: 'R',
      fields: [
        { name: 's', type: 'string', doc: 'a string' },
        { name: 'l', type: 'long' },
        { name: 'd', type: ['null', 'double'], default: null },
        { name: 'b', type: 'boolean' },
        { name: 'tags', type: { type: 'array', items: 'string' } },
        { name: 'n', type: ['null', { type: 'record', name: 'N', fields: [{ name: 'i', type: 'int' }] }] },
        { name: 'rs', type: { type: 'array', items: { type: 'record', name: 'E', fields: [{ name: 'f', type: 'float' }] } } },
      ],
    });
    expect(columns).toEqual([
      { name: 's', mode: 'REQUIRED', type: 'STRING', description: 'a string' },
      { name: 'l', mode: 'REQUIRED', type: 'INTEGER' },
      { name: 'd', mode: 'NULLABLE', type: 'FLOAT' },
      { name: 'b', mode: 'REQUIRED', type: 'BOOLEAN' },
      { name: 'tags', mode: 'REPEATED', type: 'STRING' },
      { name: 'n', mode: 'NULLABLE', type: 'RECORD', fields: [{ name: 'i', mode: 'REQUIRED', type: 'INTEGER' }] },
      { name: 'rs', mode: 'REPEATED', type: 'RECORD', fields: [{ name: 'f', mode: 'REQUIRED', type: 'FLOAT' }] },
    ]);
  });

  it('rejects Avro that has no column equivalent, naming the field', () => {
    const wrap = (type: unknown): unknown => ({ type: 'record', name: 'R', fields: [{ name: 'x', type }] });
    expect(() => avroToBigQuery(wrap(['null', 'string', 'long']))).toThrow(/R\.x: only unions of null and one type/);
    expect(() => avroToBigQuery(wrap(['null', { type: 'array', items: 'string' }]))).toThrow(/nullable array/);
    expect(() => avroToBigQuery(wrap({ type: 'map', values: 'string' }))).toThrow(UnsupportedAvroError);
    expect(() => avroToBigQuery({ type: 'array', items: 'string' })).toThrow(/top-level Avro schema must be a record/);
  });
});
