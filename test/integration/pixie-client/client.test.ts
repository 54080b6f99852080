/**
 * The TypeScript Pixie client against the local Vizier (dev/vizier) over real gRPC: streaming with
 * exact values, encryption, resume after stream cuts, mutations, errors, deadlines, cancellation,
 * cluster calls, TLS with a custom CA. Each failure comes from the Vizier's fault model
 * (dev/vizier/faults.ts), which follows Pixie's own rules (../shared/pixie/api-facts.md); what the
 * client sent is read from the Vizier's `onRequest`, not assumed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Faults } from '../../../dev/vizier/faults.ts';
import { type ReceivedRequest, type RunningVizier, startVizier } from '../../../dev/vizier/server.ts';
import { createTlsMaterial } from '../../../dev/vizier/tls.ts';
import { LIFE_CYCLE } from '../../../dev/vizier/tracepoints.ts';
import {
  ClusterUnavailableError,
  DataType,
  type ExecuteEvent,
  LargeBatchRejectedError,
  MutationFailedError,
  PixieAuthError,
  PixieCancelledError,
  PixieDeadlineError,
  type PixieClient,
  type PixieClientOptions,
  PxlCompileError,
  type QueryResult,
  createPixieClient,
} from '../../../shared/pixie/index.ts';
import { API_KEY, HEALTHY_CLUSTER, UNHEALTHY_CLUSTER, UNKNOWN_CLUSTER, procRow, procsTable } from './dataset.ts';

/** Rows per data batch: small, so a few dozen rows make a stream of many batches to cut. */
const BATCH_ROWS = 4;
const PROCS_ROWS = 60;

let vizier: RunningVizier;
const requests: ReceivedRequest[] = [];
const clients: PixieClient[] = [];

const client = (overrides: Partial<PixieClientOptions> = {}, address = vizier.address): PixieClient => {
  const created = createPixieClient({
    address,
    security: { kind: 'plaintext' },
    apiKey: API_KEY,
    clusterId: HEALTHY_CLUSTER,
    encryption: false,
    retry: { mutationRetryDelayMs: 50, resumeDelayMs: 20 },
    ...overrides,
  });
  clients.push(created);
  return created;
};

/** Runs `body` with `faults` on the healthy cluster, then clears them. */
const withFaults = async <T,>(faults: Faults, body: () => Promise<T>): Promise<T> => {
  vizier.vizier.cluster(HEALTHY_CLUSTER).faults = faults;
  try {
    return await body();
  } finally {
    vizier.vizier.cluster(HEALTHY_CLUSTER).faults = {};
  }
};

/** The first `rows` procs rows as `procs`, and their count as `summary` (computed by the Vizier's PxL engine). */
const procsScript = (rows: number): string => `import px
df = px.DataFrame(table='procs').head(${rows})
px.display(df, 'procs')
px.display(df.agg(total=('counter', px.count)), 'summary')
`;

const collectEvents = async (events: AsyncIterable<ExecuteEvent>): Promise<ExecuteEvent[]> => {
  const out: ExecuteEvent[] = [];
  for await (const event of events) {
    out.push(event);
  }
  return out;
};

/** The requests the Vizier received while `body` ran. */
const requestsDuring = async (body: () => Promise<unknown>): Promise<ReceivedRequest[]> => {
  const before = requests.length;
  await body();
  return requests.slice(before);
};

/** Checks every value of the procs table against the dataset, row by row. */
const expectProcsRows = (result: QueryResult, rows: number, name = 'procs'): void => {
  const procs = result.tables.get(name);
  expect(procs?.rows).toBe(rows);
  const time = procs!.column('time_');
  const upid = procs!.column('upid');
  const counter = procs!.column('counter');
  const ratio = procs!.column('ratio');
  const pod = procs!.column('pod');
  const alive = procs!.column('alive');
  if (
    time.type !== DataType.TIME64NS ||
    upid.type !== DataType.UINT128 ||
    counter.type !== DataType.INT64 ||
    ratio.type !== DataType.FLOAT64 ||
    pod.type !== DataType.STRING ||
    alive.type !== DataType.BOOLEAN
  ) {
    throw new Error('procs columns have the wrong types');
  }
  for (let i = 0; i < rows; i++) {
    const want = procRow(i);
    expect(time.get(i)).toBe(want.time);
    expect(upid.upid(i)).toEqual({ asid: want.asid, pid: want.pid, startTicks: want.startTicks });
    expect(counter.get(i)).toBe(want.counter);
    expect(ratio.get(i)).toBe(want.ratio);
    expect(Array.from(pod.raw(i))).toEqual(Array.from(want.pod));
    expect(alive.get(i)).toBe(want.alive);
  }
};

