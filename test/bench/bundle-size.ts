/**
 * Benchmark: what each function bundle weighs and what it is made of.
 *
 *   node test/bench/bundle-size.ts [--top 12] [--json]
 *
 * For every function it builds the bundle again in memory with the options of dev/build/bundle.ts
 * (its metafile), checks the result has the size of `dist/functions/<name>/index.js` (run
 * `npm run build` first; a stale dist fails the run), and
 * prints: the bundle size, the source it inlines (files and bytes as read, i.e. what the
 * unbundled function loads from node_modules and the repo), and the packages that take the most
 * room in the output (esbuild's bytesInOutput, after minification and tree shaking).
 *
 * @module
 */
import { build } from 'esbuild';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { functionBuildOptions, functionNames } from '../../dev/build/bundle.ts';

const root = path.resolve(import.meta.dirname, '../..');

const { values } = parseArgs({ options: { top: { type: 'string', default: '12' }, json: { type: 'boolean', default: false } }, strict: true });
const top = Number(values.top);

/** `node_modules/@scope/pkg/...` or `node_modules/pkg/...` -> the innermost package name; repo files by top folder. */
const owner = (input: string): string => {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input);
  if (match?.[1] !== undefined) {
    return match[1];
  }
  const [top, ...rest] = input.split('/');
  return rest.length === 0 ? `(repo) ${input}` : `(repo) ${top ?? ''}/`;
};

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

const report = [];
for (const name of await functionNames()) {
  const result = await build({ ...functionBuildOptions(name, path.join(root, 'dist', 'functions', name, 'index.js')), write: false });
  const output = Object.values(result.metafile.outputs)[0];
  if (output === undefined) {
    throw new Error(`no output for ${name}`);
  }
  const built = (await stat(path.join(root, 'dist', 'functions', name, 'index.js'))).size;
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    byPackage.set(owner(input), (byPackage.get(owner(input)) ?? 0) + bytesInOutput);
  }
  const inputs = Object.values(result.metafile.inputs);
  report.push({
    name,
    bundleBytes: built,
    inMemoryBytes: output.bytes,
    sourceFiles: inputs.length,
    sourceBytes: inputs.reduce((sum, i) => sum + i.bytes, 0),
    packages: [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, top),
  });
}

// Same options as dev/build/bundle.ts: the in-memory build must be the file in dist/.
for (const r of report) {
  if (r.bundleBytes !== r.inMemoryBytes) {
    throw new Error(`${r.name}: dist is ${r.bundleBytes} bytes, this build ${r.inMemoryBytes}: run npm run build, or the options here drifted from dev/build/bundle.ts`);
  }
}

if (values.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log('| function | bundle (index.js) | source it inlines (files, bytes read) | largest parts in the bundle |');
  console.log('| --- | ---: | ---: | --- |');
  for (const r of report) {
    const parts = r.packages.map(([pkg, bytes]) => `${pkg} ${(bytes / 1024).toFixed(0)} KiB`).join(', ');
    console.log(`| ${r.name} | ${mib(r.bundleBytes)} | ${r.sourceFiles} files, ${mib(r.sourceBytes)} | ${parts} |`);
  }
}
