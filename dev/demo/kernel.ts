/**
 * Where the demo's kernel data comes from, and the local Vizier that serves it.
 *
 * - `live`: this machine can run a real one-node cluster and the probes (root, bpftrace, kernel BTF,
 *   the kubelet, controller-manager and scheduler built by dev/setup, containerd). The demo's
 *   workloads are real Deployments whose pods the kubelet births, the local Vizier runs in this
 *   process in live mode (names from the API server), and the observe functions' `UpsertTracepoint`
 *   calls start the PxL scripts' bpftrace programs for real (dev/demo/node-feed.ts).
 * - `replay`: anywhere else. A local Vizier process runs the same PxL scripts over the recordings
 *   of the same scenario committed in `dev/demo/recordings/` (`node dev/demo/record.ts` makes them
 *   on the node: the cgroupfs workloads as real Deployments' pods, the systemd one in the runc lab).
 *
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveNodeBinaries } from '../kube/binaries.ts';
import { withPrintfLayouts } from '../lab/bpftrace-dry-run.ts';
import { checkLabHost } from '../lab/host.ts';
import { openNodeLab } from '../lab/node-lab.ts';
import { type Recording, runBirthScenario, runThrottleScenario } from '../lab/scenarios.ts';
import { type StartedProcess, startProcess } from '../process.ts';
import { loadRecordings, replayShiftNs, shiftRecording } from '../vizier/pxl/replay.ts';
import { coveringWindow, type RequestWindow } from './windows.ts';
import { DEMO_BIRTHS, DEMO_WORKLOADS } from './workloads.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export const KERNEL_MODES = ['live', 'replay'] as const;
export type KernelMode = (typeof KERNEL_MODES)[number];

/** The committed recordings of the demo scenario. */
export const RECORDINGS_DIR = path.resolve(import.meta.dirname, 'recordings');

/** The local Vizier's API key and cluster (its defaults, docs/vizier.md). */
export const VIZIER_API_KEY = 'px-api-local-vizier-key';
export const VIZIER_CLUSTER_ID = '6c1a2f3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b';

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
    await resolveNodeBinaries();
    return { mode: 'live', why: 'root, bpftrace, kernel BTF, containerd and the kubelet binaries are available' };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (requested === 'live') {
      throw new Error(`live kernel data asked for, but a node with the probes cannot run here: ${reason}`, { cause: error });
    }
    return { mode: 'replay', why: `a node with the probes cannot run here (${reason})` };
  }
};

/** A running local Vizier. */
export interface VizierHandle {
  /** `host:port` for PIXIE_CLOUD_ADDR (plaintext). */
  readonly address: string;
  /** The child process when it runs as one (its output goes to the demo's log). */
  readonly process?: StartedProcess;
  stop(): Promise<void>;
}

/** What the scheduled cycle observes: the windows to ask for. */
export interface KernelWindows {
  readonly throttle: RequestWindow;
  readonly births: RequestWindow;
}

/** Calls an observe function as Cloud Scheduler does; answers the HTTP status. */
export type ObserveCall = (name: 'observe-throttle' | 'observe-births', body: Record<string, unknown>) => Promise<number>;

export interface KernelFeed {
  readonly choice: KernelChoice;
  startVizier(): Promise<VizierHandle>;
  /**
   * Makes the kernel data the cycle observes (live: deploys the probes through the observe
   * functions, then runs the pods) and returns the windows that cover it.
   */
  produce(observe: ObserveCall, progress: (message: string) => void): Promise<KernelWindows>;
}

const readRecording = async (dir: string, name: string): Promise<Recording> => JSON.parse(await readFile(path.join(dir, `${name}.json`), 'utf8')) as Recording;

/**
 * The local Vizier process running the PxL scripts over recordings, moved in time so the latest
 * recording ends when the Vizier starts: the findings' windows are then as fresh as a scheduled
 * run's, which remediate requires (it refuses evidence older than REMEDIATION_MAX_EVIDENCE_AGE).
 */
export const replayFeed = (choice: KernelChoice, dir = RECORDINGS_DIR): KernelFeed => {
  const endsAt = new Date();
  return {
    choice,
    startVizier: async () => {
      const ready = /vizier listening on (\S+)/;
      const child = await startProcess(process.execPath, [path.join(ROOT, 'dev', 'vizier', 'main.ts'), '--replay', dir, '--replay-ends-at', endsAt.toISOString()], { ready, timeoutMs: 60_000 });
      const address = ready.exec(child.output())?.[1];
      if (address === undefined) {
        await child.stop();
        throw new Error(`the local Vizier printed no address:\n${child.output()}`);
      }
      return { address, process: child, stop: () => child.stop() };
    },
    produce: async () => {
      // The same shift as the Vizier's: computed over every recording it loaded.
      const shift = replayShiftNs(loadRecordings(dir), BigInt(endsAt.getTime()) * 1_000_000n);
      const [throttle, birth] = await Promise.all([readRecording(dir, 'throttle'), readRecording(dir, 'birth')]);
      return { throttle: coveringWindow(shiftRecording(throttle, shift), 3), births: coveringWindow(shiftRecording(birth, shift), 1) };
    },
  };
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Repeats a scheduler call until it answers 200: the first runs deploy the probes (Pixie answers "installation in progress"). */
export const deployProbe = async (observe: ObserveCall, name: 'observe-throttle' | 'observe-births', timeoutMs = 90_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = await observe(name, { windowSeconds: 10 });
    if (status === 200) {
      return;
    }
    if (Date.now() > until) {
      throw new Error(`${name} still answers ${status} after ${timeoutMs} ms: its probe did not deploy (see the log)`);
    }
    await sleep(1000);
  }
};

/**
 * Runs the demo's throttle and birth scenarios with the scripts' probes, as recordings: on a real
 * node, whose controllers make the cgroupfs workloads' pods from Deployments (node-lab.ts).
 */
export const recordDemoScenarios = async (): Promise<{ throttle: Recording; birth: Recording }> => {
  const nodeLab = await openNodeLab();
  const { lab, kubelet } = nodeLab;
  try {
    const throttle = await withPrintfLayouts(await runThrottleScenario(lab, { pods: DEMO_WORKLOADS.map((w) => w.pod), cpuStatEveryMs: 200, kubelet }), lab.host.bpftrace);
    // The new replica of shop/cart is born from scratch: its Deployment is made again.
    await kubelet.close();
    const birth = await withPrintfLayouts(await runBirthScenario(lab, { pods: DEMO_BIRTHS.map((w) => w.pod), kubelet }), lab.host.bpftrace);
    return { throttle, birth };
  } finally {
    await nodeLab.close();
  }
};

/** Writes recordings as the Vizier's `--replay` reads them (one JSON file each). */
export const writeRecordings = async (dir: string, recordings: { throttle: Recording; birth: Recording }): Promise<void> => {
  await writeFile(path.join(dir, 'throttle.json'), `${JSON.stringify(recordings.throttle)}\n`);
  await writeFile(path.join(dir, 'birth.json'), `${JSON.stringify(recordings.birth)}\n`);
};
