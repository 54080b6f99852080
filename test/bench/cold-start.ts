/**
 * Benchmark: cold start of every function, bundled vs unbundled.
 *
 *   node test/bench/cold-start.ts [--runs 7] [--no-build] [--baseline <dir>]
 *
 * Cold start = from spawning the host process to the first HTTP response of the function (the
 * functions-framework host prints "Serving function" once it listens; one GET is sent then; the
 * time ends when its response arrives). Each run is a new process on a new port, the two variants
 * alternate, and the table gives the median (and min/max) per function and variant. Next to the
 * wall time, the process's own CPU time (user + system) at the moment of the response: on a shared
 * machine the wall time mostly measures the other jobs, the CPU time much less so.
 *
 * - bundled: the host with `--source dist/functions/<name>` (the built bundle; `npm run build`
 *   first unless --no-build), as Cloud Run starts it.
 * - unbundled: the same host with `--source` a throwaway folder holding only a package.json and an
 *   index.js that imports `functions/<name>/index.ts`; Node 22 strips the types itself and every
 *   dependency is resolved from node_modules file by file. (Compiling with esbuild without bundling
 *   would save the type stripping, which is small next to resolving and reading the hundreds of
 *   node_modules files: see bundle-size.ts for the counts.)
 *
 * - baseline (with `--baseline <dir>`): the bundles of another build (`<dir>/<name>/index.js`, e.g.
 *   `dist/functions` of a clean copy of main), run the same way and interleaved with the other two
 *   in every round, so that a before/after comparison sees the same machine load.
 *
 * The GET is answered without touching Pixie, Pub/Sub or Kubernetes (health answers it; the others
 * parse their config on the first request and answer 4xx/5xx for a GET, without any network call),
 * so the time is the host's and the module graph's. The environment is a valid one for each function
 * so their configuration parses; the status of the first response is printed.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { functionNames } from '../../dev/build/bundle.ts';
import { freePort, startProcess } from '../support/process.ts';
import { cpuMs } from './proc-cpu.ts';

const root = path.resolve(import.meta.dirname, '../..');
const host = path.join(root, 'node_modules', '.bin', 'functions-framework');

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, 'no-build': { type: 'boolean', default: false }, baseline: { type: 'string' } },
  strict: true,
});
const baselineDir = values.baseline === undefined ? undefined : path.resolve(values.baseline);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  throw new Error('--runs must be a positive integer');
}

/** Enough environment for every function's config to parse; nothing here is ever contacted. */
const ENV: NodeJS.ProcessEnv = {
  METADATA_SERVER_DETECTION: 'none',
  GOOGLE_CLOUD_PROJECT: 'kernel-gossip-bench',
  PUBSUB_EMULATOR_HOST: '127.0.0.1:9',
  FINDINGS_TOPIC: 'kernel-findings',
  KG_CLUSTER_NAME: 'bench',
  PIXIE_API_KEY: 'px-api-local-vizier-key',
  PIXIE_CLUSTER_ID: '6c1a2f3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b',
  PIXIE_CLOUD_ADDR: '127.0.0.1:9',
  PIXIE_INSECURE: 'true',
  LOG_LEVEL: 'ERROR',
};

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** A folder the host can load that imports the function's TypeScript entry from the repo. */
const unbundledSource = (name: string): string => {
  const dir = mkdtempSync(path.join(tmpdir(), `kg-unbundled-${name}-`));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', main: 'index.js' }));
  writeFileSync(path.join(dir, 'index.js'), `import ${JSON.stringify(pathToFileURL(path.join(root, 'functions', name, 'index.ts')).href)};\n`);
  return dir;
};

/** The floor on this machine: bare Node with an HTTP server, no host, no function. */
const BARE = "const s = require('node:http').createServer((q, r) => r.end('ok')); s.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('Serving function'));";

