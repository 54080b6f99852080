/**
 * The local Vizier in replay mode (issue 10): the project's PxL scripts compiled and RUN over the
 * lab's recorded kernel data (test/fixtures/lab), through the TypeScript client and Pixie's Python
 * client; and the compile checker's errors (line, column) for bad scripts.
 * Expectations come from the recordings through the lab's own readers (dev/lab/compare.ts), not from
 * the evaluator.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeThrottle, attributeBirthRows } from '../../../dev/lab/compare.ts';
import type { Recording } from '../../../dev/lab/scenarios.ts';
import { PxlEngine } from '../../../dev/vizier/pxl/engine.ts';
import { loadRecordings, replayBackend } from '../../../dev/vizier/pxl/replay.ts';
import { startVizier, type RunningVizier } from '../../../dev/vizier/server.ts';
import { DataType, PxlCompileError, createPixieClient, type Column, type ExecuteEvent, type FuncToExecute } from '../../../shared/pixie/index.ts';
import { API_KEY, CLUSTER, canonicalTables, pxapiTables, rawExecute, requirePython, runPxapi } from './support.ts';
import { queryPartOf } from '../../support/query-part.ts';

const FIXTURES = 'test/fixtures/lab';
const THROTTLE = JSON.parse(readFileSync(`${FIXTURES}/throttle.json`, 'utf8')) as Recording;
const BIRTH = JSON.parse(readFileSync(`${FIXTURES}/birth.json`, 'utf8')) as Recording;
const CPU_THROTTLE = readFileSync('pxl-scripts/cpu_throttle/cpu_throttle.pxl', 'utf8');
const BIRTH_LITE = JSON.parse(readFileSync('test/fixtures/lab-lite/birth-lite.json', 'utf8')) as Recording;
const POD_BIRTH = readFileSync('pxl-scripts/pod_birth/pod_birth.pxl', 'utf8');
const POD_BIRTH_LITE = readFileSync('pxl-scripts/pod_birth_lite/pod_birth_lite.pxl', 'utf8');

/** ns since the epoch as RFC 3339 with nanoseconds (what observe functions send). */
const rfc3339 = (ns: bigint): string => `${new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
const windowOf = (rec: Recording): { start: bigint; end: bigint } => ({
  start: BigInt(rec.windowMonoNs.start) + BigInt(rec.clockOffsetNs),
  end: BigInt(rec.windowMonoNs.end) + BigInt(rec.clockOffsetNs) + 1n,
});

type Row = Record<string, string | number | boolean | bigint>;
const cell = (c: Column, r: number): string | number | boolean | bigint => {
  switch (c.type) {
    case DataType.UINT128:
      return c.uuid(r);
    case DataType.STRING:
      return c.get(r);
    default:
      return c.get(r);
  }
};

const collect = async (events: AsyncIterable<ExecuteEvent>): Promise<{ tables: Map<string, Row[]>; types: Map<string, Record<string, number>>; mutations: number }> => {
  const tables = new Map<string, Row[]>();
  const types = new Map<string, Record<string, number>>();
  let mutations = 0;
  for await (const event of events) {
    if (event.kind === 'mutation') {
      mutations++;
    } else if (event.kind === 'metadata') {
      tables.set(event.table.name, []);
      types.set(event.table.name, Object.fromEntries(event.table.columns.map((c) => [c.name, c.type])));
    } else if (event.kind === 'batch') {
      const rows = tables.get(event.table.name);
      for (let r = 0; r < event.batch.numRows; r++) {
        rows?.push(Object.fromEntries(event.batch.cols.map((c, i) => [event.table.columns[i]?.name ?? String(i), cell(c, r)])));
      }
    }
  }
  return { tables, types, mutations };
};

let vizier: RunningVizier;
const client = () =>
  createPixieClient({
    address: vizier.address,
    security: { kind: 'plaintext' },
    apiKey: API_KEY,
    clusterId: CLUSTER,
    encryption: false,
    retry: { mutationRetryDelayMs: 50, resumeDelayMs: 50, defaultTimeoutMs: 30_000 },
  });

const funcs = (fn: string, windows: readonly { start: bigint; end: bigint }[], namespace = ''): FuncToExecute[] =>
  windows.map((w, i) => ({ funcName: fn, outputTablePrefix: `${fn}_${i}`, args: { start_time: rfc3339(w.start), end_time: rfc3339(w.end), namespace } }));

beforeAll(async () => {
  vizier = await startVizier({
    dataset: new Map(),
    apiKeys: [API_KEY],
    clusters: [{ id: CLUSTER, name: 'replay', status: 'CS_HEALTHY', faults: {} }],
    engine: new PxlEngine(replayBackend([...loadRecordings(FIXTURES), ...loadRecordings('test/fixtures/lab-lite')])),
  });
});
afterAll(async () => {
  await vizier.stop();
});

describe('replay: cpu_throttle.pxl over the recorded throttle scenario', () => {
  it('returns per lab container the probe counters, bracketed by cpu.stat, CPU time from process_stats, and pod identity', async () => {
    const ts = client();
    try {
      const result = await collect(ts.executeScript({ script: CPU_THROTTLE, execFuncs: funcs('cpu_throttle', [windowOf(THROTTLE)]) }));
      expect(result.mutations).toBeGreaterThanOrEqual(1);
      const rows = result.tables.get('cpu_throttle_0') ?? [];
      const summaries = summarizeThrottle(THROTTLE).filter((s) => s.probeRows > 0);
      expect(summaries.length).toBeGreaterThan(0);
      expect(rows).toHaveLength(summaries.length);
      for (const s of summaries) {
        const row = rows.find((r) => r['container_id'] === s.truth.containerId);
        expect(row).toBeDefined();
        expect(row).toMatchObject({
          pod: `${s.truth.namespace}/${s.truth.pod}`,
          namespace: s.truth.namespace,
          pod_uid: s.truth.podUid,
          container_name: s.truth.container,
          container_key: s.truth.containerId.slice(0, 32),
          samples: BigInt(s.probeRows),
          nr_periods_first: s.probeFirst?.nrPeriods,
          nr_periods_last: s.probeLast?.nrPeriods,
          nr_throttled_first: s.probeFirst?.nrThrottled,
          nr_throttled_last: s.probeLast?.nrThrottled,
          throttled_time_ns_first: s.probeFirst?.throttledTimeNs,
          throttled_time_ns_last: s.probeLast?.throttledTimeNs,
          cpu_time_ns: s.sampledCpuTimeNs,
          quota_ns: BigInt((s.quotaUs ?? 0) * 1000),
        });
        // The kernel counters lie within what cpu.stat showed before and after the workload.
        const before = s.cpuStatBefore;
        const after = s.cpuStatAfter;
        if (before === undefined || after === undefined || row === undefined) {
          throw new Error('fixture lacks cpu.stat for an app container');
        }
        expect(row['nr_throttled_first'] as bigint).toBeGreaterThanOrEqual(before.nrThrottled);
        expect(row['nr_throttled_last'] as bigint).toBeLessThanOrEqual(after.nrThrottled);
        expect(row['throttled_time_ns_last'] as bigint).toBeLessThanOrEqual(after.throttledTimeNs);
        expect(JSON.parse(String(row['owner_references']))).toEqual([{ kind: s.truth.owner?.kind, name: s.truth.owner?.name, uid: '' }]);
      }
      expect(rows.some((r) => (r['nr_throttled_last'] as bigint) > (r['nr_throttled_first'] as bigint))).toBe(true);
      expect(result.types.get('cpu_throttle_0')).toMatchObject({ first_time: DataType.TIME64NS, samples: DataType.INT64, pod: DataType.STRING, cpu_time_ns: DataType.INT64 });
    } finally {
      ts.close();
    }
  });

  it('N exec_funcs for N consecutive windows give N tables whose rows stay in their window', async () => {
    const { start, end } = windowOf(THROTTLE);
    const mid = start + (end - start) / 2n;
    const windows = [{ start, end: mid }, { start: mid, end }];
    const ts = client();
    try {
      const result = await collect(ts.executeScript({ script: CPU_THROTTLE, execFuncs: funcs('cpu_throttle', windows) }));
      const total = summarizeThrottle(THROTTLE).reduce((n, s) => n + s.probeRows, 0);
      let seen = 0;
      windows.forEach((w, i) => {
        for (const row of result.tables.get(`cpu_throttle_${i}`) ?? []) {
          expect(row['first_time'] as bigint).toBeGreaterThanOrEqual(w.start);
          expect(row['last_time'] as bigint).toBeLessThan(w.end);
          seen += Number(row['samples']);
        }
      });
      expect(seen).toBe(total);
      const filtered = await collect(ts.executeScript({ script: CPU_THROTTLE, execFuncs: funcs('cpu_throttle', [windowOf(THROTTLE)], 'no-such-namespace') }));
      expect(filtered.tables.get('cpu_throttle_0')).toEqual([]);
    } finally {
      ts.close();
    }
  });

  it("Pixie's Python client runs the query part and receives the same rows as the TypeScript client", async () => {
    requirePython();
    const w = windowOf(THROTTLE);
    // pxapi never sets mutation: the tracepoint table exists because the TS client deployed it above.
    const queryPart = `${queryPartOf(CPU_THROTTLE)}\npx.display(cpu_throttle('${rfc3339(w.start)}', '${rfc3339(w.end)}', ''), 'throttle')\n`;
    const [py, raw] = await Promise.all([runPxapi(vizier.address, queryPart), rawExecute(vizier.address, { cluster_id: CLUSTER, query_str: queryPart })]);
    expect({ exit: py.exitCode, stderr: py.stderr }).toMatchObject({ exit: 0 });
    const expected = canonicalTables(raw.messages).get('throttle');
    expect(expected?.length).toBeGreaterThan(0);
    expect(pxapiTables(py.lines).get('throttle')).toEqual(expected);
    const ts = client();
    try {
      const mine = await collect(ts.executeScript({ script: queryPart }));
      const viaExec = await collect(ts.executeScript({ script: CPU_THROTTLE, execFuncs: funcs('cpu_throttle', [w]) }));
      expect(mine.tables.get('throttle')).toEqual(viaExec.tables.get('cpu_throttle_0'));
      expect(mine.tables.get('throttle')).toHaveLength(expected?.length ?? -1);
    } finally {
      ts.close();
    }
  });
});

describe.each([
  ['pod_birth', POD_BIRTH, BIRTH],
  ['pod_birth_lite', POD_BIRTH_LITE, BIRTH_LITE],
] as const)('replay: %s.pxl over its recorded birth scenario', (fn, script, recording) => {
  it("returns each lab container's birth events with its pod identity", async () => {
    const ts = client();
    try {
      const result = await collect(ts.executeScript({ script, execFuncs: funcs(fn, [windowOf(recording)]) }));
      const rows = result.tables.get(`${fn}_0`) ?? [];
      const attributed = attributeBirthRows(recording).filter((a) => a.container !== undefined);
      expect(attributed.length).toBeGreaterThan(0);
      for (const truth of recording.containers) {
        const expected = attributed.filter((a) => a.container === truth);
        const got = rows.filter((r) => r['container_key'] === truth.containerId.slice(0, 32));
        expect(got.length, `${truth.pod}/${truth.container}`).toBe(expected.length);
        for (const row of got) {
          expect(row).toMatchObject({ pod: `${truth.namespace}/${truth.pod}`, namespace: truth.namespace, pod_uid: truth.podUid, node: 'replay-node' });
        }
      }
      for (const truth of recording.containers.filter((c) => !c.sandbox)) {
        const events = rows.filter((r) => r['container_key'] === truth.containerId.slice(0, 32)).map((r) => r['event']);
        expect(events).toContain('entrypoint_exec');
      }
      // pod_birth keeps every row (its cgroup writes name the cgroups of every hierarchy; a row it
      // cannot name still comes back, unattributed); pod_birth_lite returns exactly the rows it can
      // name and never a cgroup write or a syscall count.
      const full = fn === 'pod_birth';
      expect(rows.length).toBe(full ? recording.printfs.length : attributeBirthRows(recording).filter((a) => a.cgroup !== '').length);
      expect(rows.some((r) => 'syscalls' in r)).toBe(full);
    } finally {
      ts.close();
    }
  });
});

describe('compile checker (Pixie-style errors with line and column)', () => {
  const compileError = async (script: string): Promise<PxlCompileError> => {
    const ts = client();
    try {
      const error = await collect(ts.executeScript({ script })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PxlCompileError);
      return error as PxlCompileError;
    } finally {
      ts.close();
    }
  };

  it('rejects an unknown px function, column and table at their positions', async () => {
    const fn = await compileError("import px\ndf = px.DataFrame(table='process_stats')\ndf.x = px.no_such_fn(df.upid)\npx.display(df)\n");
    expect(fn.errors[0]).toMatchObject({ line: 3, column: 11 });
    expect(fn.errors[0]?.message).toContain('no_such_fn');
    const col = await compileError("import px\ndf = px.DataFrame(table='process_stats')\ndf.x = df.cpu_utime_ns + df.nope\npx.display(df)\n");
    expect(col.errors[0]).toMatchObject({ line: 3, column: 26 });
    expect(col.errors[0]?.message).toContain("Column 'nope' not found");
    const py = await runPxapi(vizier.address, "import px\ndf = px.DataFrame(table='process_stats')\ndf.x = df.cpu_utime_ns + df.nope\npx.display(df)\n");
    const pyErrors = (py.lines.at(-1)?.['error'] as { compiler_errors: unknown[] }).compiler_errors;
    expect(col.errors.map((e) => [e.line, e.column, e.message])).toEqual(pyErrors);
    const table = await compileError("import px\n\ndf = px.DataFrame(table='no_such_table')\npx.display(df)\n");
    expect(table.errors[0]).toMatchObject({ line: 3, column: 6 });
    expect(table.errors[0]?.message).toContain("Table 'no_such_table' not found");
  });

  it("rejects a bpftrace program that breaks Pixie's printf rules, and unsupported-but-valid PxL by name", async () => {
    const program = 'kprobe:do_exit { printf("a:%d", pid); printf("b:%d", pid); }';
    const bad = await compileError(`import px\nimport pxtrace\np = """${program}"""\npxtrace.UpsertTracepoint('t', 't', p, pxtrace.kprobe(), '5m')\n`);
    expect(bad.errors[0]).toMatchObject({ line: 4, column: 1 });
    expect(bad.errors[0]?.message).toContain('same format string');
    const none = await compileError(`import px\nimport pxtrace\npxtrace.UpsertTracepoint('t', 't', 'kprobe:do_exit { @x = count(); }', pxtrace.kprobe(), '5m')\n`);
    expect(none.errors[0]?.message).toContain('at least one printf');
    const comprehension = await compileError("import px\ncols = [c for c in ['a']]\n");
    expect(comprehension.errors[0]).toMatchObject({ line: 2, column: 8 });
    expect(comprehension.errors[0]?.message).toMatch(/unsupported PxL construct: ArrayComprehension/);
    const rolling = await compileError("import px\ndf = px.DataFrame(table='process_stats')\ndf = df.rolling('1s')\npx.display(df)\n");
    expect(rolling.errors[0]?.message).toContain('DataFrame.rolling is valid PxL but not supported');
    const notAnd = await compileError('import px\nx = not True and False\n');
    expect(notAnd.errors[0]).toMatchObject({ line: 2, column: 5 });
    expect(notAnd.errors[0]?.message).toContain('`not` before and/or without parentheses');
    const syntax = await compileError("import px\ndf = px.DataFrame(table='process_stats'\n");
    expect(syntax.errors[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it("compiles the project's scripts with every function checked", () => {
    const engine = new PxlEngine(replayBackend(loadRecordings(FIXTURES)));
    for (const [source, fn] of [[CPU_THROTTLE, 'cpu_throttle'], [POD_BIRTH, 'pod_birth'], [POD_BIRTH_LITE, 'pod_birth_lite']] as const) {
      const result = engine.compile(source, [{ funcName: fn, outputTablePrefix: fn, args: [{ name: 'start_time', value: '-5m' }, { name: 'end_time', value: '-0s' }, { name: 'namespace', value: '' }] }], true);
      expect(result.ok ? result.script.tracepoints.map((t) => t.table) : result.failure).toEqual([`kg_${fn}_v2`]);
    }
  });
});

describe('evaluator semantics over recorded process_stats', () => {
  it('groupby/agg (count, max, mean), inner merge with default suffixes, head, relative windows and display names', () => {
    const engine = new PxlEngine(replayBackend(loadRecordings(FIXTURES)));
    const script = `import px
