/**
 * The local Vizier's stream order, errors and faults, checked with a raw gRPC client whose
 * responses are decoded by protobufjs from the project's proto text (not by the server's encoder).
 */
import { compactDecrypt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encode, pb } from '../../support/pixie-protobufjs.ts';
import type { RunningVizier } from '../../../dev/vizier/server.ts';
import { API_KEY, CLUSTER, SICK_CLUSTER, batchOf, rawExecute, startTestVizier, writeDataset, type StreamResult } from './support.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const THREE_TABLES = `import px
seq = px.DataFrame(table='seq')
px.display(seq, 'seq')
px.display(px.DataFrame('all_types'), 'all_types')
e = px.DataFrame(table='empty')
px.display(e, 'empty')
`;

let vizier: RunningVizier;
beforeAll(async () => {
  vizier = await startTestVizier(writeDataset(2500), { healthIntervalMs: 1500 });
});
afterAll(async () => {
  await vizier.stop();
});

const run = async (request: Record<string, unknown>, apiKey?: string): Promise<StreamResult> =>
  rawExecute(vizier.address, { cluster_id: CLUSTER, ...request }, apiKey === undefined ? {} : { apiKey });

const tableRows = (result: StreamResult): Map<string, number> => {
  const names = new Map<string, string>();
  const rows = new Map<string, number>();
  for (const m of result.messages) {
    const meta = m['meta_data'] as { id: string; name: string } | null;
    if (meta !== null) {
      names.set(meta.id, meta.name);
    }
    const batch = batchOf(m);
    if (batch !== undefined) {
      const name = names.get(batch.table_id) ?? `?${batch.table_id}`;
      rows.set(name, (rows.get(name) ?? 0) + Number(batch.num_rows));
    }
  }
  return rows;
};

describe('ExecuteScript stream order', () => {
  it('sends query_id everywhere, all metadata first, interleaved batches, one eos per table, stats last, then OK', async () => {
    const result = await run({ query_str: THREE_TABLES });
    expect(result.status.code).toBe(grpc.status.OK);
    const queryId = result.messages[0]?.['query_id'];
    expect(queryId).toMatch(UUID);
    expect(result.messages.every((m) => m['query_id'] === queryId)).toBe(true);

    const kind = (m: Record<string, unknown>): string => {
      const stats = (m['data'] as { execution_stats: unknown } | null)?.execution_stats;
      return m['meta_data'] !== null ? 'meta' : batchOf(m) !== undefined ? 'batch' : stats !== null && stats !== undefined ? 'stats' : 'other';
    };
    const kinds = result.messages.map(kind);
    expect(kinds.slice(0, 3)).toEqual(['meta', 'meta', 'meta']);
    expect(kinds.slice(3, -1).every((k) => k === 'batch')).toBe(true);
    expect(kinds.at(-1)).toBe('stats');

    const metas = result.messages.slice(0, 3).map((m) => m['meta_data'] as { id: string; name: string; relation: { columns: { column_name: string; column_type: number }[] } });
    expect(metas.map((m) => m.name)).toEqual(['seq', 'all_types', 'empty']);
    expect(new Set(metas.map((m) => m.id)).size).toBe(3);
    for (const m of metas) {
      expect(m.id).toMatch(UUID);
    }
    expect(metas[1]?.relation.columns.map((c) => [c.column_name, c.column_type])).toEqual([
      ['time_', 6],
      ['upid', 3],
      ['count', 2],
      ['ratio', 4],
      ['ok', 1],
      ['pod', 5],
    ]);

    const batches = result.messages.map(batchOf).filter((b) => b !== undefined);
    // Round-robin: the first three batches belong to three different tables.
    expect(new Set(batches.slice(0, 3).map((b) => b.table_id)).size).toBe(3);
    for (const meta of metas) {
      const own = batches.filter((b) => b.table_id === meta.id);
      expect(own.filter((b) => b.eos)).toHaveLength(1);
      expect(own.at(-1)?.eos).toBe(true);
      expect(own.at(-1)?.eow).toBe(true);
    }
    expect(Object.fromEntries(tableRows(result))).toEqual({ seq: 2500, all_types: 3, empty: 0 });
    const emptyBatch = batches.find((b) => b.table_id === metas[2]?.id);
    expect(emptyBatch?.num_rows).toBe('0');
    expect(emptyBatch?.cols).toHaveLength(1);

    const stats = (result.messages.at(-1)?.['data'] as { execution_stats: { records_processed: string; bytes_processed: string } }).execution_stats;
    expect(stats.records_processed).toBe('2503');
    expect(Number(stats.bytes_processed)).toBeGreaterThan(0);
  });

  it('encodes every data type exactly as the dataset holds it', async () => {
    const result = await run({ query_str: "import px\npx.display(px.DataFrame('all_types'), 'all_types')\n" });
    const batch = result.messages.map(batchOf).find((b) => b !== undefined);
    expect(batch?.num_rows).toBe('3');
    const cols = batch?.cols ?? [];
    expect(cols[0]?.['time64ns_data']?.data).toEqual(['1764000000000000000', '1764000001000000000', '1764000002000000000']);
    expect(cols[1]?.['uint128_data']?.data).toEqual([
      { low: String(0x3039), high: String((1n << 32n) | 0x4d2n) },
      { low: '1', high: '18446744073709551615' },
      { low: '0', high: '0' },
    ]);
    expect(cols[2]?.['int64_data']?.data).toEqual(['0', '-9223372036854775808', '9223372036854775807']);
    expect(cols[3]?.['float64_data']?.data).toEqual([0.1, -1e-300, 12345.678]);
    expect(cols[4]?.['boolean_data']?.data).toEqual([true, false, true]);
    expect((cols[5]?.['string_data']?.data as Buffer[]).map((b) => b.toString('hex'))).toEqual([Buffer.from('default/web-1').toString('hex'), '', 'fffe41']);
  });

  it('caps each table at #px:set max_output_rows_per_table and still ends it with eos', async () => {
    const result = await run({ query_str: `#px:set max_output_rows_per_table=1500\n${THREE_TABLES}` });
    expect(result.status.code).toBe(grpc.status.OK);
    expect(Object.fromEntries(tableRows(result))).toEqual({ seq: 1500, all_types: 3, empty: 0 });
  });

  it('serves exec_funcs outputs under their output_table_prefix, windowed by their arguments', async () => {
    const script = "import px\n\ndef cpu(start: str):\n    df = px.DataFrame(table='seq', start_time=start)\n    return df\n";
    const call = (start: string) => run({ query_str: script, exec_funcs: [{ func_name: 'cpu', arg_values: [{ name: 'start', value: start }], output_table_prefix: 'cpu_out' }] });
    // seq is dated 2025-11-24 (support.ts): '-5m' is relative to the wall clock, as in Pixie, so it
    // selects nothing (api-facts, last section); an absolute start at the data's first row selects all.
    const recent = await call('-5m');
    expect(recent.status.code).toBe(grpc.status.OK);
    expect(Object.fromEntries(tableRows(recent))).toEqual({ cpu_out: 0 });
    const all = await call('2025-11-24T16:00:00Z');
    expect(Object.fromEntries(tableRows(all))).toEqual({ cpu_out: 2500 });
  });
});

