/**
 * What every observe core receives and reports.
 *
 * @module
 */
import type { ContainerCounters, ThrottleConfig } from '../analysis/index.ts';
import type { FindingPublisher, PublishReport } from '../findings/publisher.ts';
import type { KernelSource, ProbeCoverage } from '../findings/types.ts';
import type { Logger } from '../log.ts';
import type { PixieClient } from '../pixie/client.ts';
import type { PxlScript } from '../pxl/scripts.ts';
import type { ObserveWindow } from './window.ts';

export interface ObserveDeps {
  readonly pixie: PixieClient;
  readonly script: PxlScript;
  readonly publisher: FindingPublisher;
  readonly log: Logger;
  readonly cluster: string;
  readonly source: KernelSource;
  /** Namespaces to keep; empty for all. */
  readonly namespaces: readonly string[];
  /** Row cap per result table; Pixie's default (10,000) when absent. */
  readonly maxRows?: number;
  /** Analysis thresholds (throttle only); the documented defaults when absent. */
  readonly config?: ThrottleConfig;
  readonly now?: () => Date;
}

export interface ObserveReport {
  readonly windows: number;
  readonly containers: number;
  readonly findings: number;
  readonly publish: PublishReport;
  /** The counters of every container of the latest window (throttle only), for reports of all containers seen. */
  readonly latest?: readonly ContainerCounters[];
  /** Which nodes the run's kernel data covers. */
  readonly coverage: ProbeCoverage;
}

/** One scheduled run of one script. */
export type ObserveCore = (window: ObserveWindow, deps: ObserveDeps, options: { readonly deadline: Date; readonly signal?: AbortSignal }) => Promise<ObserveReport>;

/** A single namespace is filtered in the script; several are filtered after the query. */
export const scriptNamespaceFilter = (namespaces: readonly string[]): string => (namespaces.length === 1 ? (namespaces[0] ?? '') : '');
