/**
 * The project's TypeScript client (shared/pixie) against the local Vizier, side by side with Pixie's
 * Python client and a protobufjs decode of the same stream: same tables and values, same compile
 * error positions; plus what only the TS client does (resume, mutation retries, typed errors, TLS
 * with a custom CA, encryption on by default).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../dev/vizier/dataset.ts';
import { startVizier, type RunningVizier } from '../../../dev/vizier/server.ts';
import { createTlsMaterial } from '../../../dev/vizier/tls.ts';
import {
  ClusterUnavailableError,
  DataType,
  LargeBatchRejectedError,
  MutationFailedError,
  PixieAuthError,
  PxlCompileError,
  createPixieClient,
  type Column,
  type ExecuteEvent,
  type PixieClientOptions,
} from '../../../shared/pixie/index.ts';
import { API_KEY, CLUSTER, canonicalTables, pxapiTables, rawExecute, requirePython, runPxapi, startTestVizier, writeDataset } from './support.ts';

const SCRIPT = `import px
px.display(px.DataFrame(table='all_types'), 'all_types')
seq = px.DataFrame(table='seq')
px.display(seq, 'seq')
px.display(px.DataFrame(table='empty'), 'empty')
`;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The canonical value form of pxapi_run.py, read through the TS client's columns. */
const canonical = (column: Column, row: number): unknown => {
  switch (column.type) {
    case DataType.BOOLEAN:
      return column.get(row);
    case DataType.INT64:
    case DataType.TIME64NS:
      return column.get(row).toString();
    case DataType.UINT128:
      return column.uuid(row);
    case DataType.FLOAT64: {
      const buf = Buffer.alloc(8);
      buf.writeDoubleBE(column.get(row));
      return buf.toString('hex');
    }
    case DataType.STRING: {
      const bytes = column.raw(row);
      try {
        return UTF8.decode(bytes);
      } catch {
        return { base64: Buffer.from(bytes).toString('base64') };
      }
    }
  }
};

const collect = async (events: AsyncIterable<ExecuteEvent>): Promise<{ tables: Map<string, unknown[][]>; events: ExecuteEvent[] }> => {
  const tables = new Map<string, unknown[][]>();
  const seen: ExecuteEvent[] = [];
  for await (const event of events) {
    seen.push(event);
    if (event.kind === 'metadata') {
      tables.set(event.table.name, []);
    } else if (event.kind === 'batch') {
      const rows = tables.get(event.table.name);
      for (let r = 0; r < event.batch.numRows; r++) {
        rows?.push(event.batch.cols.map((c) => canonical(c, r)));
      }
    }
  }
  return { tables, events: seen };
};

let vizier: RunningVizier;
const client = (extra: Partial<PixieClientOptions> = {}) =>
  createPixieClient({
    address: vizier.address,
    security: { kind: 'plaintext' },
    apiKey: API_KEY,
    clusterId: CLUSTER,
    encryption: { modulusLength: 2048 },
    retry: { mutationRetryDelayMs: 50, resumeDelayMs: 50, defaultTimeoutMs: 30_000 },
    ...extra,
  });

beforeAll(async () => {
  requirePython();
  vizier = await startTestVizier(writeDataset(2500));
});
afterAll(async () => {
  await vizier.stop();
});

