/**
 * The observe windows a scheduled run covers for recorded kernel data: Cloud Scheduler would name
 * the window that just ended; with recordings, the demo names the windows the recording covers,
 * as a backfill request (`{start, end}`) does.
 *
 * @module
 */
import type { Recording } from '../lab/scenarios.ts';

export interface RequestWindow {
  readonly start: string;
  readonly end: string;
}

/**
 * Wall-clock times of the probe rows about the recording's own containers. The probes are
 * kernel-wide: on a shared machine they also print rows about other containers (another lab run),
 * which must not move the windows.
 */
const rowTimesNs = (recording: Recording): bigint[] => {
  const offset = BigInt(recording.clockOffsetNs);
  const ours = new Set(recording.containers.flatMap((c) => [...c.cgroupIds, ...c.podCgroupIds].map((id) => String(id.id))));
  return recording.printfs.flatMap((line) => {
    const time = /^time_:(\d+)/.exec(line)?.[1];
    const cgroup = / cgroup_id:(\d+)/.exec(line)?.[1];
    return time === undefined || cgroup === undefined || !ours.has(cgroup) ? [] : [BigInt(time) + offset];
  });
};

const iso = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString();

/**
 * The last of `count` equal windows that together cover the recording's probe rows, whole
 * milliseconds, ending just after the last row (observe-throttle asks for the `count - 1` windows
 * before it itself).
 */
export const coveringWindow = (recording: Recording, count: number): RequestWindow => {
  const times = rowTimesNs(recording);
  if (times.length === 0) {
    throw new Error(`the ${recording.script} recording has no probe rows`);
  }
  const first = times.reduce((a, b) => (b < a ? b : a));
  const last = times.reduce((a, b) => (b > a ? b : a));
  const endMs = last / 1_000_000n + 1n;
  const lengthMs = (endMs - first / 1_000_000n + BigInt(count) - 1n) / BigInt(count);
  return { start: iso((endMs - lengthMs) * 1_000_000n), end: iso(endMs * 1_000_000n) };
};
