/**
 * Decode benchmark (issue 3): a stream of >= 1,000,000 rows (time_, upid UINT128, five int64
 * counters, a float64, two strings) served by the local Vizier, consumed side by side in one run by
 * the TypeScript client, Pixie's Python client and bare decodes (see pixie-decode-worker.ts). Each
 * consumer runs in its own process (peak RSS is its own), modes are interleaved per repetition,
 * and every run must receive exactly the expected row count.
 *
 * Usage: node test/bench/pixie-decode.ts [--rows 1000000] [--reps 3] [--batch-rows 1024]
 *          [--modes baseline,transport,protobufjs,ts,ts-values,ts-encrypted,python-baseline,python,python-encrypted]
 *          [--before DIR]
 * `--before DIR` (another checkout of the project, e.g. `git archive <commit>` with node_modules)
 * adds, for every ts* mode, a `<mode>@before` run of DIR's own worker and client against the same
 * server, interleaved with this tree's runs: a before/after comparison under the same load.
 * Needs dev/setup/20-pixie-clients.sh (pxapi venv under $KG_CACHE). The dataset is generated once
 * into $KG_CACHE/bench/.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateTable } from '../../dev/vizier/gen-dataset.ts';
import { startProcess } from '../support/process.ts';
import { cpuMs } from './proc-cpu.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    reps: { type: 'string', default: '3' },
    'batch-rows': { type: 'string', default: '1024' },
    modes: { type: 'string', default: 'baseline,transport,protobufjs,ts,ts-values,ts-encrypted,python-baseline,python,python-encrypted' },
    before: { type: 'string' },
  },
});
const rows = Number(values.rows);
const reps = Number(values.reps);
const before = values.before === undefined ? undefined : path.resolve(values.before);
const BEFORE = '@before';
const modes = values.modes.split(',').flatMap((mode) => (before !== undefined && mode.startsWith('ts') ? [`${mode}${BEFORE}`, mode] : [mode]));
if (before !== undefined && !existsSync(path.join(before, 'test/bench/pixie-decode-worker.ts'))) {
  throw new Error(`--before ${before}: no test/bench/pixie-decode-worker.ts there`);
}
const cache = process.env['KG_CACHE'] ?? path.join(process.env['HOME'] ?? '/root', '.cache', 'kernel-gossip');
const python = path.join(cache, 'pxapi-venv-0.9.0', 'bin', 'python');
if (modes.some((m) => m.startsWith('python')) && !existsSync(python)) {
  throw new Error(`Pixie's Python client is missing at ${python}: run bash dev/setup/20-pixie-clients.sh`);
}

const datasetDir = path.join(cache, 'bench', `pod_cpu-${rows}-seed1`);
if (!existsSync(path.join(datasetDir, 'pod_cpu.json'))) {
  console.log(`generating ${rows} rows into ${datasetDir} ...`);
  await generateTable(datasetDir, 'pod_cpu', rows, 1, 200);
}

const API_KEY = 'bench-api-key-0123456789';
const CLUSTER = '0b3e6a8c-1d2f-4a5b-9c8d-7e6f5a4b3c2d';
const scriptFile = path.join(mkdtempSync(path.join(tmpdir(), 'pixie-bench-')), 'bench.pxl');
// No start_time: the generated rows are dated from 2025-11-24 (gen-dataset.ts), and the local
// Vizier applies time windows in dataset mode as Pixie does (issue 14), so '-1h' would read nothing.
writeFileSync(scriptFile, `#px:set max_output_rows_per_table=${rows}\nimport px\ndf = px.DataFrame(table='pod_cpu')\npx.display(df, 'pod_cpu')\n`);

console.log('starting the local Vizier (loading the dataset) ...');
const server = await startProcess(
  process.execPath,
  ['dev/vizier/main.ts', '--dataset', datasetDir, '--api-key', API_KEY, '--cluster', CLUSTER, '--batch-rows', values['batch-rows']],
  { ready: /vizier listening on (\S+)/, timeoutMs: 300_000 },
);
const address = /vizier listening on (\S+)/.exec(server.output())?.[1] ?? '';
const serverPid = server.child.pid ?? 0;

interface Measurement {
  readonly mode: string;
  readonly rows: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly maxRssKiB: number;
  /** CPU the local Vizier spent serving this run (dataset mode: the PxL engine evaluates the script, then encodes). */
  readonly vizierCpuSeconds: number;
}

