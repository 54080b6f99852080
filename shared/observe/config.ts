/**
 * Environment of the observe functions.
 *
 * @module
 */
import { type ConfigOf, integer, list, oneOf, string } from '../config.ts';
import { SOURCES } from '../findings/types.ts';
import { pixieConfigSpec } from '../pixie/config.ts';
import { BIRTH_SCRIPT_NAMES } from '../pxl/scripts.ts';
import { runtimeSpec } from '../runtime.ts';

export const observeSpec = {
  ...runtimeSpec,
  ...pixieConfigSpec,
  /** Topic the findings go to (name or full resource name). */
  FINDINGS_TOPIC: string(),
  /** Cluster name in findings. */
  KG_CLUSTER_NAME: string(),
  /** Namespaces to observe (comma-separated); empty means all. */
  KG_NAMESPACES: list({ default: [] }),
  /** The schedule's interval: the window a run covers when the request names none. */
  OBSERVE_WINDOW_SECONDS: integer({ min: 10, max: 3600, default: 60 }),
  /** Pixie's row cap per result table (`#px:set max_output_rows_per_table`); a table that reaches it fails the run. */
  OBSERVE_MAX_ROWS: integer({ min: 1, max: 1_000_000, default: 10_000 }),
  /** What the kernel data is: `pixie` in production; `local` or `replay` for a local Vizier. */
  KG_KERNEL_SOURCE: oneOf(SOURCES, { default: 'pixie' }),
} as const;

export type ObserveConfig = ConfigOf<typeof observeSpec>;

/** What observe-births alone reads besides {@link observeSpec}. */
export const birthProbeSpec = {
  /**
   * The birth probe to deploy: `pod_birth_lite` (always-on: no program on every write or syscall
   * of the node) or `pod_birth` (adds cgroup limit writes and the runtime's syscall count, at a
   * cost on every syscall of the node; docs/benchmarks.md).
   */
  KG_BIRTH_PROBE: oneOf(BIRTH_SCRIPT_NAMES, { default: 'pod_birth_lite' }),
} as const;
