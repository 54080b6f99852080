/**
 * Global setup of the integration and e2e tiers: builds the function bundles and the CLI once, so
 * tests exercise exactly what is deployed (`dist/`), whatever ran before; and compiles the shipped
 * bpftrace programs once with `bpftrace -d` (cached on disk), so each local Vizier's deployment
 * check of their printf layouts answers at once instead of racing the tests' deadlines.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { compileProgram } from '../../dev/lab/bpftrace-dry-run.ts';
import { loadRepoScript } from '../../dev/lab/scripts.ts';
import { SCRIPT_NAMES } from '../../shared/pxl/scripts.ts';

export default async function buildOnce(): Promise<void> {
  const root = path.resolve(import.meta.dirname, '../..');
  await promisify(execFile)(process.execPath, [path.join(root, 'dev', 'build', 'bundle.ts'), '--if-changed'], { cwd: root });
  for (const name of SCRIPT_NAMES) {
    await compileProgram((await loadRepoScript(name)).program);
  }
}
