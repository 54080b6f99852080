/**
 * The TypeScript Pixie client against a real gRPC server in another process (scenario-server.ts):
 * streaming, encryption, resume, mutations, errors, deadlines, cancellation, TLS with a custom CA.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { type StartedProcess, startProcess } from '../../support/process.ts';
import { API_KEY, HEALTHY_CLUSTER, UNHEALTHY_CLUSTER, UNKNOWN_CLUSTER, procRow } from './dataset.ts';

const serverScript = path.join(import.meta.dirname, 'scenario-server.ts');
const READY = /listening on (127\.0\.0\.1:\d+)/;

const startServer = async (args: readonly string[] = []): Promise<{ process: StartedProcess; address: string }> => {
  const started = await startProcess(process.execPath, [serverScript, ...args], { ready: READY, timeoutMs: 30_000 });
  const address = READY.exec(started.output())?.[1];
  if (address === undefined) {
    throw new Error(`no address in server output: ${started.output()}`);
  }
  return { process: started, address };
};

let plain: { process: StartedProcess; address: string };
const clients: PixieClient[] = [];

const client = (overrides: Partial<PixieClientOptions> = {}): PixieClient => {
  const created = createPixieClient({
    address: plain.address,
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

const collectEvents = async (events: AsyncIterable<ExecuteEvent>): Promise<ExecuteEvent[]> => {
  const out: ExecuteEvent[] = [];
  for await (const event of events) {
    out.push(event);
  }
  return out;
};

/** Checks every value of the procs table against the dataset, row by row. */
const expectProcsRows = (result: QueryResult, rows: number): void => {
  const procs = result.tables.get('procs');
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
  const summary = result.tables.get('summary');
  expect(summary?.rows).toBe(1);
  const total = summary!.column('total');
  expect(total.type === DataType.INT64 && total.get(0)).toBe(BigInt(rows));
};

beforeAll(async () => {
  plain = await startServer();
});

afterAll(async () => {
  for (const c of clients) {
    c.close();
  }
  await plain.process.stop();
});

describe('ExecuteScript streaming', () => {
  it('yields metadata for every table before data, batches per table id, eos, then stats last', async () => {
    const events = await collectEvents(client().executeScript({ script: '# scenario: tables rows=10 batch=4\nimport px', queryName: 'it' }));
    const kinds = events.map((e) => e.kind);
    expect(kinds.slice(0, 2)).toEqual(['metadata', 'metadata']);
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
    const ends = events.flatMap((e) => (e.kind === 'tableEnd' ? [[e.table.name, e.rows, e.truncated]] : []));
    expect(ends.sort()).toEqual([
      ['procs', 10, false],
      ['summary', 1, false],
    ]);
    const stats = events.at(-1);
    expect(stats?.kind === 'stats' && stats.stats).toEqual({ executionTimeNs: 1500, compilationTimeNs: 300, bytesProcessed: 640, recordsProcessed: 11 });
  });

  it('collects whole tables with exact values (int64 beyond 2^53, UPIDs, non-UTF-8 strings)', async () => {
    const result = await client().runScript({ script: '# scenario: tables rows=23 batch=5\nimport px' });
    expectProcsRows(result, 23);
    expect(result.truncatedTables).toEqual([]);
    const pod = result.tables.get('procs')!.column('pod');
    expect(pod.type === DataType.STRING && pod.get(3)).toBe('pod\uFFFD-3');
  });

  it('sends exec_funcs with arguments and query_name', async () => {
    const script = '# scenario: tables named=required\nimport px\ndef procs_for(rows: int):\n    return px.DataFrame("procs")';
    await expect(client().runScript({ script })).rejects.toThrow(/needs query_name/);
    const result = await client().runScript({
      script,
      queryName: 'kg/it',
      execFuncs: [{ funcName: 'procs_for', args: { rows: '7' }, outputTablePrefix: 'by_func' }],
    });
    expect([...result.tables.keys()].sort()).toEqual(['by_func', 'summary']);
    expect(result.tables.get('by_func')?.rows).toBe(7);
    const bad = client().runScript({ script, queryName: 'kg/it', execFuncs: [{ funcName: 'procs_for', args: { rows: 'many' }, outputTablePrefix: 'x' }] });
    await expect(bad).rejects.toThrow(/expected procs_for/);
  });

  it('decrypts end-to-end encrypted batches (on by default)', async () => {
    const script = '# scenario: tables rows=12 batch=5 encrypted=required\nimport px';
    await expect(client().runScript({ script })).rejects.toThrow(/needs encryption_options/);
    const encrypted = client({ encryption: { modulusLength: 2048 } });
    const result = await encrypted.runScript({ script });
    expect(result.tables.size).toBe(2);
    expectProcsRows(result, 12);
  });

  it('flags a table that hit max_output_rows_per_table as truncated', async () => {
    const result = await client().runScript({ script: '# scenario: tables rows=50 batch=8\nimport px', maxOutputRows: 20 });
    const procs = result.tables.get('procs');
    expect(procs).toMatchObject({ rows: 20, complete: true, truncated: true, maxRows: 20 });
    expect(result.truncatedTables).toEqual(['procs']);
    expect(result.tables.get('summary')?.truncated).toBe(false);
  });

  it.each(['unavailable', 'rst'])('resumes by query id after a stream cut (%s) without repeating metadata', async (mode) => {
    const events = await collectEvents(
      client({ encryption: { modulusLength: 2048 } }).executeScript({
        script: `# scenario: cut rows=30 batch=4 after=3 mode=${mode} encrypted=required\nimport px`,
      }),
    );
    expect(events.filter((e) => e.kind === 'resumed')).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'metadata')).toHaveLength(2);
    const result = await client().runScript({ script: `# scenario: cut rows=30 batch=4 after=5 mode=${mode}\nimport px` });
    expectProcsRows(result, 30);
  });
});

