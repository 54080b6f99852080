import packageJson from '../package.json' with { type: 'json' };

/** The kernel-gossip release this code belongs to; bundled in at build time. */
export const VERSION: string = packageJson.version;
