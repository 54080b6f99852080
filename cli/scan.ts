/**
 * `kernel-gossip scan`: runs the observe path once (the same cores the functions run) and prints
 * the findings instead of publishing them: readable and coloured, or `--json` one finding per line
 * exactly as it would be published. Kernel data from Pixie (`--pixie`), from a live local Vizier on
 * this host (`--local`: root, bpftrace), or from recorded kernel data (`--replay <dir>`).
 *
 * `--local` lists every CPU-limited container of the node (both cgroup layouts; containerd, CRI-O
 * and Docker naming), named from the API server of `--kubeconfig` or the kubelet's read-only pod
 * list (`--kubelet-url`, default port 10255), else by cgroup path and container id. Its probes
 * start with the scan, so it deploys them first and waits until they have covered the window (with
 * a progress line); interrupted, it reports the shorter window the probes covered and says so.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, parseConfig } from '../shared/config.ts';
import { encodeFinding } from '../shared/findings/codec.ts';
import type { FindingPublisher } from '../shared/findings/publisher.ts';
import type { Finding, KernelSource } from '../shared/findings/types.ts';
import { createLogger } from '../shared/log.ts';
import { observeBirths } from '../shared/observe/observe-births.ts';
import { observeThrottle } from '../shared/observe/observe-throttle.ts';
import type { ObserveWindow } from '../shared/observe/window.ts';
import { createPixieClient, type PixieClient } from '../shared/pixie/client.ts';
import { pixieClientOptions, pixieConfigSpec } from '../shared/pixie/config.ts';
import { ClusterUnavailableError, MutationFailedError, PixieAuthError } from '../shared/pixie/errors.ts';
import { embeddedScriptReader } from '../shared/pxl/embedded.ts';
import { type BirthScriptName, loadScript } from '../shared/pxl/scripts.ts';
import { startProcess, type StartedProcess } from '../dev/process.ts';
import { windowOf, writeReport } from './report/index.ts';
import { COLOR, formatFinding, PLAIN } from './format.ts';
import { type Inventory, inventoryLines } from './inventory.ts';
import { deployProbes, localInventory, waitForCoverage } from './scan-local.ts';

export type ScanSource = { readonly kind: 'pixie' } | { readonly kind: 'local' } | { readonly kind: 'replay'; readonly dir: string };

export interface ScanOptions {
  readonly source: ScanSource;
  readonly windowSeconds: number;
  readonly namespaces: readonly string[];
  readonly json: boolean;
  readonly color: boolean;
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cluster: string;
  readonly now?: Date;
  /** Also write a self-contained HTML report of the findings here. */
  readonly report?: string;
  /** The birth probe to deploy (the functions' KG_BIRTH_PROBE). */
  readonly birthProbe: BirthScriptName;
  /** `--local`: name pods from this API server (else the kubelet's read-only pod list). */
  readonly kubeconfig?: string;
  /** `--local`: this node's registered name (default: the hostname). */
  readonly node?: string;
  /** `--local` without a kubeconfig: the kubelet's read-only endpoint (default port 10255 on this host). */
  readonly kubeletUrl?: string;
  /** `--local`: stops the wait for the window early (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** A scan that cannot run, with what to do about it. */
export class ScanError extends Error {
  override readonly name = 'ScanError';
}

const LOCAL_API_KEY = 'px-api-local-scan-key-0000';
const LOCAL_CLUSTER = '6c1a2f3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b';
/**
 * The local Vizier's entry, found from the source tree or from the bundle in dist/cli/ (the local
 * modes run the repository's dev/vizier as their own process).
 */
const vizierMain = (): string => {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'dev', 'vizier', 'main.ts');
    if (existsSync(candidate)) {
      return candidate;
    }
    if (path.dirname(dir) === dir) {
      throw new ScanError('--local and --replay run dev/vizier from a kernel-gossip checkout, and none was found above this command');
    }
  }
};

/** A publisher that prints each finding as it is "published" and keeps them for a report. */
export const printingPublisher = (options: Pick<ScanOptions, 'json' | 'color' | 'out'>, kept: Finding[]): FindingPublisher => ({
  publish: (findings) => {
    for (const finding of findings) {
      kept.push(finding);
      options.out.write(options.json ? `${encodeFinding(finding).toString('utf8')}\n` : `${formatFinding(finding, options.color ? COLOR : PLAIN)}\n`);
    }
    return Promise.resolve({ published: findings.map((f, i) => ({ findingId: f.id, messageId: `stdout-${kept.length - findings.length + i}` })), failed: [] });
  },
  close: () => Promise.resolve(),
});