describe('ExecuteScript errors', () => {
  it('answers a compile error with one status message (code 3, the first error Pixie meets) then INVALID_ARGUMENT', async () => {
    // Three errors: Pixie walks the whole AST before its Analyzer looks tables up
    // (src/carnot/planner/compiler/compiler.cc:62-70 CompileToIR: QueryToIR, then Analyze), so the
    // unknown px attribute on line 3 is reported, alone, before the unknown table on line 2; the
    // status message is the error's own text (ir/ast_utils.h:50-55 CreateAstError).
    const script = "import px\ndf = px.DataFrame(table='nope')\ndf.x = px.not_a_function(df.n)\npx.display(df)\n";
    const result = await run({ query_str: script });
    expect(result.status).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: "rpc error: code = InvalidArgument desc = 'px' object has no attribute 'not_a_function'" });
    expect(result.messages).toHaveLength(1);
    const status = result.messages[0]?.['status'] as { code: number; message: string; error_details: { compiler_error: { line: string; column: string; message: string } }[] };
    expect(status.code).toBe(3);
    expect(status.message).toBe("'px' object has no attribute 'not_a_function'");
    expect(status.error_details.map((d) => [d.compiler_error.line, d.compiler_error.column, d.compiler_error.message])).toEqual([['3', '11', "'px' object has no attribute 'not_a_function'"]]);
    expect(result.messages[0]?.['query_id']).toMatch(UUID);
  });

  it('refuses an unknown #px:set flag as a plain error before compiling, and a syntax error as SyntaxError', async () => {
    // query_flags.go:116 `%s is not a valid flag`, returned by getPlanOpts before any status message
    // (query_executor.go:284-291, 469-473); the proxies keep its code, UNKNOWN for a plain Go error.
    const flag = await run({ query_str: "#px:set bogus_flag=1\nimport px\npx.display(px.DataFrame('seq'), 'seq')\n" });
    expect(flag.status).toEqual({ code: grpc.status.UNKNOWN, details: 'rpc error: code = Unknown desc = bogus_flag is not a valid flag' });
    expect(flag.messages).toHaveLength(0);
    // parser.cc PypaErrorHandler: one compiler error `SyntaxError: <pypa text>` per error pypa met,
    // the status message their texts concatenated (these are what Pixie's parser gave for this
    // script: test/fixtures/pxl-syntax/pypa-errors.json).
    const syntax = await run({ query_str: "import px\npx.display(px.DataFrame('seq')\n" });
    const status = syntax.messages[0]?.['status'] as { message: string; error_details: { compiler_error: { line: string; column: string; message: string } }[] };
    expect(syntax.status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.error_details.map((d) => [Number(d.compiler_error.line), Number(d.compiler_error.column), d.compiler_error.message])).toEqual([
      [3, 1, 'SyntaxError: Expected `)`'],
      [2, 11, 'SyntaxError: Expected new line after statement'],
      [2, 1, 'SyntaxError: invalid syntax'],
    ]);
    expect(status.message).toBe('Expected `)`Expected new line after statementinvalid syntax');
  });

  it('refuses a script that displays nothing (InvalidArgument, no position)', async () => {
    // compiler.cc:136-145 VerifyGraphHasResultSink.
    const result = await run({ query_str: "import px\ndf = px.DataFrame(table='seq')\n" });
    expect(result.status).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'rpc error: code = InvalidArgument desc = query does not output a result, please add a px.display() statement' });
    expect(result.messages[0]?.['status']).toMatchObject({ code: 3, message: 'query does not output a result, please add a px.display() statement', error_details: [] });
  });

  it('answers a bad API key with INTERNAL "Auth middleware failed" and sends nothing', async () => {
    const result = await run({ query_str: THREE_TABLES }, 'wrong-key');
    expect(result.status).toEqual({ code: grpc.status.INTERNAL, details: 'Auth middleware failed: failed to fetch token - unauthenticated' });
    expect(result.messages).toHaveLength(0);
  });

  it('gates on cluster_id: malformed -> INVALID_ARGUMENT, unhealthy -> UNAVAILABLE, unknown -> INTERNAL', async () => {
    expect((await run({ query_str: THREE_TABLES, cluster_id: 'not-a-uuid' })).status).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'missing/malformed cluster_id' });
    expect((await run({ query_str: THREE_TABLES, cluster_id: SICK_CLUSTER })).status).toEqual({ code: grpc.status.UNAVAILABLE, details: 'cluster is not in a healthy state' });
    expect((await run({ query_str: THREE_TABLES, cluster_id: '00000000-0000-4000-8000-000000000000' })).status.code).toBe(grpc.status.INTERNAL);
  });

  it('ends with INTERNAL "Large data batch rejected" when that fault is set', async () => {
    vizier.vizier.cluster(CLUSTER).faults = { largeBatchRejectedAfter: 1 };
    try {
      const result = await run({ query_str: THREE_TABLES });
      expect(result.status.code).toBe(grpc.status.INTERNAL);
      expect(result.status.details).toMatch(/^Large data batch rejected/);
      expect(result.messages.filter((m) => batchOf(m) !== undefined)).toHaveLength(1);
    } finally {
      vizier.vizier.cluster(CLUSTER).faults = {};
    }
  });

  it('sends an execution error as a status message then that gRPC code', async () => {
    vizier.vizier.cluster(CLUSTER).faults = { executionError: { afterBatches: 2, code: grpc.status.RESOURCE_EXHAUSTED, message: 'memory limit exceeded' } };
    try {
      const result = await run({ query_str: THREE_TABLES });
      expect(result.status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(result.messages.at(-1)?.['status']).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, message: 'memory limit exceeded' });
    } finally {
      vizier.vizier.cluster(CLUSTER).faults = {};
    }
  });
});