const coldStart = async (name: string, source: string | null): Promise<{ ms: number; readyMs: number; cpu: number; status: number }> => {
  const port = await freePort();
  const t0 = performance.now();
  const args = source === null ? ['-e', BARE, String(port)] : [host, '--source', source, '--target', name, '--port', String(port)];
  const child = await startProcess(process.execPath, args, {
    cwd: source ?? root,
    env: { ...process.env, ...ENV },
    ready: /Serving function/,
  });
  const readyMs = performance.now() - t0;
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    await response.arrayBuffer();
    const ms = performance.now() - t0;
    return { ms, readyMs, cpu: child.child.pid === undefined ? Number.NaN : cpuMs(child.child.pid), status: response.status };
  } finally {
    await child.stop();
  }
};

if (!values['no-build']) {
  execFileSync(process.execPath, [path.join(root, 'dev/build/bundle.ts')], { cwd: root, stdio: 'inherit' });
}
type Variant = 'bundled' | 'unbundled' | 'baseline';
interface Row {
  readonly name: string;
  readonly times: Record<Variant, number[]>;
  readonly cpu: Record<Variant, number[]>;
  readonly ready: Record<Variant, number[]>;
  readonly statuses: string[];
}
const rows: Row[] = [];
const bare = { ms: [] as number[], cpu: [] as number[] };
for (let i = 0; i < runs; i += 1) {
  const { ms, cpu } = await coldStart('bare', null);
  bare.ms.push(ms);
  bare.cpu.push(cpu);
}
for (const name of await functionNames()) {
  const bundled = path.join(root, 'dist', 'functions', name);
  const unbundled = unbundledSource(name);
  try {
    const times = { bundled: [] as number[], unbundled: [] as number[], baseline: [] as number[] };
    const cpu = { bundled: [] as number[], unbundled: [] as number[], baseline: [] as number[] };
    const ready = { bundled: [] as number[], unbundled: [] as number[], baseline: [] as number[] };
    const statuses = new Set<string>();
    const sources = { bundled, unbundled, baseline: baselineDir === undefined ? '' : path.join(baselineDir, name) };
    const variants: readonly Variant[] = baselineDir === undefined ? ['bundled', 'unbundled'] : ['baseline', 'bundled', 'unbundled'];
    for (let i = 0; i < runs; i += 1) {
      for (const variant of i % 2 === 0 ? variants : [...variants].reverse()) {
        const result = await coldStart(name, sources[variant]);
        times[variant].push(result.ms);
        cpu[variant].push(result.cpu);
        ready[variant].push(result.readyMs);
        const { status } = result;
        statuses.add(`${variant} ${status}`);
      }
    }
    rows.push({ name, times, cpu, ready, statuses: [...statuses].sort() });
  } finally {
    rmSync(unbundled, { recursive: true, force: true });
  }
}

const fmt = (xs: readonly number[]): string => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
console.log(`${runs} runs each, ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('| function | bundled: to first response, ms median (min-max) | of which listening | CPU ms | unbundled: to first response, ms median (min-max) | of which listening | CPU ms | first response |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
console.log(`| (floor: bare node + http server) | ${fmt(bare.ms)} | | ${median(bare.cpu).toFixed(0)} | | | | |`);
const cols = (row: Row, v: Variant): string => `${fmt(row.times[v])} | ${median(row.ready[v]).toFixed(0)} | ${median(row.cpu[v]).toFixed(0)}`;
for (const row of rows) {
  console.log(`| ${row.name} | ${cols(row, 'bundled')} | ${cols(row, 'unbundled')} | ${row.statuses.join(', ')} |`);
}
if (baselineDir !== undefined) {
  console.log(`\nBaseline ${baselineDir}, interleaved with the runs above:`);
  console.log('| function | baseline bundle: to first response, ms median (min-max) | of which listening | CPU ms | this build, bundled: to first response | of which listening | CPU ms |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    console.log(`| ${row.name} | ${cols(row, 'baseline')} | ${cols(row, 'bundled')} |`);
  }
}
