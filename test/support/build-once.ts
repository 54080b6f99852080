/**
 * Global setup of the integration and e2e tiers: builds the function bundles and the CLI once, so
 * tests exercise exactly what is deployed (`dist/`), whatever ran before.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export default async function buildOnce(): Promise<void> {
  const root = path.resolve(import.meta.dirname, '../..');
  await promisify(execFile)(process.execPath, [path.join(root, 'dev', 'build', 'bundle.ts')], { cwd: root });
}
