/**
 * The node as the live Vizier sees it, like Pixie's PEM and metadata service: every container of
 * this host (re-discovered from the cgroup filesystem each sampling tick), named from the pod
 * sources (the API server as Pixie's metadata service reads it, the kubelet, the kernel lab's
 * registry; a deleted pod stays named for 24 h, as in Pixie: dev/node/pod-memory.ts), and `process_stats` sampled from /proc every second for every process of every
 * container, not only the ones some test made.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { monotonicNs } from '../../lab/clock.ts';
import { type ProcessStats, readProcessStats } from '../../lab/proc-stat.ts';
import { type CpuHierarchy, discoverContainers, findCpuHierarchy } from '../../node/containers.ts';
import { type NamedHostContainer, nameContainers, type PodSource } from '../../node/naming.ts';
import { PodMemory } from '../../node/pod-memory.ts';
import { listPods, type PodLister } from '../../node/pod-sources.ts';
import type { NamedPod } from '../../node/pods.ts';
import { deploymentOf } from './backend.ts';
import type { PodInfo } from './udf.ts';

export interface ProcessSample {
  readonly monoNs: bigint;
  readonly container: NamedHostContainer;
  readonly stats: ProcessStats;
}

export interface NodeView {
  readonly hierarchy: CpuHierarchy;
  /** The containers of the latest discovery, named. */
  containers(): readonly NamedHostContainer[];
  pod(uid: string): PodInfo | undefined;
  /** Every process sample so far (oldest first; older than the retention are dropped). */
  samples(): readonly ProcessSample[];
  /** Discovers and names again now (the next tick would anyway). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeViewOptions {
  readonly node: string;
  readonly listers: readonly PodLister[];
  readonly sampleEveryMs?: number;
  /** How often the pod sources are asked (default 2 s). */
  readonly namesEveryMs?: number;
  /** How long samples are kept (default 1 h). */
  readonly retentionMs?: number;
  readonly hierarchy?: CpuHierarchy;
  readonly log?: (event: Record<string, unknown>) => void;
}

/** A pod as the metadata functions see it (Pixie's pod metadata: name, namespace, node, owners, start). */
export const podInfoOf = (pod: NamedPod, node: string): PodInfo => {
  const controller = pod.owners[0];
  const started = Date.parse(pod.startTime);
  return {
    uid: pod.uid,
    name: pod.name,
    namespace: pod.namespace,
    node: pod.node === '' ? node : pod.node,
    owners: pod.owners,
    deployment: deploymentOf(controller ?? null),
    startTimeNs: Number.isNaN(started) ? 0n : BigInt(started) * 1_000_000n,
  };
};

/** Starts discovering, naming and sampling this node; stop() ends it. */
export const startNodeView = async (options: NodeViewOptions): Promise<NodeView> => {
  const hierarchy = options.hierarchy ?? (await findCpuHierarchy());
  const log = options.log ?? ((): void => undefined);
  const everyMs = options.sampleEveryMs ?? 1000;
  const namesEveryMs = options.namesEveryMs ?? 2000;
  const retentionNs = BigInt(options.retentionMs ?? 3_600_000) * 1_000_000n;
  let sources: readonly PodSource[] = [];
  let namedAt = -Infinity;
  let containers: readonly NamedHostContainer[] = [];
  const failing = new Set<string>();
  let out: ProcessSample[] = [];
  // Deleted pods stay named for a day, and a failing source keeps naming what it last listed, as in Pixie.
  const memory = new PodMemory();

  const rename = async (): Promise<void> => {
    const listing = await listPods(options.listers);
    sources = memory.remember(listing, Date.now());
    namedAt = Date.now();
    // Logged when a source starts or stops failing, not on every tick.
    for (const failure of listing.failures) {
      if (!failing.has(failure.source)) {
        log({ event: 'pod_source_failed', source: failure.source, error: failure.error });
      }
    }
    for (const source of failing) {
      if (!listing.failures.some((f) => f.source === source)) {
        log({ event: 'pod_source_recovered', source });
      }
    }
    failing.clear();
    listing.failures.forEach((f) => failing.add(f.source));
  };

  const refresh = async (): Promise<void> => {
    const found = await discoverContainers(hierarchy);
    if (Date.now() - namedAt >= namesEveryMs) {
      await rename();
    }
    containers = nameContainers(found.containers, sources);
  };

  const sample = async (): Promise<void> => {
    for (const container of containers) {
      const procs = await readFile(path.join(hierarchy.mount, container.cgroupPath, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of procs.split('\n').filter((line) => line !== '')) {
        const monoNs = monotonicNs();
        const stats = await readProcessStats(Number(pid));
        if (stats !== undefined) {
          out.push({ monoNs, container, stats });
        }
      }
    }
    const oldest = monotonicNs() - retentionNs;
    if ((out[0]?.monoNs ?? oldest) < oldest) {
      out = out.filter((s) => s.monoNs >= oldest);
    }
  };

  const state = { stopped: false };
  await refresh();
  const loop = (async () => {
    while (!state.stopped) {
      try {
        await refresh();
        await sample();
      } catch (error) {
        log({ event: 'node_sample_failed', error: error instanceof Error ? error.message : String(error) });
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();

  return {
    hierarchy,
    containers: () => containers,
    pod: (uid) => {
      for (const source of sources) {
        const pod = source.pods.find((p) => p.uid === uid);
        if (pod !== undefined) {
          return podInfoOf(pod, options.node);
        }
      }
      return undefined;
    },
    samples: () => out,
    refresh,
    stop: async () => {
      state.stopped = true;
      await loop;
    },
  };
};
