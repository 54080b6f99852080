/**
 * Benchmark: one observe-throttle cycle for a 1,000-pod / 5,000-container cluster, end to end.
 *
 *   node test/bench/observe-cycle.ts [--mode function|core] [--runs 30] [--pods 1000] [--containers-per-pod 5]
 *                                    [--heap-mib N] [--replay <lab recording> | --scaled-replay] [--no-build]
 *
 * Real parts only: the built bundle (`dist/functions/observe-throttle`, rebuilt first unless
 * --no-build) under the functions-framework host, the local Vizier (`dev/vizier/main.ts`, TLS,
 * end-to-end encryption on as in production) serving the scaled replay tables of
 * observe-cycle-data.ts, and the official Pub/Sub emulator with the schema-enforced findings topic.
 *
 * One cycle = the client's POST (body `{start, end}` of the latest window) until the function's
 * response, which it sends only after every finding's publish was acknowledged by the emulator
 * (shared/findings/publisher.ts awaits each publish; 2xx only when all were). The first request on
 * the fresh instance (client creation + the probe deploy round trip) is reported apart; the others
 * give p50 / p99. Peak memory is the function process's RSS high-water (VmHWM from /proc), read
 * after the last run. Afterwards every published finding is pulled back from a subscription that
 * existed before the first run, so the counts are the emulator's, not the function's word.
 *
 * `--replay <recording>` runs the full path with the local Vizier's PxL engine replaying a kernel-lab
 * recording (the real script evaluated), and `--scaled-replay` on a generated recording of the same
 * 5,000-container cluster (observe-cycle-recording.ts); both report the CPU per cycle of the
 * function and of the Vizier apart, since the Vizier's evaluation is Pixie's work in production.
 *
 * `--mode core` runs the observe-throttle core (observe-cycle-core.ts) in a process of its own
 * instead of the bundle, with a stand-in script text over the scaled dataset (the dataset holds
 * cpu_throttle's result rows, not the probe rows the real script reads).
 *
 * @module
 */
import { PubSub, type Message } from '@google-cloud/pubsub';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startPubsubEmulator } from '../../dev/pubsub/emulator.ts';
import { provisionFindingsTopic, pullSubscription } from '../../dev/pubsub/provision.ts';
import { startFunction } from '../support/functions.ts';
import { startProcess } from '../support/process.ts';
import { cpuMs } from './proc-cpu.ts';
import { replayEnd } from '../../cli/scan.ts';
import { DEFAULT_CLUSTER, writeObserveDataset } from './observe-cycle-data.ts';
import { writeObserveRecording } from './observe-cycle-recording.ts';

const root = path.resolve(import.meta.dirname, '../..');
// No GCE metadata server here: the clients must not wait for one.
process.env['METADATA_SERVER_DETECTION'] = 'none';
const PROJECT = 'kernel-gossip-bench';
const API_KEY = 'px-api-local-vizier-key';
const CLUSTER_ID = '6c1a2f3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b';
const WINDOW_MS = 60_000;
const WINDOWS = 3;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    pods: { type: 'string', default: String(DEFAULT_CLUSTER.pods) },
    'containers-per-pod': { type: 'string', default: String(DEFAULT_CLUSTER.containersPerPod) },
    'no-build': { type: 'boolean', default: false },
    mode: { type: 'string', default: 'function' },
    'heap-mib': { type: 'string' },
    replay: { type: 'string' },
    'scaled-replay': { type: 'boolean', default: false },
  },
  strict: true,
});
const runs = Number(values.runs);
const pods = Number(values.pods);
const containersPerPod = Number(values['containers-per-pod']);
const mode = values.mode;
/** A kernel-lab recording (docs/vizier.md, Replay): the full path on real kernel data, at the lab's scale. */
const scaledReplay = values['scaled-replay'] ? writeObserveRecording(Math.floor(Date.now() / 1000) * 1000 - 60_000, 30, { ...DEFAULT_CLUSTER, pods, containersPerPod }) : undefined;
if (scaledReplay !== undefined) {
  console.log(`scaled recording: ${scaledReplay.containers} containers, ${scaledReplay.printfs} probe rows, ${scaledReplay.processStats} process_stats rows, ${(scaledReplay.bytes / 1024 / 1024).toFixed(0)} MiB`);
}
const replay = scaledReplay?.file ?? values.replay;
if (replay !== undefined && mode !== 'function') {
  throw new Error('--replay runs the full path: use it with --mode function');
}
// V8 sizes its heap from the machine (or the cgroup limit); --heap-mib caps the old space of the
// measured process the way a small Cloud Run memory limit would, to see whether the cycle fits.
const heapMib = values['heap-mib'] === undefined ? undefined : Number(values['heap-mib']);
if (heapMib !== undefined && !(Number.isInteger(heapMib) && heapMib > 0)) {
  throw new Error('--heap-mib must be a positive integer');
}
if (mode !== 'function' && mode !== 'core') {
  throw new Error('--mode is function (the bundle under functions-framework) or core (observe-cycle-core.ts)');
}
if (![runs, pods, containersPerPod].every((n) => Number.isInteger(n) && n > 0) || containersPerPod > 5) {
  throw new Error('--runs and --pods must be positive integers, --containers-per-pod 1-5');
}