describe('mutations', () => {
  it('resends the whole request until every tracepoint is RUNNING, then streams', async () => {
    const script = `# scenario: mutation pending=2 run=${crypto.randomUUID()}\nimport pxtrace\nimport px`;
    const events = await collectEvents(client().executeScript({ script }));
    const mutations = events.flatMap((e) => (e.kind === 'mutation' ? [[e.attempt, e.ready]] : []));
    expect(mutations).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(events.filter((e) => e.kind === 'tableEnd')).toHaveLength(2);
  });

  it('waits out "Schema is not ready yet" the same way', async () => {
    const script = `# scenario: schema-pending pending=1 run=${crypto.randomUUID()}\nimport pxtrace`;
    const result = await client().runScript({ script });
    expectProcsRows(result, 10);
    expect(result.mutationStates?.map((s) => s.name)).toEqual(['tcp_drops', 'oom_probe']);
  });

  it('reports a FAILED tracepoint by name at once', async () => {
    const started = Date.now();
    const error = await client()
      .runScript({ script: `# scenario: mutation-failed\nimport pxtrace`, timeoutMs: 20_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MutationFailedError);
    expect((error as MutationFailedError).tracepoints).toEqual(['oom_probe']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up at the deadline naming the pending tracepoint', async () => {
    const script = `# scenario: mutation pending=100000 run=${crypto.randomUUID()}\nimport pxtrace`;
    const error = await client()
      .runScript({ script, timeoutMs: 400 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PixieDeadlineError);
    expect((error as Error).message).toContain('tcp_drops (PENDING_STATE)');
  });
});

describe('errors', () => {
  it('reports every compiler error with line, column and the source line', async () => {
    const script = '# scenario: compile-error\ndf = px.DataFrame(dff)\nbroken(';
    const error = await client()
      .runScript({ script })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PxlCompileError);
    const compile = error as PxlCompileError;
    expect(compile.code).toBe(3);
    expect(compile.errors.map((e) => [e.line, e.column, e.sourceLine])).toEqual([
      [2, 5, 'df = px.DataFrame(dff)'],
      [3, 1, 'broken('],
    ]);
    expect(compile.queryId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('turns a refused API key into PixieAuthError without echoing the key', async () => {
    const bad = client({ apiKey: 'px-api-wrong-key-123' });
    const error = await bad.runScript({ script: 'import px' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PixieAuthError);
    expect((error as PixieAuthError).code).toBe(13);
    expect((error as Error).message).not.toContain('px-api-wrong-key-123');
    await expect(bad.getClusterInfo()).rejects.toThrow(PixieAuthError);
  });

  it.each([
    [UNHEALTHY_CLUSTER, 14],
    [UNKNOWN_CLUSTER, 13],
  ])('turns cluster %s into ClusterUnavailableError', async (clusterId, code) => {
    const error = await client({ clusterId })
      .runScript({ script: 'import px' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterUnavailableError);
    expect((error as ClusterUnavailableError).code).toBe(code);
  });

  it('turns "Large data batch rejected" into LargeBatchRejectedError', async () => {
    await expect(client().runScript({ script: '# scenario: large-batch\nimport px' })).rejects.toThrow(LargeBatchRejectedError);
  });

  it('ends at the deadline with PixieDeadlineError', async () => {
    const started = Date.now();
    const error = await client()
      .runScript({ script: '# scenario: slow delay=3000\nimport px', timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PixieDeadlineError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('cancels on AbortSignal with PixieCancelledError carrying the reason', async () => {
    const controller = new AbortController();
    setTimeout(() => { controller.abort(new Error('user went away')); }, 150);
    const error = await client()
      .runScript({ script: '# scenario: slow delay=3000\nimport px', signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PixieCancelledError);
    expect(((error as Error).cause as Error).message).toBe('user went away');
  });
});

describe('cluster calls', () => {
  it('reads cluster info by id, lists all clusters, and formats ids as UUIDs', async () => {
    const c = client();
    const mine = await c.getCluster();
    expect(mine).toMatchObject({ id: HEALTHY_CLUSTER, statusName: 'CS_HEALTHY', clusterName: 'gke_demo_europe-west1_kg', vizierVersion: '0.14.15', numNodes: 3 });
    const all = await c.getClusterInfo({ all: true });
    expect(all.map((info) => info.id).sort()).toEqual([UNHEALTHY_CLUSTER, HEALTHY_CLUSTER].sort());
    const broken = all.find((info) => info.id === UNHEALTHY_CLUSTER);
    expect(broken?.controlPlanePodStatuses['vizier-pem-abc']).toMatchObject({ restartCount: 12 });
    await expect(client({ clusterId: UNKNOWN_CLUSTER }).getCluster()).rejects.toThrow(ClusterUnavailableError);
  });

  it('reports HealthCheck status for healthy and unhealthy clusters', async () => {
    await expect(client().healthCheck()).resolves.toEqual({ healthy: true, code: 0, message: '' });
    await expect(client({ clusterId: UNHEALTHY_CLUSTER }).healthCheck()).resolves.toEqual({ healthy: false, code: 14, message: 'vizier is not healthy' });
  });
});

describe('TLS with a custom CA', () => {
  let dir: string;
  let tls: { process: StartedProcess; address: string };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pixie-client-tls-'));
    const openssl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    };
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=kg-test-ca');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=localhost');
    writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf');
    tls = await startServer(['--tls', dir]);
  });

  afterAll(async () => {
    await tls.process.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the server against the given CA and streams', async () => {
    const { readFileSync } = await import('node:fs');
    const secure = client({ address: tls.address, security: { kind: 'tls-ca', caPem: readFileSync(path.join(dir, 'ca.pem')) } });
    const result = await secure.runScript({ script: '# scenario: tables rows=6 batch=4\nimport px' });
    expect(result.tables.size).toBe(2);
    expectProcsRows(result, 6);
  });

  it('refuses the server with the system roots', async () => {
    const untrusted = client({ address: tls.address, security: { kind: 'tls' } });
    const error = await untrusted
      .runScript({ script: 'import px', timeoutMs: 3_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: number }).code).toBe(14);
  });
});
