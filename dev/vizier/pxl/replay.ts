/**
 * Replay backend: the lab's recordings (`node dev/lab/record.ts` writes them; test/fixtures/lab/*.json
 * are examples) served as a node's tables. A replay source is one recording file or a directory of
 * them (every `*.json` with `schemaVersion: 1`). Per recording:
 * - the tracepoint table of a script whose program has the recording's printf format is the
 *   recorded probe output as a PEM decodes it (../../lab/pem-rows.ts: each printed event rebuilt
 *   into its printf struct, read with the first printf's layout, from the recording's
 *   `printfLayouts`, bpftrace's dry run of its program; `time_` = nsecs + clockOffsetNs);
 * - `process_stats` rows come from `processStats` (time_ = monoNs + clockOffsetNs; upid = asid 1,
 *   pid, start ticks);
 * - pods and containers (`containers`) are the metadata registry; the node is `replay-node`.
 * "now" is the latest recording end, so relative windows like '-5m' select the recorded rows; or,
 * with `followClock`, this process's clock (the twin's simulated one under
 * dev/twin/clock-preload.ts): recordings are then placed on that clock's axis, and rows after now
 * are not served, as Pixie cannot serve what the probes have not seen yet.
 *
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import path from 'node:path';
import { programOutput } from '../../../shared/pxl/bpftrace-program.ts';
import { pemRowsOf } from '../../lab/pem-rows.ts';
import type { Recording } from '../../lab/scenarios.ts';
import type { Backend } from './backend.ts';
import { deploymentOf, frameOfRows, makeUpid } from './backend.ts';
import type { Cell } from './frame.ts';
import type { PodInfo, ProcessInfo } from './udf.ts';

export const REPLAY_NODE = 'replay-node';
export const REPLAY_ASID = 1;

const snake = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Recordings from a file or a directory of files. */
export const loadRecordings = (source: string): Recording[] => {
  const files = statSync(source).isDirectory()
    ? readdirSync(source)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => path.join(source, f))
    : [source];
  const recordings = files.map((file) => {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Partial<Recording>;
    if (doc.schemaVersion !== 1 || !Array.isArray(doc.printfs) || typeof doc.format !== 'string' || !Array.isArray(doc.containers)) {
      throw new Error(`${file}: not a lab recording (schemaVersion 1 with format, printfs, containers)`);
    }
    if (!Array.isArray(doc.printfLayouts) || doc.printfLayouts.length === 0) {
      throw new Error(`${file}: the recording has no printfLayouts (bpftrace -d of its program, which the PEM decodes its events with): record it again with dev/lab/record.ts`);
    }
    return doc as Recording;
  });
  if (recordings.length === 0) {
    throw new Error(`${source}: no recordings (*.json)`);
  }
  return recordings;
};

/**
 * The shift (ns) that moves recordings in wall-clock time so the latest of them ends at `endNs`,
 * keeping every interval between them. A replay serves recorded kernel data as Pixie serves
 * current data: consumers that judge evidence by its age (remediate refuses stale windows) see
 * it as just observed. The demo passes the same end to the local Vizier (`--replay-ends-at`) and
 * to the windows it asks for, so both agree.
 */
export const replayShiftNs = (recordings: readonly Recording[], endNs: bigint): bigint => {
  let latest: bigint | undefined;
  for (const rec of recordings) {
    const end = BigInt(rec.windowMonoNs.end) + BigInt(rec.clockOffsetNs);
    latest = latest === undefined || end > latest ? end : latest;
  }
  return latest === undefined ? 0n : endNs - latest;
};

/** A recording moved in wall-clock time by `shiftNs` (its clock offset; monotonic times stay). */
export const shiftRecording = (recording: Recording, shiftNs: bigint): Recording => ({
  ...recording,
  clockOffsetNs: (BigInt(recording.clockOffsetNs) + shiftNs).toString(),
});

export interface ReplayOptions {
  /** "Now" is `Date.now()`, and rows after it do not exist yet. */
  readonly followClock?: boolean;
}