const percentile = (sorted: readonly number[], p: number): number => {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
};

const statusKb = (pid: number, field: 'VmHWM' | 'VmRSS'): number => {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match?.[1] === undefined) {
    throw new Error(`no ${field} in /proc/${pid}/status`);
  }
  return Number(match[1]);
};

const mib = (kb: number): string => (kb / 1024).toFixed(1);

interface Cycle {
  readonly ms: number;
  readonly findings: number;
  readonly published: number;
  readonly failed: number;
  readonly containers: number;
}

interface Measured {
  readonly first: Cycle;
  readonly times: readonly number[];
  readonly published: number;
  readonly idleRssKb: number;
  readonly hwmKb: number;
  /** Median CPU ms per cycle of the function process and of the Vizier (function mode only). */
  readonly functionCpuMs?: number;
  readonly vizierCpuMs?: number;
}

type Window = { readonly start: Date; readonly end: Date };

/** The built bundle under functions-framework, driven over HTTP. */
const functionCycles = async (env: NodeJS.ProcessEnv, window: Window, vizierPid: number): Promise<Measured> => {
  const fn = await startFunction('observe-throttle', env);
  try {
    const pid = fn.process.child.pid;
    if (pid === undefined) {
      throw new Error('function process has no pid');
    }
    const idleRssKb = statusKb(pid, 'VmRSS');
    const body = JSON.stringify({ start: window.start.toISOString(), end: window.end.toISOString() });
    const cycle = async (): Promise<Cycle> => {
      const t0 = performance.now();
      const response = await fetch(fn.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const result = (await response.json()) as Record<string, unknown>;
      const ms = performance.now() - t0;
      if (response.status !== 200) {
        const hint = /PxL compilation failed/.test(fn.process.output())
          ? '\nThe dataset holds cpu_throttle result rows, not the probe rows the real script reads: use --mode core or --replay.'
          : '';
        throw new Error(`cycle failed: HTTP ${response.status} ${JSON.stringify(result)}\n${fn.process.output().slice(-4000)}${hint}`);
      }
      return { ms, findings: Number(result['findings']), published: Number(result['published']), failed: Number(result['failed']), containers: Number(result['containers']) };
    };
    const first = await cycle();
    const times: number[] = [];
    const fnCpu: number[] = [];
    const vizierCpu: number[] = [];
    let published = first.published;
    for (let i = 0; i < runs; i += 1) {
      const [fn0, v0] = [cpuMs(pid), cpuMs(vizierPid)];
      const result = await cycle();
      fnCpu.push(cpuMs(pid) - fn0);
      vizierCpu.push(cpuMs(vizierPid) - v0);
      if (result.findings !== first.findings || result.failed !== 0) {
        throw new Error(`run ${i} differs from the first: ${JSON.stringify(result)}`);
      }
      times.push(result.ms);
      published += result.published;
    }
    const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50);
    return { first, times, published, idleRssKb, hwmKb: statusKb(pid, 'VmHWM'), functionCpuMs: median(fnCpu), vizierCpuMs: median(vizierCpu) };
  } finally {
    await fn.stop();
  }
};

/** The core in a child process of its own (observe-cycle-core.ts says what differs). */
const coreCycles = async (env: NodeJS.ProcessEnv, window: Window): Promise<Measured> => {
  const resultFile = path.join(mkdtempSync(path.join(tmpdir(), 'kg-bench-core-')), 'result.json');
  const child = spawn(
    process.execPath,
    [path.join(import.meta.dirname, 'observe-cycle-core.ts'), window.start.toISOString(), window.end.toISOString(), String(runs), resultFile],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Read (and drop) the log lines, as the function mode's host does; keep the tail for errors.
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) {
    throw new Error(`observe-cycle-core.ts exited ${String(code)}:\n${tail}`);
  }
  const measured = JSON.parse(readFileSync(resultFile, 'utf8')) as Measured;
  rmSync(path.dirname(resultFile), { recursive: true, force: true });
  return measured;
};