describe('mutations', () => {
  const TRACE = (name: string, table = 'tcp_drops') => `import px
import pxtrace
program = """kprobe:tcp_drop { printf("time_:%llu pid:%u", nsecs, pid); }"""
pxtrace.UpsertTracepoint('${name}', '${table}', program, pxtrace.kprobe(), '10m')
px.display(px.DataFrame(table='${table}'), '${table}')
`;
  const mutationOf = (r: StreamResult) => r.messages[0]?.['mutation_info'] as { status: { code: number; message: string }; states: { id: string; name: string; state: number }[] };

  it('answers PENDING with a mutation_info-only code 14 message then UNAVAILABLE, and runs once RUNNING', async () => {
    const pending = await run({ query_str: TRACE('drops'), mutation: true });
    expect(pending.status).toEqual({ code: grpc.status.UNAVAILABLE, details: 'rpc error: code = Unavailable desc = probe installation in progress' });
    expect(pending.messages).toHaveLength(1);
    expect(pending.messages[0]?.['meta_data']).toBeNull();
    expect(pending.messages[0]?.['data']).toBeNull();
    expect(mutationOf(pending).status).toMatchObject({ code: 14, message: 'probe installation in progress' });
    expect(mutationOf(pending).states).toMatchObject([{ name: 'drops', state: 1 }]);

    const running = await run({ query_str: TRACE('drops'), mutation: true });
    expect(running.status.code).toBe(grpc.status.OK);
    expect(mutationOf(running).status.code).toBe(0);
    expect(mutationOf(running).states).toEqual([{ id: mutationOf(pending).states[0]?.id, name: 'drops', state: 2 }]);
    expect(running.messages[1]?.['meta_data']).not.toBeNull();
    // The dataset's recorded tcp_drops rows, readable now that the tracepoint is deployed.
    expect(Object.fromEntries(tableRows(running))).toEqual({ tcp_drops: 3 });
  });

  it('keeps a never-ready tracepoint PENDING and reports a FAILED one by name (still code 14)', async () => {
    vizier.vizier.cluster(CLUSTER).faults = { tracepoints: { neverReady: ['stuck'], failed: ['broken'] } };
    try {
      for (let i = 0; i < 3; i++) {
        expect(mutationOf(await run({ query_str: TRACE('stuck'), mutation: true })).states[0]?.state).toBe(1);
      }
      const failed = await run({ query_str: TRACE('broken'), mutation: true });
      expect(failed.status.code).toBe(grpc.status.UNAVAILABLE);
      expect(mutationOf(failed)).toMatchObject({ status: { code: 14 }, states: [{ name: 'broken', state: 3 }] });
    } finally {
      vizier.vizier.cluster(CLUSTER).faults = {};
    }
  });

  it('without mutation=true deploys nothing: no mutation_info, and the declared table does not exist', async () => {
    // Only mutation requests run CompileTrace (query_executor.go:476-480); the planner then knows
    // no table `never_deployed` (memory_source_ir.cc:116), although the dataset holds its rows.
    const result = await run({ query_str: TRACE('ignored', 'never_deployed') });
    expect(result.messages.every((m) => m['mutation_info'] === null)).toBe(true);
    expect(result.status).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: "rpc error: code = InvalidArgument desc = Table 'never_deployed' not found." });
  });

  it('serves a deployed tracepoint table without data as a normal empty result', async () => {
    for (const expected of [grpc.status.UNAVAILABLE, grpc.status.OK]) {
      expect((await run({ query_str: TRACE('fresh', 'fresh_table'), mutation: true })).status.code).toBe(expected);
    }
    const later = await run({ query_str: "import px\npx.display(px.DataFrame(table='fresh_table'), 'fresh')\n" });
    expect(later.status.code).toBe(grpc.status.OK);
    expect(Object.fromEntries(tableRows(later))).toEqual({ fresh: 0 });
  });
});

