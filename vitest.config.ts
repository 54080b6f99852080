import { defineConfig } from 'vitest/config';

/**
 * Test tiers, each a vitest project:
 * - unit: pure code, no process boundary crossed, milliseconds each.
 * - integration: real local services (Pub/Sub emulator, local Vizier, kube-apiserver, built bundles).
 * - lab: real eBPF and real containers on this kernel; needs root, and fails (never skips) without it.
 * - e2e: the whole pipeline on the local stack.
 */
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    // No metadata server exists off Google Cloud; stop google-auth-library from probing for one.
    env: { METADATA_SERVER_DETECTION: 'none' },
    projects: [
      {
        extends: true,
        // Unit tests run beside the integration tier (npm test runs both at once); on a loaded 2-core
        // machine, parsing terraform/ with hcl2json's wasm took more than vitest's default 5 s.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['./test/support/build-once.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Real containers and probes share one kernel and two cores: run lab files one at a time
          // (`npm test` also runs this tier on its own, after the others, so timing-sensitive kernel
          // measurements do not compete with API servers and emulators for the CPU).
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['./test/support/build-once.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
