/**
 * The generated Pixie codec (shared/pixie/generated) is what `npm run generate` makes from the proto
 * text, byte for byte; and the batch-as-bytes variants stay wire-compatible with the Pixie messages
 * they stand for (same field numbers, names and types, except the batch, bytes instead of
 * RowBatchData: a length-delimited field either way, protobuf encoding guide "Length-Delimited
 * Records").
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecuteScriptResponseBatchBytesSchema, QueryDataBatchBytesSchema } from '../../../shared/pixie/generated/batch_bytes_pb.js';
import { ExecuteScriptResponseSchema, QueryDataSchema, RowBatchDataSchema } from '../../../shared/pixie/generated/vizierapi_pb.js';

const root = path.resolve(import.meta.dirname, '../../..');
const committed = path.join(root, 'shared/pixie/generated');
const bin = path.join(root, 'node_modules/.bin');
const scratch: string[] = [];

afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

const filesOf = async (dir: string): Promise<Map<string, Buffer>> => {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (name) => [name, await readFile(path.join(dir, name))] as const)));
};

describe('generated Pixie codec', () => {
  it('is exactly what npm run generate makes from shared/pixie/proto (regenerate and diff)', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'kg-generate-'));
    scratch.push(out);
    // The tools come from npm devDependencies (buf and protoc-gen-es in node_modules/.bin): no
    // network, nothing else installed. `-o` prefixes buf.gen.yaml's `out`, so the committed files
    // are not touched.
    await promisify(execFile)(path.join(bin, 'buf'), ['generate', '-o', out], {
      cwd: root,
      env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}` },
      timeout: 60_000,
    });
    const fresh = await filesOf(path.join(out, 'shared/pixie/generated'));
    const kept = await filesOf(committed);
    expect([...kept.keys()]).toEqual([...fresh.keys()]);
    for (const [name, bytes] of fresh) {
      // As text for a readable diff, with the file name in it; then byte for byte.
      expect({ name, text: kept.get(name)?.toString('utf8') }).toEqual({ name, text: bytes.toString('utf8') });
      expect(kept.get(name)?.equals(bytes)).toBe(true);
    }
  });

  const shape = (field: DescField): string => {
    switch (field.fieldKind) {
      case 'scalar':
        return `scalar ${ScalarType[field.scalar]}`;
      case 'message':
        return `message ${field.message.typeName}`;
      case 'enum':
        return `enum ${field.enum.typeName}`;
      case 'list':
        return `list ${field.listKind === 'scalar' ? ScalarType[field.scalar] : field.listKind === 'message' ? field.message.typeName : field.enum.typeName}`;
      case 'map':
        return `map ${ScalarType[field.mapKey]}`;
    }
  };
  const fieldsOf = (message: DescMessage, replace: Readonly<Record<string, string>>): string[] =>
    message.fields.map((field) => `${field.number} ${field.name} ${field.oneof?.name ?? '-'} ${replace[shape(field)] ?? shape(field)}`);

  it('keeps the batch-as-bytes variants wire-compatible with QueryData and ExecuteScriptResponse', () => {
    expect(fieldsOf(QueryDataBatchBytesSchema, {})).toEqual(fieldsOf(QueryDataSchema, { [`message ${RowBatchDataSchema.typeName}`]: 'scalar BYTES' }));
    expect(fieldsOf(ExecuteScriptResponseBatchBytesSchema, { [`message ${QueryDataBatchBytesSchema.typeName}`]: `message ${QueryDataSchema.typeName}` })).toEqual(
      fieldsOf(ExecuteScriptResponseSchema, {}),
    );
  });
});
