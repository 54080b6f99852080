/**
 * Where the demo's kernel data comes from.
 *
 * - `live`: this machine can run the kernel lab (root, bpftrace, runc, BTF). The lab runs the
 *   demo's pods now (real runc containers in kubepods cgroups, real CFS throttling) under the PxL
 *   scripts' own bpftrace programs, and the local Vizier serves what the probes printed.
 * - `replay`: anywhere else. The Vizier serves the recordings of the same scenario committed in
 *   `dev/demo/recordings/` (made by `node dev/demo/record.ts` on a lab machine).
 *
 * Both end as a directory of lab recordings that the Vizier's PxL engine runs the scripts over
 * (`--replay`), so the observe functions see the same tables either way.
 *
 * @module
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkLabHost } from '../lab/host.ts';
import { Lab } from '../lab/lab.ts';
import { type Recording, runBirthScenario, runThrottleScenario } from '../lab/scenarios.ts';
import { DEMO_BIRTHS, DEMO_WORKLOADS } from './workloads.ts';

export const KERNEL_MODES = ['live', 'replay'] as const;
export type KernelMode = (typeof KERNEL_MODES)[number];

/** The committed recordings of the demo scenario. */
export const RECORDINGS_DIR = path.resolve(import.meta.dirname, 'recordings');

export interface KernelChoice {
  readonly mode: KernelMode;
  /** Why this mode: what was found missing for live mode, or that everything is there. */
  readonly why: string;
}

/** Live when the lab's preconditions hold (unless replay is forced), replay otherwise. */
export const chooseKernelMode = async (requested: KernelMode | 'auto'): Promise<KernelChoice> => {
  if (requested === 'replay') {
    return { mode: 'replay', why: 'replay asked for' };
  }
  try {
    await checkLabHost();
    return { mode: 'live', why: 'root, bpftrace, runc and kernel BTF are available' };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (requested === 'live') {
      throw new Error(`live kernel data asked for, but the kernel lab cannot run here: ${reason}`, { cause: error });
    }
    return { mode: 'replay', why: `the kernel lab cannot run here (${reason})` };
  }
};

/** Runs the demo's throttle and birth scenarios on this kernel. */
export const recordDemoScenarios = async (options: { readonly signal?: AbortSignal } = {}): Promise<{ throttle: Recording; birth: Recording }> => {
  const lab = await Lab.open();
  try {
    const signal = options.signal === undefined ? {} : { signal: options.signal };
    const throttle = await runThrottleScenario(lab, { pods: DEMO_WORKLOADS.map((w) => w.pod), cpuStatEveryMs: 200, ...signal });
    const birth = await runBirthScenario(lab, { pods: DEMO_BIRTHS.map((w) => w.pod), ...signal });
    return { throttle, birth };
  } finally {
    await lab.close();
  }
};

/** Writes recordings as the Vizier's `--replay` reads them (one JSON file each). */
export const writeRecordings = async (dir: string, recordings: { throttle: Recording; birth: Recording }): Promise<void> => {
  await writeFile(path.join(dir, 'throttle.json'), `${JSON.stringify(recordings.throttle)}\n`);
  await writeFile(path.join(dir, 'birth.json'), `${JSON.stringify(recordings.birth)}\n`);
};

/** The recordings directory for `mode`: fresh from the lab (live) or the committed one (replay). */
export const kernelRecordings = async (mode: KernelMode, options: { readonly signal?: AbortSignal } = {}): Promise<string> => {
  if (mode === 'replay') {
    return RECORDINGS_DIR;
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'kg-demo-kernel-'));
  await writeRecordings(dir, await recordDemoScenarios(options));
  return dir;
};