const expectSummary = (result: QueryResult, rows: number): void => {
  const summary = result.tables.get('summary');
  expect(summary?.rows).toBe(1);
  const total = summary!.column('total');
  expect(total.type === DataType.INT64 && total.get(0)).toBe(BigInt(rows));
};

beforeAll(async () => {
  vizier = await startVizier({
    dataset: new Map([['procs', procsTable(PROCS_ROWS)]]),
    apiKeys: [API_KEY],
    clusters: [
      { id: HEALTHY_CLUSTER, name: 'kg', status: 'CS_HEALTHY', faults: {} },
      {
        id: UNHEALTHY_CLUSTER,
        name: 'broken',
        status: 'CS_UNHEALTHY',
        faults: { nodes: [{ name: 'node-b' }, { name: 'node-c' }], controlPlanePods: { 'vizier-pem-abc': { phase: 'FAILED', restartCount: 12, message: 'CrashLoopBackOff' } } },
      },
    ],
    batchRows: BATCH_ROWS,
    onRequest: (request) => {
      requests.push(request);
    },
  });
});

afterAll(async () => {
  for (const c of clients) {
    c.close();
  }
  await vizier.stop();
});

describe('ExecuteScript streaming', () => {
  it('yields metadata for every table before data, batches per table id, eos, then stats last', async () => {
    // api-facts §4 "Server order": all meta_data first, one eos batch per table, execution_stats last.
    const events = await collectEvents(client().executeScript({ script: procsScript(10), queryName: 'it' }));
    const kinds = events.map((e) => e.kind);
    expect(kinds.slice(0, 2)).toEqual(['metadata', 'metadata']);
    expect(kinds.filter((k) => k === 'metadata')).toHaveLength(2);
    expect(kinds.at(-1)).toBe('stats');
    const procsMeta = events.find((e) => e.kind === 'metadata' && e.table.name === 'procs');
    expect(procsMeta?.kind === 'metadata' && procsMeta.table.columns.map((c) => [c.name, c.type])).toEqual([
      ['time_', DataType.TIME64NS],
      ['upid', DataType.UINT128],
      ['counter', DataType.INT64],
      ['ratio', DataType.FLOAT64],
      ['pod', DataType.STRING],
      ['alive', DataType.BOOLEAN],
    ]);
    const batches = events.flatMap((e) => (e.kind === 'batch' && e.table.name === 'procs' ? [e.batch.numRows] : []));
    expect(batches).toEqual([4, 4, 2]);
    const ends = events.flatMap((e) => (e.kind === 'tableEnd' ? [[e.table.name, e.rows, e.truncated]] : []));
    expect(ends.sort()).toEqual([
      ['procs', 10, false],
      ['summary', 1, false],
    ]);
    const stats = events.at(-1);
    expect(stats?.kind === 'stats' && stats.stats.recordsProcessed).toBe(11);
    expect(stats?.kind === 'stats' && stats.stats.bytesProcessed).toBeGreaterThan(0);
  });

  it('collects whole tables with exact values (int64 beyond 2^53, UPIDs, non-UTF-8 strings)', async () => {
    const result = await client().runScript({ script: procsScript(23) });
    expectProcsRows(result, 23);
    expectSummary(result, 23);
    expect(result.truncatedTables).toEqual([]);
    const pod = result.tables.get('procs')!.column('pod');
    expect(pod.type === DataType.STRING && pod.get(3)).toBe('pod\uFFFD-3');
  });

  it('sends exec_funcs with arguments, and query_name', async () => {
    const script = "import px\ndef procs_for(rows: int):\n    return px.DataFrame(table='procs').head(rows)\n";
    let result: QueryResult | undefined;
    const [sent] = await requestsDuring(async () => {
      result = await client().runScript({ script, queryName: 'kg/it', execFuncs: [{ funcName: 'procs_for', args: { rows: '7' }, outputTablePrefix: 'by_func' }] });
    });
    expect(sent).toMatchObject({ queryName: 'kg/it', execFuncs: [{ funcName: 'procs_for', outputTablePrefix: 'by_func', args: [{ name: 'rows', value: '7' }] }] });
    expect([...result!.tables.keys()]).toEqual(['by_func']);
    expectProcsRows(result!, 7, 'by_func');
    const bad = client().runScript({ script, execFuncs: [{ funcName: 'procs_for', args: { rows: 'many' }, outputTablePrefix: 'x' }] });
    await expect(bad).rejects.toThrow(/argument 'rows' must be an int/);
  });

  it('asks for end-to-end encryption (on by default) and decrypts the batches', async () => {
    let result: QueryResult | undefined;
    const [sent] = await requestsDuring(async () => {
      result = await client({ encryption: { modulusLength: 2048 } }).runScript({ script: procsScript(12) });
    });
    // The Vizier encrypts every batch when encryption_options is set (api-facts §6).
    expect(sent?.encryption).toEqual({ keyAlg: 'RSA-OAEP-256', contentAlg: 'A256GCM', compressionAlg: 'DEF' });
    expect(result!.tables.size).toBe(2);
    expectProcsRows(result!, 12);
    expectSummary(result!, 12);
    const [plain] = await requestsDuring(() => client().runScript({ script: procsScript(1) }));
    expect(plain?.encryption).toBeUndefined();
  });

  it('flags a table that hit max_output_rows_per_table as truncated', async () => {
    // The query broker caps each table at the #px:set flag (api-facts, last section, query_flags.go).
    const result = await client().runScript({ script: procsScript(50), maxOutputRows: 20 });
    const procs = result.tables.get('procs');
    expect(procs).toMatchObject({ rows: 20, complete: true, truncated: true, maxRows: 20 });
    expectProcsRows(result, 20);
    expect(result.truncatedTables).toEqual(['procs']);
    expect(result.tables.get('summary')?.truncated).toBe(false);
  });

  it.each(['disconnect', 'rst'] as const)('resumes by query id after a stream cut mid-way (%s) without repeating metadata', async (mode) => {
    // api-facts §4: a resume re-sends {cluster_id, query_id, encryption_options} without the script;
    // Pixie skips compiling and its metadata (query_executor.go runScript: prepareScript only without query_id).
    const cut: Faults = { cut: { afterBatches: 3, mode } };
    let events: ExecuteEvent[] = [];
    const sent = await withFaults(cut, () =>
      requestsDuring(async () => {
        events = await collectEvents(client({ encryption: { modulusLength: 2048 } }).executeScript({ script: procsScript(30) }));
      }),
    );
    expect(events.filter((e) => e.kind === 'resumed')).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'metadata')).toHaveLength(2);
    const queryId = events.find((e) => e.kind === 'metadata')?.queryId;
    expect(sent.map((r) => [r.queryId, r.encryption !== undefined])).toEqual([
      ['', true],
      [queryId, true],
    ]);
    // Cut mid-stream, after the batches the Vizier wrote (3 on a reset stream; bounded for a dropped connection).
    const beforeResume = events.slice(0, events.findIndex((e) => e.kind === 'resumed')).filter((e) => e.kind === 'batch').length;
    expect(beforeResume).toBeGreaterThanOrEqual(mode === 'rst' ? 3 : 1);
    expect(beforeResume).toBeLessThanOrEqual(3);

    const result = await withFaults({ cut: { afterBatches: 5, mode } }, () => client().runScript({ script: procsScript(30) }));
    expectProcsRows(result, 30);
    expectSummary(result, 30);
  });
});