describe('TypeScript client vs Pixie Python client vs protobufjs, on the local Vizier', () => {
  it('all three receive the same tables, rows and values (TS with encryption on, its default)', async () => {
    const ts = client();
    try {
      const [mine, py, raw] = await Promise.all([
        collect(ts.executeScript({ script: SCRIPT })),
        runPxapi(vizier.address, SCRIPT),
        rawExecute(vizier.address, { cluster_id: CLUSTER, query_str: SCRIPT }),
      ]);
      expect({ exit: py.exitCode, stderr: py.stderr }).toMatchObject({ exit: 0 });
      const expected = canonicalTables(raw.messages);
      const python = pxapiTables(py.lines);
      for (const name of ['all_types', 'seq']) {
        expect(mine.tables.get(name)).toEqual(expected.get(name));
        expect(python.get(name)).toEqual(expected.get(name));
      }
      expect(mine.tables.get('empty')).toEqual([]);
      expect(mine.tables.get('seq')).toHaveLength(2500);
      expect(mine.events.at(-1)?.kind).toBe('stats');
      const ends = mine.events.filter((e) => e.kind === 'tableEnd');
      expect(ends.map((e) => [e.table.name, e.rows, e.truncated]).sort()).toEqual([
        ['all_types', 3, false],
        ['empty', 0, false],
        ['seq', 2500, false],
      ]);
    } finally {
      ts.close();
    }
  });

  it('TS and Python report the same compile error lines and columns', async () => {
    const script = "import px\ndf = px.DataFrame(table='nope')\ndf.x = px.not_a_function(df.n)\npx.display(df, 'x')\n";
    const ts = client({ encryption: false });
    try {
      const error = await collect(ts.executeScript({ script })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PxlCompileError);
      const py = await runPxapi(vizier.address, script);
      const pyErrors = (py.lines.at(-1)?.['error'] as { compiler_errors: unknown[] }).compiler_errors;
      expect((error as PxlCompileError).errors.map((e) => [e.line, e.column, e.message])).toEqual(pyErrors);
      // Only the first error Pixie's compiler meets (see stream.test.ts), with its source line.
      expect((error as PxlCompileError).errors).toHaveLength(1);
      expect((error as PxlCompileError).errors[0]?.sourceLine).toBe('df.x = px.not_a_function(df.n)');
    } finally {
      ts.close();
    }
  });
});

describe('the project scripts in dataset mode', () => {
  it('compiles and runs cpu_throttle.pxl (a table name held in a variable) like Pixie: empty tables, no error', async () => {
    // The dataset has neither process_stats rows nor rows of the tracepoint's table, so Pixie answers
    // with empty tables; what matters is that px.DataFrame(table=table_name) compiles.
    const ts = client({ encryption: false });
    try {
      const script = readFileSync('pxl-scripts/cpu_throttle/cpu_throttle.pxl', 'utf8');
      const result = await collect(
        ts.executeScript({ script, execFuncs: [{ funcName: 'cpu_throttle', outputTablePrefix: 'w0', args: { start_time: '-5m', end_time: '-0s', namespace: '' } }] }),
      );
      expect(result.events.some((e) => e.kind === 'mutation' && e.ready)).toBe(true);
      expect(result.tables.get('w0')).toEqual([]);
    } finally {
      ts.close();
    }
  });
});