/** `end`, or just after `nowNs` when that is earlier: rows are served while `time_ <= now`. */
const notAfter = (end: bigint | undefined, nowNs: bigint): bigint => (end === undefined || end > nowNs + 1n ? nowNs + 1n : end);

/**
 * The recording's printfs as a PEM decodes them. The recording holds texts without printf ids, so
 * a recording of a program whose printfs compile to different structs cannot be replayed (which
 * struct carried each event is not known); the local Vizier refuses to deploy such programs anyway.
 */
export const pemRecordingRows = (recording: Recording): Record<string, Cell>[] => {
  if (recording.printfLayouts === undefined) {
    throw new Error(`recording of ${recording.script}: no printfLayouts to decode its events with`);
  }
  const decode = pemRowsOf({ format: recording.format, columns: recording.columns }, recording.printfLayouts, BigInt(recording.clockOffsetNs));
  return recording.printfs.map((text) => ({ ...decode({ text }) }));
};

/** A {@link Backend} over lab recordings. */
export const replayBackend = (recordings: readonly Recording[], options: ReplayOptions = {}): Backend => {
  const pods = new Map<string, PodInfo>();
  const processes = new Map<bigint, ProcessInfo>();
  const processRows: Record<string, Cell>[] = [];
  const probeRows = new Map<string, Record<string, Cell>[]>();
  let now = 0n;
  for (const rec of recordings) {
    const offset = BigInt(rec.clockOffsetNs);
    const end = BigInt(rec.windowMonoNs.end) + offset;
    now = end > now ? end : now;
    for (const c of rec.containers) {
      pods.set(c.podUid, {
        uid: c.podUid,
        name: c.pod,
        namespace: c.namespace,
        node: REPLAY_NODE,
        owners: c.owner === null ? [] : [{ ...c.owner, uid: '' }],
        deployment: deploymentOf(c.owner),
        startTimeNs: 0n,
      });
    }
    for (const sample of rec.processStats) {
      const stats = sample.stats;
      const pid = Number(stats['pid']);
      const upid = makeUpid(REPLAY_ASID, pid, BigInt(stats['startTimeTicks'] ?? 0));
      const container = rec.containers.find((c) => c.cgroupPath === sample.cgroupPath);
      if (container !== undefined) {
        processes.set(upid, { pid, podUid: container.podUid, containerId: container.containerId, containerName: container.container, cmdline: String(stats['comm'] ?? '') });
      }
      const row: Record<string, Cell> = { time_: BigInt(sample.monoNs) + offset, upid };
      for (const [key, value] of Object.entries(stats)) {
        if (key !== 'pid' && key !== 'comm' && key !== 'startTimeTicks') {
          row[snake(key)] = BigInt(value);
        }
      }
      processRows.push(row);
    }
    const rows = probeRows.get(rec.format) ?? [];
    rows.push(...pemRecordingRows(rec));
    probeRows.set(rec.format, rows);
  }
  const nowNs = options.followClock === true ? () => BigInt(Date.now()) * 1_000_000n : () => now;
  const until = options.followClock === true ? (end: bigint | undefined) => notAfter(end, nowNs()) : (end: bigint | undefined) => end;
  return {
    metadata: { asid: REPLAY_ASID, hostname: REPLAY_NODE, pod: (uid) => pods.get(uid), process: (upid) => processes.get(upid) },
    // The node's kernel is the one the (latest) recording was made on.
    kernelRelease: recordings.at(-1)?.kernel ?? release(),
    nowNs,
    builtin: (table, relation, start, end) => (table === 'process_stats' ? frameOfRows(relation, processRows, start, until(end)) : undefined),
    tracepoint: (program, relation, start, end) => frameOfRows(relation, probeRows.get(programOutput(program).format) ?? [], start, until(end)),
    // bpftrace's dry run of each recorded program, made where it was recorded: deploying that very
    // program is checked with it, so a replay runs where bpftrace is not (yet) installed.
    printfLayouts: (program) => recordings.find((rec) => rec.program === program)?.printfLayouts,
  };
};