interface Connected {
  readonly pixie: PixieClient;
  readonly source: KernelSource;
  readonly stop: () => Promise<void>;
}

const connect = async (options: ScanOptions): Promise<Connected> => {
  if (options.source.kind === 'pixie') {
    let config;
    try {
      config = parseConfig(pixieConfigSpec, options.env);
    } catch (error) {
      if (error instanceof ConfigError) {
        throw new ScanError(`--pixie needs PIXIE_API_KEY and PIXIE_CLUSTER_ID (and optionally PIXIE_CLOUD_ADDR): ${error.message}`);
      }
      throw error;
    }
    const pixie = createPixieClient(pixieClientOptions(config));
    return {
      pixie,
      source: 'pixie',
      stop: () => {
        pixie.close();
        return Promise.resolve();
      },
    };
  }
  // The Vizier names the probe's rows (and so the findings' workloads) from the same sources as the inventory.
  const naming = [
    ...(options.kubeconfig === undefined ? [] : ['--kubeconfig', options.kubeconfig]),
    ...(options.node === undefined ? [] : ['--node', options.node]),
    ...(options.kubeletUrl === undefined ? [] : ['--kubelet-url', options.kubeletUrl]),
  ];
  const args = options.source.kind === 'local' ? ['--live', ...naming] : ['--replay', options.source.dir];
  options.err.write(`starting a local Vizier (${options.source.kind === 'local' ? 'live eBPF on this host' : `replay of ${options.source.dir}`})...\n`);
  let vizier: StartedProcess;
  try {
    // Its own process group: Ctrl-C ends the wait for the window, not the Vizier the scan still reads.
    vizier = await startProcess(process.execPath, [vizierMain(), ...args, '--port', '0', '--api-key', LOCAL_API_KEY, '--cluster', LOCAL_CLUSTER, '--exit-with-stdin'], {
      ready: /vizier listening on (\S+)/,
      timeoutMs: 60_000,
      ownGroup: true,
    });
  } catch (error) {
    throw new ScanError(`the local Vizier did not start: ${error instanceof Error ? error.message.split('\n').slice(0, 6).join('\n') : String(error)}`);
  }
  const address = /vizier listening on (\S+)/.exec(vizier.output())?.[1] ?? '';
  const pixie = createPixieClient({ clusterId: LOCAL_CLUSTER, apiKey: LOCAL_API_KEY, address, security: { kind: 'plaintext' } });
  return {
    pixie,
    source: options.source.kind === 'local' ? 'local' : 'replay',
    stop: async () => {
      pixie.close();
      await vizier.stop();
    },
  };
};

/**
 * The end of recorded kernel data: a replay's "now". Recordings keep the probe's monotonic window
 * and the offset to wall time (see dev/lab/scenarios.ts).
 */
export const replayEnd = async (location: string): Promise<Date> => {
  const files = (await stat(location)).isDirectory()
    ? (await readdir(location)).filter((name) => name.endsWith('.json')).map((name) => path.join(location, name))
    : [location];
  let endNs = 0n;
  for (const file of files) {
    const recording = JSON.parse(await readFile(file, 'utf8')) as { clockOffsetNs?: string; windowMonoNs?: { end?: string } };
    if (recording.clockOffsetNs !== undefined && recording.windowMonoNs?.end !== undefined) {
      const end = BigInt(recording.clockOffsetNs) + BigInt(recording.windowMonoNs.end);
      endNs = end > endNs ? end : endNs;
    }
  }
  if (endNs === 0n) {
    throw new ScanError(`${location} holds no kernel lab recording (files written by dev/lab/record.ts)`);
  }
  // Round up to the next second so the window holds the last rows.
  return new Date(Math.ceil(Number(endNs / 1_000_000n) / 1000) * 1000);
};

