/**
 * Pixie's official Python client (pxapi 0.9.0 from PyPI, installed by dev/setup/20-pixie-clients.sh)
 * against the local Vizier: it connects (GetClusterInfo), executes scripts, and must receive the
 * same tables and values as an independent protobufjs decode of the same stream; it must see
 * compile errors with the same line and column, decrypt encrypted batches, and get Pixie's errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningVizier } from '../../../dev/vizier/server.ts';
import { CLUSTER, canonicalTables, pxapiTables, rawExecute, requirePython, runPxapi, startTestVizier, writeDataset } from './support.ts';

const SCRIPT = `import px
px.display(px.DataFrame(table='all_types'), 'all_types')
seq = px.DataFrame(table='seq')
px.display(seq, 'seq')
px.display(px.DataFrame(table='empty'), 'empty')
`;

let vizier: RunningVizier;
beforeAll(async () => {
  requirePython();
  vizier = await startTestVizier(writeDataset(2500));
});
afterAll(async () => {
  await vizier.stop();
});

describe("Pixie's Python client (pxapi)", () => {
  it('receives the same tables, columns and values as a protobufjs decode of the stream', async () => {
    const [py, raw] = await Promise.all([runPxapi(vizier.address, SCRIPT), rawExecute(vizier.address, { cluster_id: CLUSTER, query_str: SCRIPT })]);
    expect({ exit: py.exitCode, stderr: py.stderr, last: py.lines.at(-1) }).toMatchObject({ exit: 0 });
    const expected = canonicalTables(raw.messages);
    const got = pxapiTables(py.lines);
    // pxapi only announces a table once its first row arrives, so the empty table shows as count 0.
    expect(py.lines).toContainEqual({ table: 'empty', count: 0 });
    expect(got.get('all_types')).toEqual(expected.get('all_types'));
    expect(got.get('seq')).toEqual(expected.get('seq'));
    expect(got.get('seq')).toHaveLength(2500);
    expect(got.get('all_types')).toEqual([
      ['1764000000000000000', '00000001-0000-04d2-0000-000000003039', '0', '3fb999999999999a', true, 'default/web-1'],
      ['1764000001000000000', 'ffffffff-ffff-ffff-0000-000000000001', '-9223372036854775808', '81a56e1fc2f8f359', false, ''],
      ['1764000002000000000', '00000000-0000-0000-0000-000000000000', '9223372036854775807', '40c81cd6c8b43958', true, { base64: '//5B' }],
    ]);
    expect(py.lines.find((l) => 'columns' in l && l['table'] === 'all_types')?.['columns']).toEqual([
      ['time_', 'TIME64NS'],
      ['upid', 'UINT128'],
      ['count', 'INT64'],
      ['ratio', 'FLOAT64'],
      ['ok', 'BOOLEAN'],
      ['pod', 'STRING'],
    ]);
  });

  it("windows rows on the wall clock like Pixie: '-5m' over data dated 2025 is empty, an absolute start is not", async () => {
    // px.DataFrame start_time: relative times count back from the query's now (api-facts §7 and last
    // section); seq is dated 2025-11-24T16:00:00Z + i us (support.ts).
    const script = (start: string) => `import px\npx.display(px.DataFrame(table='seq', start_time='${start}'), 'seq')\n`;
    const recent = await runPxapi(vizier.address, script('-5m'), ['--mode', 'count']);
    expect(recent.lines).toContainEqual({ table: 'seq', count: 0 });
    const all = await runPxapi(vizier.address, script('2025-11-24T16:00:00Z'), ['--mode', 'count']);
    expect(all.lines).toContainEqual({ table: 'seq', count: 2500 });
  });

  it('gets head, column selection and computed columns with their semantic types', async () => {
    const script = "import px\ndf = px.DataFrame(table='all_types', select=['time_', 'upid', 'pod'])\ndf.pid = px.upid_to_pid(df.upid)\ndf.ns = px.pod_name_to_namespace(df.pod)\npx.display(df.head(2), 'two')\n";
    const py = await runPxapi(vizier.address, script);
    expect(pxapiTables(py.lines).get('two')).toEqual([
      ['1764000000000000000', '00000001-0000-04d2-0000-000000003039', 'default/web-1', '1234', 'default'],
      ['1764000001000000000', 'ffffffff-ffff-ffff-0000-000000000001', '', '4294967295', ''],
    ]);
    // pod_name_to_namespace declares ST_NAMESPACE_NAME (metadata_ops.h:225); upid_to_pid none.
    expect(py.lines.find((l) => l['table'] === 'two' && 'semantics' in l)?.['semantics']).toEqual(['ST_NONE', 'ST_UPID', 'ST_POD_NAME', 'ST_NONE', 'ST_NAMESPACE_NAME']);
  });

  it('cannot connect to a cluster id Pixie Cloud does not know: GetClusterInfo answers an empty list', async () => {
    // vizier_cluster_grpc.go:63-91 looks the id up and returns what it finds; pxapi 0.9.0 indexes
    // the first cluster of the answer, so an empty list fails there (the Go client: ErrClusterNotFound).
    const py = await runPxapi(vizier.address, SCRIPT, ['--cluster', '11111111-2222-4333-8444-000000000000']);
    expect(py.lines.at(-1)?.['error']).toMatchObject({ type: 'IndexError', grpc_code: null });
  });

  it('decrypts encrypted batches (use_encryption=True) to the same rows, with no plaintext warning', async () => {
    const py = await runPxapi(vizier.address, SCRIPT, ['--encrypt']);
    expect({ exit: py.exitCode, stderr: py.stderr }).toMatchObject({ exit: 0 });
    expect(py.stderr).not.toMatch(/unencrypted/);
    const raw = await rawExecute(vizier.address, { cluster_id: CLUSTER, query_str: SCRIPT });
    const expected = canonicalTables(raw.messages);
    const got = pxapiTables(py.lines);
    expect(got.get('seq')).toEqual(expected.get('seq'));
    expect(got.get('all_types')).toEqual(expected.get('all_types'));
  });

  it('sees compile errors with the same line and column the server sent', async () => {
    const script = "import px\ndf = px.DataFrame(table='nope')\ndf.x = px.not_a_function(df.n)\npx.display(df, 'x')\n";
    const py = await runPxapi(vizier.address, script);
    expect(py.exitCode).toBe(3);
    const error = py.lines.at(-1)?.['error'] as { type: string; compiler_errors: unknown[] };
    expect(error.type).toBe('PxLError');
    const raw = await rawExecute(vizier.address, { cluster_id: CLUSTER, query_str: script });
    const details = (raw.messages[0]?.['status'] as { error_details: { compiler_error: { line: string; column: string; message: string } }[] }).error_details;
    expect(error.compiler_errors).toEqual(details.map((d) => [Number(d.compiler_error.line), Number(d.compiler_error.column), d.compiler_error.message]));
    // The first error Pixie's compiler meets: the AST walk (line 3) precedes the table lookup (line 2)
    // (src/carnot/planner/compiler/compiler.cc:62-70).
    expect(error.compiler_errors).toEqual([[3, 11, "'px' object has no attribute 'not_a_function'"]]);
  });

  it("gets Pixie's auth error for a bad API key", async () => {
    const py = await runPxapi(vizier.address, SCRIPT, [], { PX_TEST_API_KEY: 'not-the-key' });
    expect(py.exitCode).toBe(3);
    expect(py.lines.at(-1)?.['error']).toMatchObject({ grpc_code: 'INTERNAL', grpc_details: 'Auth middleware failed: failed to fetch token - unauthenticated' });
  });

  it('gets UNAVAILABLE from an unhealthy cluster after connecting to it', async () => {
    vizier.vizier.cluster(CLUSTER).status = 'CS_UNHEALTHY';
    try {
      const py = await runPxapi(vizier.address, SCRIPT);
      expect(py.lines.at(-1)?.['error']).toMatchObject({ grpc_code: 'UNAVAILABLE', grpc_details: 'cluster is not in a healthy state' });
    } finally {
      vizier.vizier.cluster(CLUSTER).status = 'CS_HEALTHY';
    }
  });

  it('stops at the row cap like Pixie: a capped table is shorter, not an error', async () => {
    const py = await runPxapi(vizier.address, `#px:set max_output_rows_per_table=700\n${SCRIPT}`, ['--mode', 'count']);
    expect({ exit: py.exitCode, stderr: py.stderr }).toMatchObject({ exit: 0 });
    expect(py.lines).toContainEqual({ table: 'seq', count: 700 });
  });
});
