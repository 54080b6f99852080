/**
 * Where the demo's kernel data comes from, and the local Vizier that serves it.
 *
 * - `live`: this machine can run the kernel lab (root, bpftrace, runc, BTF). The local Vizier runs
 *   in this process in live mode over a kernel Lab: the observe functions' `UpsertTracepoint` calls
 *   start the PxL scripts' bpftrace programs for real, then the lab runs the demo's pods (runc
 *   containers in kubepods cgroups, real CFS throttling), and the scripts read what the probes saw.
 * - `replay`: anywhere else. A local Vizier process runs the same PxL scripts over the recordings
 *   of the same scenario committed in `dev/demo/recordings/` (`node dev/demo/record.ts` makes them).
 *
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkLabHost } from '../lab/host.ts';
import { Lab, type LabContainer, type LabPod } from '../lab/lab.ts';
import { type Recording, runBirthScenario, runThrottleScenario } from '../lab/scenarios.ts';
import { type StartedProcess, startProcess } from '../process.ts';
import { PxlEngine } from '../vizier/pxl/engine.ts';
import { liveBackend } from '../vizier/pxl/live.ts';
import { loadRecordings, replayShiftNs, shiftRecording } from '../vizier/pxl/replay.ts';
import { startVizier } from '../vizier/server.ts';
import { coveringWindow, type RequestWindow } from './windows.ts';
import { DEMO_BIRTHS, DEMO_WORKLOADS, THROTTLE_DURATION_MS } from './workloads.ts';

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
    return { mode: 'live', why: 'root, bpftrace, runc and kernel BTF are available' };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (requested === 'live') {
      throw new Error(`live kernel data asked for, but the kernel lab cannot run here: ${reason}`, { cause: error });
    }
    return { mode: 'replay', why: `the kernel lab cannot run here (${reason})` };
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

const iso = (ms: number): string => new Date(ms).toISOString();
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

/** The local Vizier in this process, live over a kernel Lab that runs the demo's pods. */
export const liveFeed = (choice: KernelChoice, log: (event: Record<string, unknown>) => void): KernelFeed => {
  let lab: Lab | undefined;
  return {
    choice,
    startVizier: async () => {
      lab = await Lab.open();
      const opened = lab;
      try {
        const backend = await liveBackend(opened, { log });
        const running = await startVizier({
          dataset: new Map(),
          engine: new PxlEngine(backend),
          apiKeys: [VIZIER_API_KEY],
          clusters: [{ id: VIZIER_CLUSTER_ID, name: 'local-vizier-live', status: 'CS_HEALTHY', faults: {} }],
        });
        return {
          address: running.address,
          stop: async () => {
            await running.stop();
            await backend.close();
            await opened.close();
          },
        };
      } catch (error) {
        await opened.close();
        throw error;
      }
    },
    produce: async (observe, progress) => {
      if (lab === undefined) {
        throw new Error('start the Vizier before producing kernel data');
      }
      progress('deploying the probes: Cloud Scheduler\'s first runs of observe-throttle and observe-births upsert the tracepoints (bpftrace starts)');
      await Promise.all([deployProbe(observe, 'observe-throttle'), deployProbe(observe, 'observe-births')]);
      progress(`running the demo pods in the kernel lab: runc containers in kubepods cgroups, CFS-throttled for ${THROTTLE_DURATION_MS / 1000} s`);
      const pods: LabPod[] = [];
      for (const workload of DEMO_WORKLOADS) {
        pods.push(await lab.createPod(workload.pod));
      }
      const apps: LabContainer[] = pods.flatMap((p) => p.containers);
      for (const container of apps) {
        await lab.startContainer(container);
      }
      const started = Date.now();
      for (const container of apps) {
        await lab.waitExited(container);
      }
      const ended = Date.now();
      progress('a new cart replica is born in the lab (pod_birth probe attached)');
      const bornFrom = Date.now();
      for (const workload of DEMO_BIRTHS) {
        const pod = await lab.createPod(workload.pod);
        await lab.startPod(pod);
        for (const container of pod.containers) {
          await lab.waitExited(container);
        }
      }
      // Let the probes' last lines reach the Vizier before the windows close.
      await sleep(1500);
      const bornUntil = Date.now();
      const length = Math.floor((ended - started) / 3);
      return { throttle: { start: iso(ended - length), end: iso(ended) }, births: { start: iso(bornFrom - 200), end: iso(bornUntil) } };
    },
  };
};

/** The feed for a choice. */
export const kernelFeed = (choice: KernelChoice, log: (event: Record<string, unknown>) => void): KernelFeed =>
  choice.mode === 'live' ? liveFeed(choice, log) : replayFeed(choice);

/** Runs the demo's throttle and birth scenarios in the lab with the scripts' probes, as recordings. */
export const recordDemoScenarios = async (): Promise<{ throttle: Recording; birth: Recording }> => {
  const lab = await Lab.open();
  try {
    const throttle = await runThrottleScenario(lab, { pods: DEMO_WORKLOADS.map((w) => w.pod), cpuStatEveryMs: 200 });
    const birth = await runBirthScenario(lab, { pods: DEMO_BIRTHS.map((w) => w.pod) });
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