const measure = async (mode: string): Promise<Measurement> => {
  const [command, args] = mode.startsWith('python')
    ? [python, ['test/bench/pixie-decode.py', '--addr', address, '--cluster', CLUSTER, '--script', scriptFile, ...(mode === 'python-encrypted' ? ['--encrypt'] : []), ...(mode === 'python-baseline' ? ['--baseline'] : [])]]
    : [
        process.execPath,
        [
          mode.endsWith(BEFORE) ? path.join(before ?? '', 'test/bench/pixie-decode-worker.ts') : 'test/bench/pixie-decode-worker.ts',
          ...['--mode', mode.replace(BEFORE, ''), '--addr', address, '--cluster', CLUSTER, '--script', scriptFile],
        ],
      ];
  const vizierBefore = cpuMs(serverPid);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(command, args, { env: { ...process.env, PX_BENCH_API_KEY: API_KEY }, maxBuffer: 1024 * 1024, timeout: 900_000 }, (error, out, err) => {
      if (error !== null) {
        reject(new Error(`${mode} failed: ${error.message}\n${err}`));
      } else {
        resolve(out);
      }
    });
  });
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Measurement;
  // Transport decodes nothing, so it cannot count rows; baselines make no call; every other mode
  // must receive them all.
  if (!['transport', 'baseline', 'python-baseline'].includes(mode) && result.rows !== rows) {
    throw new Error(`${mode} received ${result.rows} rows, expected ${rows}`);
  }
  return { ...result, mode, vizierCpuSeconds: (cpuMs(serverPid) - vizierBefore) / 1000 };
};

try {
  console.log('warm-up (the server encodes and caches its batches once) ...');
  await measure('transport');
  const results = new Map<string, Measurement[]>();
  for (let rep = 1; rep <= reps; rep++) {
    for (const mode of modes) {
      const m = await measure(mode);
      results.set(mode, [...(results.get(mode) ?? []), m]);
      console.log(`rep ${rep} ${mode}: ${(rows / m.seconds).toFixed(0)} rows/s, ${m.seconds.toFixed(2)} s, cpu ${m.cpuSeconds.toFixed(2)} s, vizier cpu ${m.vizierCpuSeconds.toFixed(2)} s, peak RSS ${(m.maxRssKiB / 1024).toFixed(0)} MiB`);
    }
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? Number.NaN;
  };
  const rate = (mode: string): number => median((results.get(mode) ?? []).map((m) => rows / m.seconds));
  const cpuRate = (mode: string): number => median((results.get(mode) ?? []).map((m) => rows / m.cpuSeconds));
  const shown = (mode: string, value: number): string => (mode.includes('baseline') ? '-' : value.toFixed(0));
  console.log(`\n${rows} rows, batch ${values['batch-rows']} rows, ${reps} reps (median), ${cpus().length} CPUs, node ${process.version}\n`);
  console.log('| consumer | rows/s wall (median) | wall s (median) | rows per CPU-second (median) | CPU s (median) | peak RSS MiB (max) | local Vizier CPU s (median) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const mode of modes) {
    const ms = results.get(mode) ?? [];
    const seconds = median(ms.map((m) => m.seconds));
    const cpu = median(ms.map((m) => m.cpuSeconds));
    const rss = Math.max(...ms.map((m) => m.maxRssKiB)) / 1024;
    const vizierCpu = median(ms.map((m) => m.vizierCpuSeconds));
    console.log(`| ${mode} | ${shown(mode, rate(mode))} | ${seconds.toFixed(2)} | ${shown(mode, cpuRate(mode))} | ${cpu.toFixed(2)} | ${rss.toFixed(0)} | ${vizierCpu.toFixed(2)} |`);
  }
  const ratio = (a: string, b: string): string =>
    results.has(a) && results.has(b) ? `${(rate(a) / rate(b)).toFixed(2)}x wall, ${(cpuRate(a) / cpuRate(b)).toFixed(2)}x per CPU-second` : 'n/a';
  console.log(`\nts / python: ${ratio('ts', 'python')}`);
  console.log(`ts-values / python: ${ratio('ts-values', 'python')}`);
  console.log(`ts-encrypted / python-encrypted: ${ratio('ts-encrypted', 'python-encrypted')}`);
  console.log(`ts / protobufjs (bare decode): ${ratio('ts', 'protobufjs')}`);
  console.log(`ts / transport (no decode): ${ratio('ts', 'transport')}`);
  for (const mode of modes.filter((m) => m.endsWith(BEFORE))) {
    console.log(`${mode.replace(BEFORE, '')} after / before: ${ratio(mode.replace(BEFORE, ''), mode)}`);
  }
} finally {
  await server.stop();
}
