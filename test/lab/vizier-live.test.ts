/**
 * The local Vizier in live mode (issue 10): the project's PxL scripts deploy real bpftrace probes
 * through the kernel lab's runner and run over live kernel data, through the TypeScript client and
 * Pixie's Python client; plus the tracepoint lifecycle (PENDING until attached, RUNNING, FAILED with
 * bpftrace's text, same program kept, changed program replaced, TTL). The pods are a real node's
 * (issue 15): made by a Deployment's controllers, born by its kubelet through containerd, named
 * from its API server as Pixie's metadata service names them (owner ReplicaSet, so Deployment).
 * Needs root, bpftrace, runc, the node's binaries and the pxapi venv: fails (never skips) without
 * them. Run under `flock /tmp/kg-lab.lock`.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCpuStat } from '../../dev/lab/cgroupfs.ts';
import type { KubeletPods } from '../../dev/lab/kubelet-pods.ts';
import { cpuHierarchy, type PodSpec } from '../../dev/lab/lab.ts';
import { BIRTH_PODS, THROTTLE_PODS } from '../../dev/lab/standard-scenarios.ts';
import type { RunningVizier } from '../../dev/vizier/server.ts';
import { DataType, MutationFailedError, createPixieClient, type Column, type ExecuteEvent, type FuncToExecute } from '../../shared/pixie/index.ts';
import { API_KEY, CLUSTER, canonicalTables, pxapiTables, rawExecute, requirePython, runPxapi } from '../integration/vizier/support.ts';
import { queryPartOf } from '../support/query-part.ts';
import { type LiveVizier, startLiveVizier } from './live-vizier.ts';

const CPU_THROTTLE = readFileSync('pxl-scripts/cpu_throttle/cpu_throttle.pxl', 'utf8');
const POD_BIRTH = readFileSync('pxl-scripts/pod_birth/pod_birth.pxl', 'utf8');
const POD_BIRTH_LITE = readFileSync('pxl-scripts/pod_birth_lite/pod_birth_lite.pxl', 'utf8');

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const rfc3339 = (ns: bigint): string => `${new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
const sleep = async (ms: number): Promise<void> => {
  await new Promise((resolve) => setTimeout(resolve, ms));
};

type Row = Record<string, string | number | boolean | bigint>;
const cell = (c: Column, r: number): string | number | boolean | bigint => (c.type === DataType.UINT128 ? c.uuid(r) : c.get(r));

const collect = async (events: AsyncIterable<ExecuteEvent>): Promise<{ tables: Map<string, Row[]>; mutations: Extract<ExecuteEvent, { kind: 'mutation' }>[] }> => {
  const tables = new Map<string, Row[]>();
  const mutations: Extract<ExecuteEvent, { kind: 'mutation' }>[] = [];
  for await (const event of events) {
    if (event.kind === 'mutation') {
      mutations.push(event);
    } else if (event.kind === 'metadata') {
      tables.set(event.table.name, []);
    } else if (event.kind === 'batch') {
      const rows = tables.get(event.table.name);
      for (let r = 0; r < event.batch.numRows; r++) {
        rows?.push(Object.fromEntries(event.batch.cols.map((c, i) => [event.table.columns[i]?.name ?? String(i), cell(c, r)])));
      }
    }
  }
  return { tables, mutations };
};

let kubelet: KubeletPods | undefined;
let vizier: RunningVizier | undefined;
const client = () => {
  if (vizier === undefined) {
    throw new Error('the live Vizier did not start');
  }
  return createPixieClient({
    address: vizier.address,
    security: { kind: 'plaintext' },
    apiKey: API_KEY,
    clusterId: CLUSTER,
    encryption: false,
    retry: { mutationRetryDelayMs: 200, resumeDelayMs: 50, defaultTimeoutMs: 90_000 },
  });
};
const funcs = (fn: string, start: bigint, end: bigint): FuncToExecute[] => [{ funcName: fn, outputTablePrefix: fn, args: { start_time: rfc3339(start), end_time: rfc3339(end), namespace: 'shop' } }];

let live: LiveVizier | undefined;
beforeAll(async () => {
  requirePython();
  live = await startLiveVizier();
  ({ vizier } = live);
  kubelet = live.nodeLab.kubelet;
}, 240_000);

afterAll(async () => {
  await live?.close();
}, 180_000);

describe('live: the project scripts on the real kernel through the local Vizier', () => {
  it('cpu_throttle.pxl returns cpu.stat-consistent counters, process_stats CPU time and pod identity; pxapi gets the same rows', async () => {
    if (kubelet === undefined) {throw new Error('no node');}
    const ts = client();
    try {
      const t0 = nowNs();
      // Deploy: PENDING until bpftrace attached, then the query runs.
      const deployed = await collect(ts.executeScript({ script: CPU_THROTTLE, execFuncs: funcs('cpu_throttle', t0 - 1_000_000_000n, nowNs()) }));
      expect(deployed.mutations[0]?.states[0]?.state).toBe(1);
      expect(deployed.mutations.at(-1)?.ready).toBe(true);
      const standard = THROTTLE_PODS[0];
      if (standard === undefined) {throw new Error('no throttle pod');}
      // An idle sidecar without a CPU limit: the kubelet then sets no pod-level quota, so the app's
      // own quota is the one that throttles it and its cpu.stat counts all of it (kubernetes
      // pkg/kubelet/cm/helpers_linux.go ResourceConfigForPod; docs/benchmarks.md, the pod quota split).
      const spec: PodSpec = { ...standard, containers: [...standard.containers, { name: 'idle', workload: { shape: 'idle', durationMs: 1 } }] };
      const pod = await kubelet.waitBorn(await kubelet.create(spec));
      const app = pod.containers.find((c) => c.name === 'app');
      if (app === undefined) {throw new Error('no app container');}
      await kubelet.waitWorkloadDone(app);
      await sleep(1_200);
      const after = await readCpuStat(app.cgroupPath, await cpuHierarchy());
      const tEnd = nowNs();
      const result = await collect(ts.executeScript({ script: CPU_THROTTLE, execFuncs: funcs('cpu_throttle', t0, tEnd) }));
      const row = (result.tables.get('cpu_throttle') ?? []).find((r) => r['container_id'] === app.id);
      expect(pod.spec.owner?.kind).toBe('ReplicaSet');
      expect(row).toMatchObject({ pod: `shop/${pod.spec.name}`, namespace: 'shop', pod_uid: pod.uid, container_name: 'app', deployment: 'shop/web', quota_ns: 10_000_000n, period_ns: 100_000_000n });
      if (row === undefined) {throw new Error('no row for the lab container');}
      // Counters never exceed what cpu.stat shows after the workload, and the last row is at most
      // ~1.5 s of periods behind it (one row per second per container).
      expect(row['nr_periods_last'] as bigint).toBeLessThanOrEqual(after.nrPeriods);
      expect(after.nrPeriods - (row['nr_periods_last'] as bigint)).toBeLessThanOrEqual(15n);
      expect(row['nr_throttled_last'] as bigint).toBeLessThanOrEqual(after.nrThrottled);
      expect(row['nr_throttled_last'] as bigint).toBeGreaterThan(row['nr_throttled_first'] as bigint);
      expect(row['throttled_time_ns_last'] as bigint).toBeLessThanOrEqual(after.throttledTimeNs);
      // process_stats: the burner used CPU, capped by 0.1 CPU over its 2.5 s (plus a period).
      expect(row['cpu_time_ns'] as bigint).toBeGreaterThan(0n);
      expect(row['cpu_time_ns'] as bigint).toBeLessThanOrEqual(400_000_000n);

      const queryPart = `${queryPartOf(CPU_THROTTLE)}\npx.display(cpu_throttle('${rfc3339(t0)}', '${rfc3339(tEnd)}', 'shop'), 'throttle')\n`;
      const [py, raw, mine] = await Promise.all([
        runPxapi(vizier?.address ?? '', queryPart),
        rawExecute(vizier?.address ?? '', { cluster_id: CLUSTER, query_str: queryPart }),
        collect(ts.executeScript({ script: queryPart })),
      ]);
      expect({ exit: py.exitCode, stderr: py.stderr }).toMatchObject({ exit: 0 });
      expect(pxapiTables(py.lines).get('throttle')).toEqual(canonicalTables(raw.messages).get('throttle'));
      expect(mine.tables.get('throttle')).toEqual(result.tables.get('cpu_throttle'));
      expect(pxapiTables(py.lines).get('throttle')).toHaveLength(result.tables.get('cpu_throttle')?.length ?? -1);

      // The pod deleted (the API server no longer has it, the kubelet removed its cgroups): its rows
      // keep their names, as Pixie keeps a dead pod's metadata 24 h (dev/node/pod-memory.ts).
      await kubelet.close();
      await sleep(1_500);
      const afterDelete = await collect(ts.executeScript({ script: CPU_THROTTLE, execFuncs: funcs('cpu_throttle', t0, tEnd) }));
      expect((afterDelete.tables.get('cpu_throttle') ?? []).find((r) => r['container_id'] === app.id)).toMatchObject({ pod: `shop/${pod.spec.name}`, pod_uid: pod.uid, deployment: 'shop/web' });
    } finally {
      ts.close();
      await kubelet.close();
    }
  }, 120_000);

  it.each([
    ['pod_birth', POD_BIRTH],
    ['pod_birth_lite', POD_BIRTH_LITE],
  ] as const)("%s.pxl returns a lab pod's birth events with its identity", async (fn, script) => {
    if (kubelet === undefined) {throw new Error('no node');}
    const ts = client();
    try {
      const t0 = nowNs();
      const deployed = await collect(ts.executeScript({ script, execFuncs: funcs(fn, t0 - 1_000_000_000n, nowNs()) }));
      expect(deployed.mutations.at(-1)?.ready).toBe(true);
      const spec = BIRTH_PODS[0];
      if (spec === undefined) {throw new Error('no birth pod');}
      const pod = await kubelet.waitBorn(await kubelet.create(spec));
      for (const c of pod.containers) {
        await kubelet.waitWorkloadDone(c);
      }
      await sleep(500);
      const result = await collect(ts.executeScript({ script, execFuncs: funcs(fn, t0, nowNs()) }));
      const rows = (result.tables.get(fn) ?? []).filter((r) => r['pod_uid'] === pod.uid);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row).toMatchObject({ pod: `shop/${pod.spec.name}`, namespace: 'shop' });
      }
      for (const c of pod.containers) {
        const events = rows.filter((r) => r['container_key'] === c.id.slice(0, 32)).map((r) => r['event']);
        expect(events).toContain('entrypoint_exec');
        expect(events).toContain('pivot_root');
        expect(events).toContain('cgroup_mkdir');
      }
      // Only the full probe watches writes and counts syscalls.
      expect(rows.some((r) => r['event'] === 'cgroup_write')).toBe(fn === 'pod_birth');
      expect(rows.some((r) => 'syscalls' in r)).toBe(fn === 'pod_birth');
    } finally {
      ts.close();
      await kubelet.close();
    }
  }, 120_000);

  it('tracepoint lifecycle: same program kept, changed program replaced, FAILED with bpftrace text, TTL', async () => {
    const ts = client();
    const script = (program: string, ttl: string, name = 'kg_test_tp') =>
      `import px\nimport pxtrace\npxtrace.UpsertTracepoint('${name}', '${name}', """${program}""", pxtrace.kprobe(), '${ttl}')\npx.display(px.DataFrame(table='${name}', start_time='-1m'), 'out')\n`;
    const status = "import px\npx.display(px.GetTracepointStatus(), 'status')\n";
    try {
      const one = 'profile:hz:1 { printf("time_:%llu pid:%d", nsecs, pid); }';
      const first = await collect(ts.executeScript({ script: script(one, '2s') }));
      const id = first.mutations[0]?.states[0]?.id;
      expect(first.mutations.at(-1)?.states[0]).toMatchObject({ id, state: 2 });
      const again = await collect(ts.executeScript({ script: script(one, '2s') }));
      expect(again.mutations.map((m) => m.states[0])).toEqual([{ id, state: 2, name: 'kg_test_tp' }]);
      const changed = await collect(ts.executeScript({ script: script(one.replace('hz:1', 'hz:2'), '2s') }));
      expect(changed.mutations[0]?.states[0]?.state).toBe(1);
      expect(changed.mutations[0]?.states[0]?.id).not.toBe(id);
      // TTL: without a re-upsert the probe is stopped and the tracepoint TERMINATED.
      await sleep(3_000);
      const afterTtl = await collect(ts.executeScript({ script: status }));
      expect(afterTtl.tables.get('status')?.find((r) => r['name'] === 'kg_test_tp')).toMatchObject({ state: 'TERMINATED_STATE' });

      const failing = await collect(ts.executeScript({ script: script('tracepoint:kg_nosuch:kg_event { printf("time_:%llu pid:%d", nsecs, pid); }', '1m', 'kg_doomed') })).catch((e: unknown) => e);
      expect(failing).toBeInstanceOf(MutationFailedError);
      expect((failing as MutationFailedError).tracepoints).toEqual(['kg_doomed']);
      const failed = await collect(ts.executeScript({ script: status }));
      const doomed = failed.tables.get('status')?.find((r) => r['name'] === 'kg_doomed');
      expect(doomed).toMatchObject({ state: 'FAILED_STATE' });
      expect(String(doomed?.['status'])).toContain('tracepoint not found: kg_nosuch:kg_event');
    } finally {
      ts.close();
    }
  }, 120_000);

  // Pixie's PEM decodes every event with the first printf's struct (api-facts.md, last section;
  // bpftrace_wrapper.cc): the previous pod_birth_lite ("cgroup_mkdir" vs "cgroup_attach" literals,
  // "" columns) would give garbage columns on a real cluster, so the local Vizier refuses it.
  it('refuses the old pod_birth_lite, whose printfs compile to different structs, naming the printf and the column', async () => {
    const ts = client();
    try {
      const old = readFileSync('test/fixtures/pxl/pod_birth_lite-v1.pxl', 'utf8');
      const failing = await collect(ts.executeScript({ script: old, execFuncs: funcs('pod_birth_lite', nowNs() - 60_000_000_000n, nowNs()) })).catch((e: unknown) => e);
      expect(failing).toBeInstanceOf(MutationFailedError);
      expect((failing as MutationFailedError).tracepoints).toEqual(['kg_pod_birth_lite']);
      const status = await collect(ts.executeScript({ script: "import px\npx.display(px.GetTracepointStatus(), 'status')\n" }));
      const refused = status.tables.get('status')?.find((r) => r['name'] === 'kg_pod_birth_lite');
      expect(refused).toMatchObject({ state: 'FAILED_STATE' });
      expect(String(refused?.['status'])).toContain('printf 2 of the program compiles to another struct than printf 1');
      expect(String(refused?.['status'])).toContain('column event is a 14-byte string there and a 13-byte string in printf 1');
    } finally {
      ts.close();
    }
  }, 120_000);
});
