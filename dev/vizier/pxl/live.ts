/**
 * Live backend (root, Linux): tracepoints run as real bpftrace processes through the kernel lab's
 * runner; `process_stats` covers every process of every container of this node and metadata names
 * pods as Pixie's metadata service does, from the node's pod sources (the API server given a
 * kubeconfig, else the kubelet's pod list, and the kernel lab's registry of the pods it made); see
 * node.ts. The node is this host.
 *
 * Tracepoint lifecycle, as Pixie's metadata service reports it: a new (or changed) program is
 * PENDING until bpftrace reports its probes attached, then RUNNING; FAILED with bpftrace's error text
 * (in `px.GetTracepointStatus()` and the log) when it cannot attach. Re-upserting the same name and
 * program keeps the running probe and refreshes its TTL; a changed program replaces it (new id).
 * When the TTL runs out the probe stops and the tracepoint is TERMINATED.
 *
 * A tracepoint's rows are what a PEM would decode (../../lab/pem-rows.ts): each printed event
 * rebuilt into its own printf's struct and read with the first printf's field offsets and types.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname, release } from 'node:os';
import { programOutput } from '../../../shared/pxl/bpftrace-program.ts';
import type { PemRow } from '../../../shared/pxl/pem-event.ts';
import { decodedColumns } from '../../../shared/pxl/printf-layout.ts';
import { compileProgram } from '../../lab/bpftrace-dry-run.ts';
import { type RunningProbe, startProbe } from '../../lab/bpftrace-runner.ts';
import { type PrintedEvent, pemRowsOf } from '../../lab/pem-rows.ts';
import { monotonicToWallOffsetNs } from '../../lab/clock.ts';
import { Lab } from '../../lab/lab.ts';
import type { PodLister } from '../../node/pod-sources.ts';
import type { NamedPod } from '../../node/pods.ts';
import { LIFE_CYCLE, type LifeCycleState, schemaChangeMessage, schemaOf, type TracepointState } from '../tracepoints.ts';
import { type Backend, frameOfRows, makeUpid } from './backend.ts';
import type { TracepointDecl } from './evaluate.ts';
import type { Cell } from './frame.ts';
import { type NodeView, podInfoOf, startNodeView } from './node.ts';
import type { PodInfo, ProcessInfo } from './udf.ts';

export const LIVE_ASID = 1;

interface LiveTracepoint {
  readonly id: string;
  readonly decl: TracepointDecl;
  state: LifeCycleState;
  error: string;
  probe: RunningProbe | undefined;
  ttl: NodeJS.Timeout | undefined;
  /** The probe's events decoded so far (in arrival order), and the decoder of the rest. */
  rows: PemRow[];
  decode: ((event: PrintedEvent) => PemRow) | undefined;
}

/** The rows of the probe's events, decoding those printed since the last call. */
const pemRows = (tp: LiveTracepoint): readonly PemRow[] => {
  const probe = tp.probe;
  if (probe === undefined || tp.decode === undefined) {
    return [];
  }
  const texts = probe.texts();
  const printfs = probe.printfIds();
  for (let i = tp.rows.length; i < texts.length; i += 1) {
    tp.rows.push(tp.decode({ text: texts[i] ?? '', ...(printfs[i] === undefined ? {} : { printf: printfs[i] }) }));
  }
  return tp.rows;
};

/** A live backend plus what the server needs to manage real tracepoints. */
export interface LiveBackend extends Backend {
  upsertTracepoints(decls: readonly TracepointDecl[]): TracepointState[];
  tracepointStatus(): readonly { readonly id: string; readonly name: string; readonly state: LifeCycleState; readonly status: string; readonly table: string }[];
  close(): Promise<void>;
}

/** What the live backend runs on: bpftrace, and where pod names come from. */
export interface LiveNode {
  readonly bpftrace: string;
  readonly listers: readonly PodLister[];
}

/** The kernel lab's pods as a pod source (the lab stands in for a kubelet and its containerd). */
const labPods = (lab: Lab, node: string): NamedPod[] =>
  lab.pods.map((pod) => ({
    uid: pod.uid,
    name: pod.spec.name,
    namespace: pod.spec.namespace,
    node,
    owners: pod.spec.owner === undefined ? [] : [{ ...pod.spec.owner, uid: '' }],
    startTime: '',
    // A pod the lab is still creating has no sandbox yet.
    containers: [pod.sandbox as Lab['pods'][number]['sandbox'] | undefined, ...pod.containers]
      .filter((c) => c !== undefined)
      .map((c) => ({ name: c.name, containerId: c.id, runtime: 'containerd' as const })),
  }));