describe('TypeScript client behaviours on faults', () => {
  it('resumes a stream reset mid-way by query_id and sees one continuous stream (pxapi cannot)', async () => {
    vizier.vizier.cluster(CLUSTER).faults = { cut: { afterBatches: 2, mode: 'rst' } };
    const ts = client({ encryption: false });
    try {
      const result = await collect(ts.executeScript({ script: SCRIPT }));
      expect(result.events.some((e) => e.kind === 'resumed')).toBe(true);
      expect(result.tables.get('seq')).toHaveLength(2500);
      const raw = canonicalTables((await rawExecute(vizier.address, { cluster_id: CLUSTER, query_str: SCRIPT })).messages);
      expect(result.tables.get('seq')).toEqual(raw.get('seq'));

      vizier.vizier.cluster(CLUSTER).faults = { cut: { afterBatches: 2, mode: 'rst' } };
      const py = await runPxapi(vizier.address, SCRIPT);
      expect(py.lines.at(-1)?.['error']).toMatchObject({ grpc_code: 'INTERNAL' });
    } finally {
      vizier.vizier.cluster(CLUSTER).faults = {};
      ts.close();
    }
  });

  it('retries a mutation while probes deploy and reports a FAILED tracepoint by name', async () => {
    const trace = (name: string): string => `import px
import pxtrace
pxtrace.UpsertTracepoint('${name}', 'tcp_drops', """kprobe:tcp_drop { printf("time_:%llu pid:%u", nsecs, pid); }""", pxtrace.kprobe(), '5m')
px.display(px.DataFrame(table='tcp_drops'), 'tcp_drops')
`;
    const ts = client({ encryption: false });
    try {
      vizier.vizier.cluster(CLUSTER).faults = { tracepoints: { pendingRequests: 2 } };
      const ok = await collect(ts.executeScript({ script: trace('exits') }));
      const mutations = ok.events.filter((e) => e.kind === 'mutation');
      expect(mutations.map((m) => m.ready)).toEqual([false, false, true]);
      // The dataset's recorded rows of the deployed tracepoint's table (support.ts).
      expect(ok.tables.get('tcp_drops')).toHaveLength(3);

      vizier.vizier.cluster(CLUSTER).faults = { tracepoints: { failed: ['doomed'] } };
      const failed = await collect(ts.executeScript({ script: trace('doomed') })).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(MutationFailedError);
      expect((failed as Error).message).toMatch(/doomed/);
    } finally {
      vizier.vizier.cluster(CLUSTER).faults = {};
      ts.close();
    }
  });

  it('maps bad key, unhealthy cluster and large batch to typed errors, and flags a capped table', async () => {
    const bad = client({ apiKey: 'nope', encryption: false });
    await expect(collect(bad.executeScript({ script: SCRIPT }))).rejects.toBeInstanceOf(PixieAuthError);
    bad.close();

    const ts = client({ encryption: false });
    try {
      vizier.vizier.cluster(CLUSTER).status = 'CS_UNHEALTHY';
      await expect(collect(ts.executeScript({ script: SCRIPT }))).rejects.toBeInstanceOf(ClusterUnavailableError);
      vizier.vizier.cluster(CLUSTER).status = 'CS_HEALTHY';

      vizier.vizier.cluster(CLUSTER).faults = { largeBatchRejectedAfter: 1 };
      await expect(collect(ts.executeScript({ script: SCRIPT }))).rejects.toBeInstanceOf(LargeBatchRejectedError);
      vizier.vizier.cluster(CLUSTER).faults = {};

      const capped = await collect(ts.executeScript({ script: SCRIPT, maxOutputRows: 1000 }));
      const seqEnd = capped.events.find((e) => e.kind === 'tableEnd' && e.table.name === 'seq');
      expect(seqEnd).toMatchObject({ rows: 1000, truncated: true });
    } finally {
      vizier.vizier.cluster(CLUSTER).status = 'CS_HEALTHY';
      vizier.vizier.cluster(CLUSTER).faults = {};
      ts.close();
    }
  });

  it('connects over TLS with the local Vizier CA, and GetClusterInfo/HealthCheck answer', async () => {
    const tls = createTlsMaterial(mkdtempSync(path.join(tmpdir(), 'vizier-tls-')));
    const secure = await startVizier({
      dataset: loadDataset(writeDataset(10)),
      apiKeys: [API_KEY],
      clusters: [{ id: CLUSTER, name: 'tls', status: 'CS_HEALTHY', faults: {} }],
      tls,
    });
    const ts = createPixieClient({ address: secure.address, security: { kind: 'tls-ca', caPem: tls.ca }, apiKey: API_KEY, clusterId: CLUSTER, encryption: false });
    try {
      const result = await collect(ts.executeScript({ script: "import px\npx.display(px.DataFrame('seq'), 'seq')\n" }));
      expect(result.tables.get('seq')).toHaveLength(10);
      const cluster = await ts.getCluster();
      expect(cluster).toMatchObject({ clusterName: 'tls' });
      expect(await ts.healthCheck()).toBeTruthy();
    } finally {
      ts.close();
      await secure.stop();
    }
  });
});