describe('cut streams and resume', () => {
  it('resets the stream after N batches (INTERNAL RST_STREAM) and resumes by query_id with the rest', async () => {
    vizier.vizier.cluster(CLUSTER).faults = { cut: { afterBatches: 2, mode: 'rst' } };
    try {
      const first = await run({ query_str: THREE_TABLES });
      expect(first.status.code).toBe(grpc.status.INTERNAL);
      expect(first.status.details).toMatch(/RST_STREAM/);
      const queryId = first.messages[0]?.['query_id'] as string;
      expect(first.messages.filter((m) => batchOf(m) !== undefined)).toHaveLength(2);

      const rest = await run({ query_id: queryId });
      expect(rest.status.code).toBe(grpc.status.OK);
      expect(rest.messages.every((m) => m['query_id'] === queryId)).toBe(true);
      expect(rest.messages.some((m) => m['meta_data'] !== null)).toBe(false);
      const all = { status: rest.status, messages: [...first.messages, ...rest.messages] };
      expect(Object.fromEntries(tableRows(all))).toEqual({ seq: 2500, all_types: 3, empty: 0 });

      const again = await run({ query_id: queryId });
      expect(again.status).toEqual({ code: grpc.status.UNKNOWN, details: `rpc error: code = Unknown desc = error in StreamResults: Query ${queryId} not registered in query forwarder` });
    } finally {
      vizier.vizier.cluster(CLUSTER).faults = {};
    }
  });

  it('keeps a query the client walked away from resumable, and keeps serving', async () => {
    vizier.vizier.cluster(CLUSTER).faults = { batchDelayMs: 30 };
    try {
      const first = await rawExecute(vizier.address, { cluster_id: CLUSTER, query_str: THREE_TABLES }, {
        onMessage: (m, call) => {
          if (batchOf(m) !== undefined) {
            call.cancel();
          }
        },
      });
      expect(first.status.code).toBe(grpc.status.CANCELLED);
      vizier.vizier.cluster(CLUSTER).faults = {};
      const queryId = first.messages[0]?.['query_id'] as string;
      const rest = await run({ query_id: queryId });
      expect(rest.status.code).toBe(grpc.status.OK);
      const received = first.messages.filter((m) => batchOf(m) !== undefined).length + rest.messages.filter((m) => batchOf(m) !== undefined).length;
      // One batch may be lost in flight at the cancel (the server had written it): at most one.
      expect(received).toBeGreaterThanOrEqual(4);
      expect(received).toBeLessThanOrEqual(5);
      expect((await run({ query_str: THREE_TABLES })).status.code).toBe(grpc.status.OK);
    } finally {
      vizier.vizier.cluster(CLUSTER).faults = {};
    }
  });

  it('drops the connection after N batches (UNAVAILABLE)', async () => {
    vizier.vizier.cluster(CLUSTER).faults = { cut: { afterBatches: 1, mode: 'disconnect' } };
    try {
      const result = await run({ query_str: THREE_TABLES });
      expect(result.status.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      vizier.vizier.cluster(CLUSTER).faults = {};
    }
  });

  it('delays the answer when asked', async () => {
    vizier.vizier.cluster(CLUSTER).faults = { delayMs: 400 };
    try {
      const started = performance.now();
      let firstAt = 0;
      await rawExecute(vizier.address, { cluster_id: CLUSTER, query_str: THREE_TABLES }, {
        onMessage: () => {
          firstAt ||= performance.now();
        },
      });
      expect(firstAt - started).toBeGreaterThanOrEqual(390);
    } finally {
      vizier.vizier.cluster(CLUSTER).faults = {};
    }
  });
});

describe('encryption', () => {
  it('sends batches as JWE (RSA-OAEP-256, A256GCM, zip DEF) in encrypted_batch and leaves the rest clear', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true });
    const jwk = await exportJWK(publicKey);
    const result = await run({
      query_str: THREE_TABLES,
      encryption_options: { jwk_key: JSON.stringify(jwk), key_alg: 'RSA-OAEP-256', content_alg: 'A256GCM', compression_alg: 'DEF' },
    });
    expect(result.status.code).toBe(grpc.status.OK);
    const encrypted = result.messages
      .map((m) => m['data'] as { batch: unknown; encrypted_batch: Buffer } | null)
      .filter((d) => d !== null && d.encrypted_batch.length > 0);
    expect(encrypted.length).toBe(5);
    let rows = 0;
    for (const data of encrypted) {
      expect(data?.batch).toBeNull();
      const jwe = data?.encrypted_batch.toString('ascii') ?? '';
      expect(decodeProtectedHeader(jwe)).toEqual({ alg: 'RSA-OAEP-256', enc: 'A256GCM', zip: 'DEF' });
      const { plaintext } = await compactDecrypt(jwe, privateKey);
      rows += Number(decode(pb.RowBatchData, plaintext)['num_rows']);
    }
    expect(rows).toBe(2503);
    expect(result.messages.filter((m) => m['meta_data'] !== null)).toHaveLength(3);
  });

  it('rejects unusable encryption options with INVALID_ARGUMENT', async () => {
    const result = await run({ query_str: THREE_TABLES, encryption_options: { jwk_key: '{"kty":"oct"}', key_alg: 'RSA-OAEP-256', content_alg: 'A256GCM', compression_alg: 'DEF' } });
    expect(result.status.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe('HealthCheck and GetClusterInfo', () => {
  it('HealthCheck sends one OK status at once, then one per interval', async () => {
    const client = new grpc.Client(vizier.address, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set('pixie-api-key', API_KEY);
    const times: number[] = [];
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const call = client.makeServerStreamRequest(
        '/px.api.vizierpb.VizierService/HealthCheck',
        (r: Record<string, unknown>) => encode(pb.HealthCheckRequest, r),
        (b: Buffer) => decode(pb.HealthCheckResponse, b),
        { cluster_id: CLUSTER },
        metadata,
      );
      call.on('data', (m: Record<string, unknown>) => {
        expect(m['status']).toMatchObject({ code: 0 });
        times.push(performance.now() - started);
        if (times.length === 3) {
          call.cancel();
        }
      });
      call.on('error', () => {
        resolve();
      });
    });
    client.close();
    // Interval 1.5 s here: the first status must come well before one interval, the next ones one apart.
    expect(times[0]).toBeLessThan(1_200);
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBeGreaterThan(1_400);
  });

  it('GetClusterInfo lists clusters (by id, or all) with UUID bits and status, behind the same auth', async () => {
    const client = new grpc.Client(vizier.address, grpc.credentials.createInsecure());
    const call = async (request: Record<string, unknown>, key: string) =>
      new Promise<{ error: grpc.ServiceError | null; value: Record<string, unknown> | undefined }>((resolve) => {
        const metadata = new grpc.Metadata();
        metadata.set('pixie-api-key', key);
        client.makeUnaryRequest(
          '/px.cloudapi.VizierClusterInfo/GetClusterInfo',
          (r: Record<string, unknown>) => encode(pb.GetClusterInfoRequest, r),
          (b: Buffer) => decode(pb.GetClusterInfoResponse, b),
          request,
          metadata,
          (error, value) => {
            resolve({ error, value });
          },
        );
      });
    const all = await call({}, API_KEY);
    const clusters = all.value?.['clusters'] as { id: { high_bits: string; low_bits: string }; status: number; cluster_name: string }[];
    expect(clusters.map((c) => [c.cluster_name, c.status])).toEqual([
      ['local-test', 1],
      ['sick', 2],
    ]);
    expect(BigInt(clusters[0]?.id.high_bits ?? 0).toString(16)).toBe('1111111122224333');
    const one = await call({ id: { high_bits: BigInt('0x1111111122224333').toString(), low_bits: BigInt('0x8444555555555555').toString() } }, API_KEY);
    expect((one.value?.['clusters'] as unknown[]).length).toBe(1);
    // An unknown id is an empty list, not an error: Pixie Cloud's GetClusterInfo filters the org's
    // clusters (src/cloud/api/controllers/vizier_cluster_grpc.go:63-91; api-facts, last section).
    const unknown = await call({ id: { high_bits: '1', low_bits: '2' } }, API_KEY);
    expect(unknown.error).toBeNull();
    expect(unknown.value?.['clusters'] ?? []).toEqual([]);
    const denied = await call({}, 'nope');
    expect(denied.error?.code).toBe(grpc.status.INTERNAL);
    client.close();
  });

  it('reads the API key only from pixie-api-key: the key as a bearer token is refused', async () => {
    // session_middleware.go:142-204 getAugmentedToken: keys come from `pixie-api-key` (:146); a
    // bearer value is taken as a user token (:181), which an API key is not.
    const client = new grpc.Client(vizier.address, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `bearer ${API_KEY}`);
    const error = await new Promise<grpc.ServiceError | null>((resolve) => {
      client.makeUnaryRequest('/px.cloudapi.VizierClusterInfo/GetClusterInfo', (r: Record<string, unknown>) => encode(pb.GetClusterInfoRequest, r), (b: Buffer) => b, {}, metadata, (e) => {
        resolve(e);
      });
    });
    client.close();
    expect({ code: error?.code, details: error?.details }).toEqual({ code: grpc.status.INTERNAL, details: 'Auth middleware failed: failed to fetch token - unauthenticated' });
  });
});