/** The kernel lab's pods as a pod source (the lab stands in for a kubelet and its containerd). */
export const labPodLister = (lab: Lab, node: string = hostname()): PodLister => ({ source: 'lab', list: () => Promise.resolve(labPods(lab, node)) });

/** Starts the node view (containers, names, /proc sampler) and returns the backend. */
export const liveBackend = async (
  on: Lab | LiveNode,
  options: { readonly log?: (event: Record<string, unknown>) => void; readonly sampleEveryMs?: number; readonly namesEveryMs?: number } = {},
): Promise<LiveBackend> => {
  const node = hostname();
  const live: LiveNode = on instanceof Lab ? { bpftrace: on.host.bpftrace, listers: [labPodLister(on, node)] } : on;
  // The lab's registry is in memory: a pod it made a moment ago is named at once, not at the next refresh.
  const labPod = (uid: string): PodInfo | undefined => {
    const pod = on instanceof Lab ? labPods(on, node).find((p) => p.uid === uid) : undefined;
    return pod === undefined ? undefined : podInfoOf(pod, node);
  };
  const offset = monotonicToWallOffsetNs();
  const tracepoints = new Map<string, LiveTracepoint>();
  const log = options.log ?? ((): void => undefined);
  const view: NodeView = await startNodeView({
    node,
    listers: live.listers,
    log,
    ...(options.sampleEveryMs === undefined ? {} : { sampleEveryMs: options.sampleEveryMs }),
    // The lab's registry costs nothing to ask: every tick.
    ...(options.namesEveryMs === undefined ? (on instanceof Lab ? { namesEveryMs: 0 } : {}) : { namesEveryMs: options.namesEveryMs }),
  });

  // Rebuilt only when the sampler has new samples (metadata lookups run once per row).
  let cache: { samples: readonly unknown[]; length: number; index: { rows: Record<string, Cell>[]; processes: Map<bigint, ProcessInfo> } } | undefined;
  const processIndex = (): { rows: Record<string, Cell>[]; processes: Map<bigint, ProcessInfo> } => {
    const samples = view.samples();
    if (cache?.samples !== samples || cache.length !== samples.length) {
      cache = { samples, length: samples.length, index: buildIndex() };
    }
    return cache.index;
  };
  const buildIndex = (): { rows: Record<string, Cell>[]; processes: Map<bigint, ProcessInfo> } => {
    const processes = new Map<bigint, ProcessInfo>();
    const current = new Map(view.containers().map((c) => [c.cgroupPath, c]));
    const rows = view.samples().map((s) => {
      const upid = makeUpid(LIVE_ASID, s.stats.pid, s.stats.startTimeTicks);
      // Names as of the latest discovery: a pod named after its first samples is named in them too.
      const container = current.get(s.container.cgroupPath) ?? s.container;
      processes.set(upid, { pid: s.stats.pid, podUid: container.identity.podUid, containerId: container.identity.containerId, containerName: container.containerName, cmdline: s.stats.comm });
      const st = s.stats;
      return {
        time_: s.monoNs + offset,
        upid,
        major_faults: st.majorFaults,
        minor_faults: st.minorFaults,
        cpu_utime_ns: st.cpuUtimeNs,
        cpu_ktime_ns: st.cpuKtimeNs,
        num_threads: st.numThreads,
        vsize_bytes: st.vsizeBytes,
        rss_bytes: st.rssBytes,
        rchar_bytes: st.rcharBytes,
        wchar_bytes: st.wcharBytes,
        read_bytes: st.readBytes,
        write_bytes: st.writeBytes,
      };
    });
    return { rows, processes };
  };

  const stop = async (tp: LiveTracepoint, state: LifeCycleState): Promise<void> => {
    clearTimeout(tp.ttl);
    tp.state = state;
    const probe = tp.probe;
    tp.probe = undefined;
    await probe?.stop().catch((error: unknown) => {
      log({ event: 'tracepoint_stop_failed', name: tp.decl.name, error: String(error) });
    });
  };

  const armTtl = (tp: LiveTracepoint): void => {
    clearTimeout(tp.ttl);
    tp.ttl = setTimeout(() => {
      log({ event: 'tracepoint_expired', name: tp.decl.name, id: tp.id });
      void stop(tp, LIFE_CYCLE.TERMINATED_STATE);
    }, Number(tp.decl.ttlNs / 1_000_000n));
    tp.ttl.unref();
  };

  const deploy = (decl: TracepointDecl): LiveTracepoint => {
    const tp: LiveTracepoint = { id: randomUUID(), decl, state: LIFE_CYCLE.PENDING_STATE, error: '', probe: undefined, ttl: undefined, rows: [], decode: undefined };
    tracepoints.set(decl.name, tp);
    armTtl(tp);
    log({ event: 'tracepoint_deploying', name: decl.name, id: tp.id, table: decl.table });
    // A program whose printfs compile to different structs would be decoded as garbage by a PEM
    // (printf-layout.ts): refuse it, with the printf and the column that differ as the FAILED status.
    compileProgram(decl.program, live.bpftrace)
      .then(async ({ layouts }) => {
        const output = programOutput(decl.program);
        decodedColumns(output, layouts);
        const probe = await startProbe(decl.program, { bpftrace: live.bpftrace });
        return { probe, decode: pemRowsOf(output, layouts, probe.clockOffsetNs) };
      })
      .then(
      ({ probe, decode }) => {
        if (tracepoints.get(decl.name) !== tp || tp.state !== LIFE_CYCLE.PENDING_STATE) {
          void probe.stop();
          return;
        }
        tp.probe = probe;
        tp.decode = decode;
        tp.state = LIFE_CYCLE.RUNNING_STATE;
        log({ event: 'tracepoint_running', name: decl.name, id: tp.id, probes: probe.attachedProbes });
      },
      (error: unknown) => {
        tp.state = LIFE_CYCLE.FAILED_STATE;
        tp.error = error instanceof Error ? error.message : String(error);
        log({ event: 'tracepoint_failed', name: decl.name, id: tp.id, error: tp.error });
      },
    );
    return tp;
  };

  return {
    metadata: {
      asid: LIVE_ASID,
      hostname: node,
      pod: (uid) => view.pod(uid) ?? labPod(uid),
      process: (upid) => processIndex().processes.get(upid),
    },
    kernelRelease: release(),
    nowNs: () => BigInt(Date.now()) * 1_000_000n,
    builtin: (table, relation, start, end) => (table === 'process_stats' ? frameOfRows(relation, processIndex().rows, start, end) : undefined),
    tracepoint: (program, relation, start, end) => {
      const tp = [...tracepoints.values()].find((t) => t.decl.program === program && t.probe !== undefined);
      const rows = (tp === undefined ? [] : pemRows(tp)) as readonly Readonly<Record<string, Cell>>[];
      return frameOfRows(relation, rows, start, end);
    },
    upsertTracepoints: (decls) =>
      decls.map((decl) => {
        let tp = tracepoints.get(decl.name);
        const holder = [...tracepoints.values()].find(
          (other) => other.decl.table === decl.table && other.state !== LIFE_CYCLE.TERMINATED_STATE && other.state !== LIFE_CYCLE.FAILED_STATE && schemaOf(other.decl.program) !== schemaOf(decl.program),
        );
        if (holder !== undefined) {
          // Pixie fails an upsert into a live table of another schema; the holder keeps running.
          const refused: LiveTracepoint = { id: randomUUID(), decl, state: LIFE_CYCLE.FAILED_STATE, error: schemaChangeMessage(decl.table, holder.decl.name), probe: undefined, ttl: undefined, rows: [], decode: undefined };
          if (holder !== tp) {
            tracepoints.set(decl.name, refused);
          }
          log({ event: 'tracepoint_failed', name: decl.name, id: refused.id, error: refused.error });
          return { id: refused.id, name: decl.name, state: refused.state };
        }
        if (tp !== undefined && tp.decl.program === decl.program && tp.decl.table === decl.table && tp.state !== LIFE_CYCLE.TERMINATED_STATE) {
          armTtl(tp);
        } else {
          if (tp !== undefined) {
            log({ event: 'tracepoint_replaced', name: decl.name, id: tp.id });
            void stop(tp, LIFE_CYCLE.TERMINATED_STATE);
          }
          tp = deploy(decl);
        }
        return { id: tp.id, name: decl.name, state: tp.state };
      }),
    tracepointStatus: () => [...tracepoints.values()].map((tp) => ({ id: tp.id, name: tp.decl.name, state: tp.state, status: tp.error, table: tp.decl.table })),
    close: async () => {
      await Promise.all([...tracepoints.values()].map((tp) => stop(tp, LIFE_CYCLE.TERMINATED_STATE)));
      await view.stop();
    },
  };
};