ps = px.DataFrame(table='process_stats', start_time='-5m')
ps.cpu = ps.cpu_utime_ns + ps.cpu_ktime_ns
agg = ps.groupby('upid').agg(n=('cpu', px.count), mx=('cpu', px.max), avg=('cpu', px.mean))
both = agg.merge(agg, how='inner', left_on='upid', right_on='upid')
px.display(agg, 'agg')
px.display(both)
px.display(ps.head(2))
px.display(px.DataFrame(table='process_stats', start_time='2000-01-01T00:00:00Z', end_time='2000-01-02T00:00:00Z'), 'agg')
`;
    const compiled = engine.compile(script, []);
    if (!compiled.ok) {
      throw new Error(JSON.stringify(compiled.failure));
    }
    const ran = engine.run(compiled.script, [], false);
    if (!ran.ok) {
      throw new Error(JSON.stringify(ran.failure));
    }
    const byName = new Map(ran.tables.map((t) => [t.name, t.table]));
    expect([...byName.keys()]).toEqual(['agg', 'output', 'output_1', 'agg_1']);
    // The rows '-5m' selects, by replay.ts's rules: time_ = monoNs + clockOffsetNs, and "now" is the
    // latest recording end (the fixtures must be recorded together for the window to hold any rows).
    const recordings = [THROTTLE, BIRTH];
    const now = recordings.map((r) => windowOf(r).end - 1n).reduce((a, b) => (b > a ? b : a));
    const samples = recordings.flatMap((r) => r.processStats.filter((s) => BigInt(s.monoNs) + BigInt(r.clockOffsetNs) >= now - 300_000_000_000n));
    expect(samples.length, "no recorded process_stats within '-5m' of the latest recording end: re-record the lab fixtures together").toBeGreaterThan(0);
    const perProcess = new Map<string, bigint[]>();
    for (const s of samples) {
      const key = `${String(s.stats['pid'])}:${String(s.stats['startTimeTicks'])}`;
      perProcess.set(key, [...(perProcess.get(key) ?? []), BigInt(s.stats['cpuUtimeNs'] ?? 0) + BigInt(s.stats['cpuKtimeNs'] ?? 0)]);
    }
    const agg = byName.get('agg');
    expect(agg?.numRows).toBe(perProcess.size);
    const col = (name: string) => agg?.columns.find((c) => c.name === name);
    const n = col('n');
    const mx = col('mx');
    const avg = col('avg');
    if (n?.type !== 'INT64' || mx?.type !== 'INT64' || avg?.type !== 'FLOAT64') {
      throw new Error('unexpected agg column types');
    }
    expect([...n.values].map(Number).sort()).toEqual([...perProcess.values()].map((v) => v.length).sort());
    expect([...mx.values].sort()).toEqual([...perProcess.values()].map((v) => v.reduce((a, b) => (b > a ? b : a))).sort());
    expect([...avg.values].sort()).toEqual([...perProcess.values()].map((v) => v.reduce((a, b) => a + Number(b), 0) / v.length).sort());
    expect(byName.get('output')?.columns.map((c) => c.name)).toEqual(['upid_x', 'n_x', 'mx_x', 'avg_x', 'upid_y', 'n_y', 'mx_y', 'avg_y']);
    expect(byName.get('output')?.numRows).toBe(perProcess.size);
    expect(byName.get('output_1')?.numRows).toBe(Math.min(2, samples.length));
    expect(byName.get('agg_1')?.numRows).toBe(0);
  });
});