/** Runs one scan; resolves with the findings printed. */
export const scan = async (options: ScanOptions): Promise<Finding[]> => {
  const local = options.source.kind === 'local';
  const naming = {
    node: options.node ?? hostname(),
    ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }),
    ...(options.kubeletUrl === undefined ? {} : { kubeletUrl: options.kubeletUrl }),
  };
  let inventory: Inventory | undefined;
  if (local) {
    if ((process.getuid?.() ?? 1) !== 0) {
      throw new ScanError('--local runs the probes with this host\'s bpftrace and needs root (try sudo), or use --replay <dir>');
    }
    inventory = await localInventory(naming);
    const limited = inventory.containers.filter((c) => c.limit !== undefined).length;
    options.err.write(`this node: ${inventory.containers.length} containers, ${limited} CPU-limited\n`);
  }
  const connected = await connect(options);
  const kept: Finding[] = [];
  // Logs go to stderr as one JSON line each, like the functions; findings go to stdout.
  const log = createLogger({ minLevel: 'WARNING', write: (line) => options.err.write(line), labels: { command: 'scan' } });
  const publisher = printingPublisher(options, kept);
  const deps = { pixie: connected.pixie, publisher, log, cluster: options.cluster, source: connected.source, namespaces: options.namespaces };
  const deadline = new Date(Date.now() + 5 * 60_000 + (local ? options.windowSeconds * 1000 : 0));
  try {
    const birthScript = await loadScript(options.birthProbe, embeddedScriptReader);
    const throttleScript = await loadScript('cpu_throttle', embeddedScriptReader);
    let window: ObserveWindow;
    if (local) {
      // The probes see only what happens after they attach: deploy, then wait out the window.
      options.err.write('deploying probes...\n');
      await deployProbes(connected.pixie, [birthScript, throttleScript], deadline);
      const since = new Date();
      const coverage = await waitForCoverage(since, options.windowSeconds, {
        progress: (line) => options.err.write(`${line}\n`),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      if (coverage.seconds < 1) {
        throw new ScanError('interrupted before the probes covered a whole second: nothing to report');
      }
      if (coverage.interrupted) {
        options.err.write(`interrupted: reporting the ${coverage.seconds} s the probes covered, not the ${options.windowSeconds} s asked\n`);
      }
      window = { start: new Date(coverage.end.getTime() - coverage.seconds * 1000), end: coverage.end };
    } else {
      const now = options.now ?? (options.source.kind === 'replay' ? await replayEnd(options.source.dir) : new Date());
      window = { start: new Date(now.getTime() - options.windowSeconds * 1000), end: now };
    }
    options.err.write('reading pod births...\n');
    await observeBirths(window, { ...deps, script: birthScript }, { deadline });
    options.err.write(local ? 'reading CFS throttling over the window...\n' : 'deploying probes and reading CFS throttling over the last 3 windows...\n');
    const report = await observeThrottle(window, { ...deps, script: throttleScript }, { deadline });
    options.err.write(`done: ${kept.length} findings (${report.containers} CPU-limited containers seen in the latest window)\n`);
    if (inventory !== undefined) {
      // Containers that appeared during the window count too; ones that went keep their first sighting.
      const after = await localInventory(naming);
      const seen = new Set(after.containers.map((c) => c.cgroupPath));
      const merged = { ...after, containers: [...after.containers, ...inventory.containers.filter((c) => !seen.has(c.cgroupPath))] };
      const seconds = Math.round((window.end.getTime() - window.start.getTime()) / 1000);
      const text = `${inventoryLines(merged, report.latest ?? [], seconds).join('\n')}\n`;
      // stdout holds only findings with --json.
      (options.json ? options.err : options.out).write(text);
    }
    if (options.report !== undefined) {
      const written = await writeReport(options.report, kept, { cluster: options.cluster, source: connected.source, window: windowOf(window.start, window.end), producedAt: new Date().toISOString() });
      options.err.write(`report: ${written.file} (${written.bytes} bytes)\n`);
    }
    return kept;
  } catch (error) {
    if (error instanceof PixieAuthError) {
      throw new ScanError('Pixie rejected the API key (check PIXIE_API_KEY)');
    }
    if (error instanceof ClusterUnavailableError) {
      throw new ScanError(`the Pixie cluster is not healthy or not known: ${error.message}`);
    }
    if (error instanceof MutationFailedError) {
      throw new ScanError(`a probe failed to deploy (${error.tracepoints.join(', ')}): ${error.message}`);
    }
    throw error;
  } finally {
    await connected.stop();
  }
};
