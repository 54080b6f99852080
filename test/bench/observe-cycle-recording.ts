/**
 * The observe-cycle cluster (observe-cycle-data.ts: same seeded containers and shapes) as a
 * kernel-lab recording, so the local Vizier's PxL engine (`--replay`) runs the real
 * cpu_throttle.pxl over it: the probe's printf rows (one per active container per second, the
 * probe's own rate; idle containers are never sampled, so they print nothing) and process_stats
 * samples (one per container per second), with the program, format and columns taken from the
 * checked-in recording test/fixtures/lab/throttle.json. Counters grow at each shape's rate.
 *
 * @module
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ClusterShape, clusterContainers, DEFAULT_CLUSTER, perWindow } from './observe-cycle-data.ts';

const root = path.resolve(import.meta.dirname, '../..');
const TEMPLATE = path.join(root, 'test/fixtures/lab/throttle.json');

export interface WrittenRecording {
  readonly file: string;
  readonly containers: number;
  readonly printfs: number;
  readonly processStats: number;
  readonly bytes: number;
}

/** Writes a recording of `seconds` seconds ending at wall-clock `endMs`. */
export const writeObserveRecording = (endMs: number, seconds: number, cluster: ClusterShape = DEFAULT_CLUSTER): WrittenRecording => {
  const template = JSON.parse(readFileSync(TEMPLATE, 'utf8')) as Record<string, unknown>;
  const containers = clusterContainers(cluster);
  const startMono = 1_000_000_000_000n;
  const endMono = startMono + BigInt(seconds) * 1_000_000_000n;
  const clockOffsetNs = BigInt(endMs) * 1_000_000n - endMono;
  const printfs: string[] = [];
  const processStats: { monoNs: string; cgroupPath: string; stats: Record<string, string | number> }[] = [];
  const truths = containers.map((c, i) => {
    const containerId = `${c.key}${c.key}`;
    const cgroupPath = `/kubepods/burstable/pod${c.podUid}/${containerId}`;
    const pid = 10_000 + i;
    const rate = perWindow(c.shape, c.quotaNs, 1000);
    for (let s = 0; s < seconds; s += 1) {
      const mono = startMono + BigInt(s) * 1_000_000_000n + 500_000_000n;
      if (c.shape !== 'idle') {
        printfs.push(
          `time_:${mono} cgroup_id:${100_000 + i} container_cgroup:${containerId.slice(0, 63)} pod_cgroup:pod${c.podUid} pid:${pid} ` +
            `nr_periods:${Math.round(rate.periods * s)} nr_throttled:${Math.round(rate.throttled * s)} throttled_time_ns:${Math.round(rate.throttledNs * s)} ` +
            `quota_ns:${c.quotaNs} period_ns:100000000 burst_ns:0 nr_bursts:0 burst_time_ns:0`,
        );
      }
      processStats.push({
        monoNs: String(mono),
        cgroupPath,
        stats: {
          pid, comm: c.container, minorFaults: '100', majorFaults: '0', cpuUtimeNs: String(Math.round(rate.cpuNs * s)), cpuKtimeNs: '0',
          numThreads: '4', startTimeTicks: '1000', vsizeBytes: '100000000', rssBytes: '50000000', rcharBytes: '0', wcharBytes: '0', readBytes: '0', writeBytes: '0',
        },
      });
    }
    return {
      pod: c.pod, namespace: c.namespace, podUid: c.podUid, owner: { kind: 'ReplicaSet', name: `${c.deployment}-7d9f8` }, layout: 'cgroupfs', qos: 'burstable',
      container: c.container, containerId, sandbox: false, cgroupPath, cgroupIds: [{ hierarchy: 0, id: 100_000 + i }], podCgroupIds: [], pid,
    };
  });
  const recording = {
    schemaVersion: 1, script: 'cpu_throttle', recordedAt: new Date(endMs).toISOString(), kernel: template['kernel'], program: template['program'],
    format: template['format'], columns: template['columns'], clockOffsetNs: String(clockOffsetNs), windowMonoNs: { start: String(startMono), end: String(endMono) },
    printfs, containers: truths, cpuStatSamples: [], processStats,
  };
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'kg-bench-recording-')), 'throttle.json');
  const text = JSON.stringify(recording);
  writeFileSync(file, text);
  return { file, containers: truths.length, printfs: printfs.length, processStats: processStats.length, bytes: text.length };
};
