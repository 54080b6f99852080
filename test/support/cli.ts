/** The CLI as tests run it: the source entry and the bundle that ships as the package's bin. */
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export const CLI_ENTRIES = [
  ['source', path.join(root, 'cli/main.ts')],
  ['bundle', path.join(root, 'dist/cli/kernel-gossip.js')],
] as const;