describe('mutations', () => {
  // Two probes writing tables of their own; one program text each, so bpftrace's dry run is cached
  // after the first test (dev/lab/bpftrace-dry-run.ts).
  let run = 0;
  const traceScript = (): { script: string; tcp: string; oom: string } => {
    run += 1;
    const tcp = `tcp_drops_${run}`;
    const oom = `oom_probe_${run}`;
    const script = `import px
import pxtrace
pxtrace.UpsertTracepoint('${tcp}', '${tcp}', """kprobe:tcp_drop { printf("time_:%llu pid:%u", nsecs, pid); }""", pxtrace.kprobe(), '5m')
pxtrace.UpsertTracepoint('${oom}', 'oom_events_${run}', """kprobe:oom_kill_process { printf("time_:%llu pid:%u", nsecs, pid); }""", pxtrace.kprobe(), '5m')
${procsScript(10).replace('import px\n', '')}px.display(px.DataFrame(table='${tcp}'), 'drops')
`;
    return { script, tcp, oom };
  };

  it('resends the whole request until every tracepoint is RUNNING, then streams', async () => {
    // api-facts §5: not RUNNING -> mutation_info {14, "probe installation in progress"}, stream ends
    // UNAVAILABLE, the client re-sends the whole request (with mutation=true: the script imports pxtrace).
    const { script } = traceScript();
    const sent = await withFaults({ tracepoints: { pendingRequests: 2 } }, () =>
      requestsDuring(async () => {
        const events = await collectEvents(client().executeScript({ script }));
        expect(events.flatMap((e) => (e.kind === 'mutation' ? [[e.attempt, e.ready]] : []))).toEqual([
          [1, false],
          [2, false],
          [3, true],
        ]);
        expect(events.flatMap((e) => (e.kind === 'tableEnd' ? [[e.table.name, e.rows]] : [])).sort()).toEqual([
          ['drops', 0],
          ['procs', 10],
          ['summary', 1],
        ]);
      }),
    );
    expect(sent.map((r) => r.mutation)).toEqual([true, true, true]);
  });

  it('waits out "Schema is not ready yet" the same way', async () => {
    // api-facts §5.3: every tracepoint RUNNING but an output table not in the schema yet -> {14, "Schema is not ready yet"}.
    const { script, tcp, oom } = traceScript();
    const events = await withFaults({ tracepoints: { pendingRequests: 0, schemaPendingRequests: 1 } }, () => collectEvents(client().executeScript({ script })));
    const mutations = events.flatMap((e) => (e.kind === 'mutation' ? [e] : []));
    expect(mutations.map((m) => m.ready)).toEqual([false, true]);
    expect(mutations[0]?.states.map((s) => s.state)).toEqual([LIFE_CYCLE.RUNNING_STATE, LIFE_CYCLE.RUNNING_STATE]);
    const result = await client().runScript({ script });
    expectProcsRows(result, 10);
    expect(result.mutationStates?.map((s) => s.name)).toEqual([tcp, oom]);
  });

  it('reports a FAILED tracepoint by name at once, without retrying', async () => {
    // api-facts §5.5: a FAILED tracepoint still gets code 14; only its state says FAILED.
    const { script, oom } = traceScript();
    let error: unknown;
    const sent = await withFaults({ tracepoints: { failed: [oom] } }, () =>
      requestsDuring(async () => {
        error = await client()
          .runScript({ script, timeoutMs: 60_000 })
          .catch((e: unknown) => e);
      }),
    );
    expect(error).toBeInstanceOf(MutationFailedError);
    expect((error as MutationFailedError).tracepoints).toEqual([oom]);
    expect(sent).toHaveLength(1);
  });

  it('gives up at the deadline naming the pending tracepoint', async () => {
    const { script, tcp } = traceScript();
    const error = await withFaults({ tracepoints: { neverReady: [tcp] } }, () =>
      client()
        .runScript({ script, timeoutMs: 5_000 })
        .catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(PixieDeadlineError);
    expect((error as Error).message).toContain(`${tcp} (PENDING_STATE)`);
  });
});

describe('errors', () => {
  it('reports the compiler error with line, column and the source line', async () => {
    // Pixie's compiler stops at the first error (api-facts, last section): one status message with
    // code 3 and its error_details, then INVALID_ARGUMENT (§4.2).
    const script = "import px\ndf = px.DataFrame(dff)\npx.display(df, 'x')\n";
    const error = await client()
      .runScript({ script })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PxlCompileError);
    const compile = error as PxlCompileError;
    expect(compile.code).toBe(3);
    expect(compile.errors.map((e) => [e.line, e.column, e.message, e.sourceLine])).toEqual([[2, 19, "name 'dff' is not defined", 'df = px.DataFrame(dff)']]);
    expect(compile.queryId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('turns a refused API key into PixieAuthError without echoing the key', async () => {
    // api-facts §3: INTERNAL "Auth middleware failed: failed to fetch token - unauthenticated".
    const bad = client({ apiKey: 'px-api-wrong-key-123' });
    const error = await bad.runScript({ script: procsScript(1) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PixieAuthError);
    expect((error as PixieAuthError).code).toBe(13);
    expect((error as Error).message).not.toContain('px-api-wrong-key-123');
    await expect(bad.getClusterInfo()).rejects.toThrow(PixieAuthError);
  });

  it.each([
    // api-facts §3 passthrough gate: not HEALTHY/DEGRADED -> UNAVAILABLE; unknown -> INTERNAL "failed to fetch creds".
    [UNHEALTHY_CLUSTER, 14],
    [UNKNOWN_CLUSTER, 13],
  ])('turns cluster %s into ClusterUnavailableError', async (clusterId, code) => {
    const error = await client({ clusterId })
      .runScript({ script: procsScript(1) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterUnavailableError);
    expect((error as ClusterUnavailableError).code).toBe(code);
  });

  it('turns "Large data batch rejected" into LargeBatchRejectedError', async () => {
    // api-facts §3: a batch over the NATS payload limit ends the stream with INTERNAL.
    await withFaults({ largeBatchRejectedAfter: 0 }, async () => {
      await expect(client().runScript({ script: procsScript(10) })).rejects.toThrow(LargeBatchRejectedError);
    });
  });

  it('ends at the deadline with PixieDeadlineError, long before the Vizier would answer', async () => {
    const started = Date.now();
    const error = await withFaults({ delayMs: 120_000 }, () =>
      client()
        .runScript({ script: procsScript(1), timeoutMs: 300 })
        .catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(PixieDeadlineError);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('cancels on AbortSignal with PixieCancelledError carrying the reason', async () => {
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort(new Error('user went away'));
    }, 150);
    const error = await withFaults({ delayMs: 120_000 }, () =>
      client()
        .runScript({ script: procsScript(1), signal: controller.signal })
        .catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(PixieCancelledError);
    expect(((error as Error).cause as Error).message).toBe('user went away');
  });
});

describe('cluster calls', () => {
  it('reads cluster info by id, lists all clusters, and formats ids as UUIDs', async () => {
    const c = client();
    const mine = await c.getCluster();
    expect(mine).toMatchObject({ id: HEALTHY_CLUSTER, statusName: 'CS_HEALTHY', clusterName: 'kg', numNodes: 1 });
    const all = await c.getClusterInfo({ all: true });
    expect(all.map((info) => info.id).sort()).toEqual([UNHEALTHY_CLUSTER, HEALTHY_CLUSTER].sort());
    const broken = all.find((info) => info.id === UNHEALTHY_CLUSTER);
    // Its backend node plus the two simulated ones; the crash-looping pod its faults report.
    expect(broken).toMatchObject({ statusName: 'CS_UNHEALTHY', clusterName: 'broken', numNodes: 3 });
    expect(broken?.controlPlanePodStatuses['vizier-pem-abc']).toMatchObject({ name: 'vizier-pem-abc', restartCount: 12, statusMessage: 'CrashLoopBackOff' });
    // An unknown id is an empty list in Pixie Cloud (api-facts, last section); the client names it.
    await expect(client({ clusterId: UNKNOWN_CLUSTER }).getCluster()).rejects.toThrow(ClusterUnavailableError);
  });

  it('reports HealthCheck status: healthy, failing queries (code 14), and an unhealthy cluster refused at the gate', async () => {
    await expect(client().healthCheck()).resolves.toEqual({ healthy: true, code: 0, message: '' });
    // Vizier's health probe is a query; while queries fail it sends status{14} with no message (server.go HealthCheck).
    const outage: Faults = { executionError: { afterBatches: 0, code: 13, message: 'query broker restarting' } };
    await withFaults(outage, async () => {
      await expect(client().healthCheck()).resolves.toEqual({ healthy: false, code: 14, message: '' });
    });
    await expect(client({ clusterId: UNHEALTHY_CLUSTER }).healthCheck()).rejects.toThrow(ClusterUnavailableError);
  });
});

describe('TLS with a custom CA', () => {
  let dir: string;
  let tls: { material: ReturnType<typeof createTlsMaterial>; running: RunningVizier };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pixie-client-tls-'));
    const material = createTlsMaterial(dir);
    const running = await startVizier({
      dataset: new Map([['procs', procsTable(6)]]),
      apiKeys: [API_KEY],
      clusters: [{ id: HEALTHY_CLUSTER, name: 'tls', status: 'CS_HEALTHY', faults: {} }],
      batchRows: BATCH_ROWS,
      tls: material,
    });
    tls = { material, running };
  });

  afterAll(async () => {
    await tls.running.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the server against the given CA and streams', async () => {
    const secure = client({ security: { kind: 'tls-ca', caPem: tls.material.ca } }, tls.running.address);
    const result = await secure.runScript({ script: procsScript(6) });
    expect(result.tables.size).toBe(2);
    expectProcsRows(result, 6);
  });

  it('refuses the server with the system roots', async () => {
    const untrusted = client({ security: { kind: 'tls' } }, tls.running.address);
    const error = await untrusted
      .runScript({ script: procsScript(1), timeoutMs: 10_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: number }).code).toBe(14);
  });
});
