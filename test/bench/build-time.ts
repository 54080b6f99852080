/**
 * Benchmark: how long `dist/` takes to build, now and with the build script of a reference commit,
 * side by side in one run (alternating, so load drifts hit both alike).
 *
 *   node test/bench/build-time.ts [--ref dfb9eea] [--reps 3]
 *
 * Three cases per repetition: the reference commit's dev/build/bundle.ts (copied beside the current
 * one, so it builds this tree's sources into the same `dist/`), the current script (a full build),
 * and the current script with `--if-changed` right after a build (nothing changed: the check alone).
 * Every case is a fresh `node` process, as `npm run build`, the demo and the test set-up start it.
 * The current script's full builds must give the same bytes every time, or the run fails; the
 * reference's outputs may differ (a later script may trim the bundles), so their sizes are printed.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { functionNames } from '../../dev/build/bundle.ts';

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

const { values } = parseArgs({ options: { ref: { type: 'string', default: 'dfb9eea' }, reps: { type: 'string', default: '3' } }, strict: true });
const reps = Number(values.reps);
if (!/^[0-9a-f]{7,40}$/.test(values.ref) || !Number.isInteger(reps) || reps < 1) {
  throw new Error('usage: node test/bench/build-time.ts [--ref <commit id>] [--reps N]');
}

const OUTPUTS = (await functionNames()).map((name) => `dist/functions/${name}/index.js`).concat('dist/cli/kernel-gossip.js');

const outputs = async (): Promise<{ hash: string; bytes: number }> => {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const file of OUTPUTS) {
    const content = await readFile(path.join(root, file));
    hash.update(content);
    bytes += content.length;
  }
  return { hash: hash.digest('hex'), bytes };
};

const timed = async (args: readonly string[]): Promise<number> => {
  const started = performance.now();
  await run(process.execPath, [...args], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  return (performance.now() - started) / 1000;
};

const referenceScript = path.join(root, 'dev', 'build', `.bundle-${values.ref}.ts`);
const { stdout: referenceSource } = await run('git', ['show', `${values.ref}:dev/build/bundle.ts`], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
await writeFile(referenceScript, referenceSource);

const times = { reference: [] as number[], current: [] as number[], unchanged: [] as number[] };
const sizes = { reference: 0, current: 0 };
try {
  let expected: string | undefined;
  for (let rep = 0; rep < reps; rep++) {
    times.reference.push(await timed([referenceScript]));
    sizes.reference = (await outputs()).bytes;
    times.current.push(await timed([path.join(root, 'dev', 'build', 'bundle.ts')]));
    const current = await outputs();
    if (expected !== undefined && expected !== current.hash) {
      throw new Error('two full builds of the current build script gave different bundles');
    }
    expected = current.hash;
    sizes.current = current.bytes;
    times.unchanged.push(await timed([path.join(root, 'dev', 'build', 'bundle.ts'), '--if-changed']));
  }
} finally {
  await rm(referenceScript, { force: true });
}

const median = (list: readonly number[]): number => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const row = (name: string, list: readonly number[]): string => `| ${name} | ${median(list).toFixed(1)} s | ${list.map((t) => t.toFixed(1)).join(', ')} |`;
console.log(`build time of dist/ (${reps} reps, load average at the end ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')})`);
console.log('| build | median | each run |');
console.log('|---|---:|---|');
console.log(row(`bundle.ts of ${values.ref} (full build, ${sizes.reference.toLocaleString('en')} bytes of bundles)`, times.reference));
console.log(row(`bundle.ts now (full build, ${sizes.current.toLocaleString('en')} bytes of bundles)`, times.current));
console.log(row('bundle.ts now, --if-changed, nothing changed', times.unchanged));
