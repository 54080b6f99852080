/**
 * Live backend (root, Linux): tracepoints run as real bpftrace processes through the kernel lab's
 * runner, `process_stats` comes from the lab's /proc sampler over the lab's containers, and metadata
 * from the lab's registry of the pods it created (the node is this host).
 *
 * Tracepoint lifecycle, as Pixie's metadata service reports it: a new (or changed) program is
 * PENDING until bpftrace reports its probes attached, then RUNNING; FAILED with bpftrace's error text
 * (in `px.GetTracepointStatus()` and the log) when it cannot attach. Re-upserting the same name and
 * program keeps the running probe and refreshes its TTL; a changed program replaces it (new id).
 * When the TTL runs out the probe stops and the tracepoint is TERMINATED.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { pemColumns } from '../../lab/bpftrace-dry-run.ts';
import { type RunningProbe, startProbe } from '../../lab/bpftrace-runner.ts';
import { monotonicToWallOffsetNs } from '../../lab/clock.ts';
import type { Lab, LabContainer } from '../../lab/lab.ts';
import { cpuHierarchy } from '../../lab/lab.ts';
import { type ProcessStatsSample, sampleProcessStats, type Sampler } from '../../lab/samplers.ts';
import { LIFE_CYCLE, type LifeCycleState, schemaChangeMessage, schemaOf, type TracepointState } from '../tracepoints.ts';
import { type Backend, deploymentOf, frameOfRows, makeUpid } from './backend.ts';
import type { TracepointDecl } from './evaluate.ts';
import type { Cell } from './frame.ts';
import type { PodInfo, ProcessInfo } from './udf.ts';

export const LIVE_ASID = 1;

interface LiveTracepoint {
  readonly id: string;
  readonly decl: TracepointDecl;
  state: LifeCycleState;
  error: string;
  probe: RunningProbe | undefined;
  ttl: NodeJS.Timeout | undefined;
}

/** A live backend plus what the server needs to manage real tracepoints. */
export interface LiveBackend extends Backend {
  upsertTracepoints(decls: readonly TracepointDecl[]): TracepointState[];
  tracepointStatus(): readonly { readonly id: string; readonly name: string; readonly state: LifeCycleState; readonly status: string; readonly table: string }[];
  close(): Promise<void>;
}

/** Starts the /proc sampler over the lab's containers and returns the backend. */
export const liveBackend = async (lab: Lab, options: { readonly log?: (event: Record<string, unknown>) => void; readonly sampleEveryMs?: number } = {}): Promise<LiveBackend> => {
  const cpuRoot = await cpuHierarchy();
  const node = hostname();
  const offset = monotonicToWallOffsetNs();
  // A pod the lab is still creating has no sandbox yet: the sampler may fire in between.
  const containers = (): LabContainer[] => lab.pods.flatMap((p) => [p.sandbox as LabContainer | undefined, ...p.containers]).filter((c) => c !== undefined);
  const sampler: Sampler<ProcessStatsSample> = sampleProcessStats(cpuRoot, () => containers().map((c) => c.cgroupPath), options.sampleEveryMs ?? 1000);
  const tracepoints = new Map<string, LiveTracepoint>();
  const log = options.log ?? ((): void => undefined);

  const podInfo = (uid: string): PodInfo | undefined => {
    const pod = lab.pods.find((p) => p.uid === uid);
    if (pod === undefined) {
      return undefined;
    }
    const owner = pod.spec.owner ?? null;
    return { uid, name: pod.spec.name, namespace: pod.spec.namespace, node, owners: owner === null ? [] : [{ ...owner, uid: '' }], deployment: deploymentOf(owner), startTimeNs: 0n };
  };

  // Rebuilt only when the sampler has new samples (metadata lookups run once per row).
  let cache: { samples: number; pods: number; index: { rows: Record<string, Cell>[]; processes: Map<bigint, ProcessInfo> } } | undefined;
  const processIndex = (): { rows: Record<string, Cell>[]; processes: Map<bigint, ProcessInfo> } => {
    if (cache?.samples !== sampler.samples().length || cache.pods !== containers().length) {
      cache = { samples: sampler.samples().length, pods: containers().length, index: buildIndex() };
    }
    return cache.index;
  };
  const buildIndex = (): { rows: Record<string, Cell>[]; processes: Map<bigint, ProcessInfo> } => {
    const processes = new Map<bigint, ProcessInfo>();
    const rows = sampler.samples().map((s) => {
      const upid = makeUpid(LIVE_ASID, s.stats.pid, s.stats.startTimeTicks);
      const container = containers().find((c) => c.cgroupPath === s.cgroupPath);
      if (container !== undefined) {
        processes.set(upid, { pid: s.stats.pid, podUid: container.pod.uid, containerId: container.id, containerName: container.name, cmdline: s.stats.comm });
      }
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
    const tp: LiveTracepoint = { id: randomUUID(), decl, state: LIFE_CYCLE.PENDING_STATE, error: '', probe: undefined, ttl: undefined };
    tracepoints.set(decl.name, tp);
    armTtl(tp);
    log({ event: 'tracepoint_deploying', name: decl.name, id: tp.id, table: decl.table });
    // A program whose printfs compile to different structs would be decoded as garbage by a PEM
    // (printf-layout.ts): refuse it, with the printf and the column that differ as the FAILED status.
    pemColumns(decl.program, lab.host.bpftrace)
      .then(async () => startProbe(decl.program, { bpftrace: lab.host.bpftrace }))
      .then(
      (probe) => {
        if (tracepoints.get(decl.name) !== tp || tp.state !== LIFE_CYCLE.PENDING_STATE) {
          void probe.stop();
          return;
        }
        tp.probe = probe;
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
      pod: podInfo,
      process: (upid) => processIndex().processes.get(upid),
    },
    nowNs: () => BigInt(Date.now()) * 1_000_000n,
    builtin: (table, relation, start, end) => (table === 'process_stats' ? frameOfRows(relation, processIndex().rows, start, end) : undefined),
    tracepoint: (program, relation, start, end) => {
      const tp = [...tracepoints.values()].find((t) => t.decl.program === program && t.probe !== undefined);
      const rows = (tp?.probe?.rows() ?? []) as readonly Readonly<Record<string, Cell>>[];
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
          const refused: LiveTracepoint = { id: randomUUID(), decl, state: LIFE_CYCLE.FAILED_STATE, error: schemaChangeMessage(decl.table, holder.decl.name), probe: undefined, ttl: undefined };
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
      await sampler.stop();
    },
  };
};