const cleanups: (() => Promise<void> | void)[] = [];
try {
  if (mode === 'function' && !values['no-build']) {
    execFileSync(process.execPath, [path.join(root, 'dev/build/bundle.ts')], { cwd: root, stdio: 'inherit' });
  }
  // The latest window ends on a whole minute in the past (replay: where the recording ends, 10 s
  // windows as the observe integration test uses); the two before it complete the streak.
  const windowMs = replay === undefined ? WINDOW_MS : 10_000;
  const end = replay === undefined ? Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - WINDOW_MS : (await replayEnd(replay)).getTime();
  const starts = Array.from({ length: WINDOWS }, (_, i) => new Date(end - (WINDOWS - i) * windowMs));
  const dataset = replay === undefined ? writeObserveDataset(starts, windowMs, { ...DEFAULT_CLUSTER, pods, containersPerPod }) : undefined;
  cleanups.push(() => {
    for (const dir of [dataset?.dir, scaledReplay === undefined ? undefined : path.dirname(scaledReplay.file)]) {
      if (dir !== undefined) {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
  console.log(
    dataset === undefined
      ? `replay: ${replay ?? ''}`
      : `dataset: ${pods} pods, ${dataset.containers} containers x ${WINDOWS} windows, ${(dataset.bytes / 1024 / 1024).toFixed(1)} MiB JSON; shapes ${JSON.stringify(dataset.shapes)}`,
  );

  const emulatorPromise = startPubsubEmulator();
  const vizier = await startProcess(process.execPath, [path.join(root, 'dev/vizier/main.ts'), ...(dataset === undefined ? ['--replay', replay ?? ''] : ['--dataset', dataset.dir]), '--tls'], {
    ready: /vizier listening on 127\.0\.0\.1:\d+ tls ca=\S+/,
    timeoutMs: 60_000,
  });
  cleanups.push(() => vizier.stop());
  const emulator = await emulatorPromise;
  cleanups.push(() => emulator.stop());
  const ready = /vizier listening on (127\.0\.0\.1:\d+) tls ca=(\S+)/.exec(vizier.output());
  if (ready?.[1] === undefined || ready[2] === undefined) {
    throw new Error(`unexpected vizier output: ${vizier.output()}`);
  }

  const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host, emulatorMode: true });
  cleanups.push(() => pubsub.close());
  const topology = await provisionFindingsTopic(pubsub, 'bench');
  const topicName = topology.topic.name.split('/').pop() ?? '';
  const check = await pullSubscription(topology, 'bench-check');

  const env = {
    PUBSUB_EMULATOR_HOST: emulator.host,
    GOOGLE_CLOUD_PROJECT: PROJECT,
    FINDINGS_TOPIC: topicName,
    KG_CLUSTER_NAME: 'bench',
    KG_KERNEL_SOURCE: 'replay',
    PIXIE_API_KEY: API_KEY,
    PIXIE_CLUSTER_ID: CLUSTER_ID,
    PIXIE_CLOUD_ADDR: ready[1],
    PIXIE_CA_FILE: ready[2],
    FUNCTION_TIMEOUT_SECONDS: '300',
    ...(heapMib === undefined ? {} : { NODE_OPTIONS: `--max-old-space-size=${heapMib}` }),
  };
  const window = { start: new Date(end - windowMs), end: new Date(end) };
  const measured = mode === 'function' ? await functionCycles(env, window, vizier.child.pid ?? 0) : await coreCycles(env, window);
  const { first, times, published, idleRssKb, hwmKb } = measured;
  const sorted = [...times].sort((a, b) => a - b);

  // The emulator's word: pull every message back.
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`only ${received} of ${published} published findings came back from the emulator`));
    }, 120_000);
    check.on('message', (message: Message) => {
      message.ack();
      received += 1;
      if (received === published) {
        clearTimeout(timer);
        resolve();
      }
    });
    check.on('error', reject);
  });
  await check.close();

  console.log(
    JSON.stringify(
      {
        cluster: dataset === undefined ? { replay } : { pods, containers: dataset.containers, windows: WINDOWS, shapes: dataset.shapes },
        mode,
        heapMib: heapMib ?? 'default',
        perCycle: { findings: first.findings, published: first.published, containers: first.containers },
        firstRequestMs: Math.round(first.ms),
        runs,
        p50Ms: Math.round(percentile(sorted, 50)),
        p99Ms: Math.round(percentile(sorted, 99)),
        minMs: Math.round(sorted[0] ?? Number.NaN),
        maxMs: Math.round(sorted.at(-1) ?? Number.NaN),
        rssIdleMiB: Number(mib(idleRssKb)),
        rssPeakMiB: Number(mib(hwmKb)),
        functionCpuMsPerCycle: measured.functionCpuMs,
        vizierCpuMsPerCycle: measured.vizierCpuMs,
        emulatorReceived: received,
        machine: { node: process.version, cpus: cpus().length, loadavg: loadavg().map((l) => Number(l.toFixed(2))), freeGiB: Number((freemem() / 2 ** 30).toFixed(1)), totalGiB: Number((totalmem() / 2 ** 30).toFixed(1)) },
      },
      null,
      2,
    ),
  );
} finally {
  for (const cleanup of cleanups.reverse()) {
    await cleanup();
  }
}
