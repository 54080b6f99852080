/**
 * Running a project script over consecutive windows through the Pixie client: one ExecuteScript
 * request whose exec_funcs call the script's entry function once per window, each into its own
 * table. Every table must arrive complete and untruncated; anything less is an error, never a
 * partial result.
 *
 * @module
 */
import type { CollectedTable } from '../pixie/collect.ts';
import type { PixieClient } from '../pixie/client.ts';
import type { PxlScript } from '../pxl/scripts.ts';
import type { ProbeCoverage } from '../findings/types.ts';
import { COVERAGE_FUNCTIONS, probeCoverage } from './coverage.ts';
import type { ObserveWindow } from './window.ts';

/** Pixie's answer cannot be trusted as complete data (truncated, missing or unfinished tables). */
export class IncompleteDataError extends Error {
  override readonly name = 'IncompleteDataError';
}

export interface WindowTable {
  readonly window: ObserveWindow;
  readonly table: CollectedTable;
}

/** `count` windows of equal length ending with `window`, oldest first. */
export const precedingWindows = (window: ObserveWindow, count: number): ObserveWindow[] => {
  const length = window.end.getTime() - window.start.getTime();
  return Array.from({ length: count }, (_, i) => {
    const end = window.end.getTime() - (count - 1 - i) * length;
    return { start: new Date(end - length), end: new Date(end) };
  });
};

export interface RunWindowsOptions {
  readonly pixie: PixieClient;
  readonly script: PxlScript;
  readonly windows: readonly ObserveWindow[];
  /** Substring filter on namespaces ('' for all), passed as a script argument, never spliced. */
  readonly namespace: string;
  readonly deadline: Date;
  readonly signal?: AbortSignal;
  /** Row cap per table; tables that reach it fail the run rather than pass for complete data. */
  readonly maxRows?: number;
}

/** Runs the script once per window in a single request and returns each window's table. */
export const runOverWindows = async (options: RunWindowsOptions): Promise<WindowTable[]> => (await execute(options, false)).tables;

/**
 * Runs the script once per window and, in the same request, its coverage functions: which nodes
 * the tables cover (coverage.ts). A partial cluster is never reported as the whole.
 */
export const runWithCoverage = async (options: RunWindowsOptions): Promise<{ readonly tables: WindowTable[]; readonly coverage: ProbeCoverage }> => {
  const { tables, coverage } = await execute(options, true);
  if (coverage === undefined) {
    throw new IncompleteDataError('coverage tables were not returned');
  }
  return { tables, coverage };
};

const execute = async (options: RunWindowsOptions, withCoverage: boolean): Promise<{ tables: WindowTable[]; coverage: ProbeCoverage | undefined }> => {
  const { script } = options;
  const prefixes = options.windows.map((_, i) => `${script.name}_w${i}`);
  const coverageTables = { nodes: `${script.name}_nodes`, status: `${script.name}_probe_status` };
  const result = await options.pixie.runScript({
    script: script.source,
    mutation: true,
    queryName: `kernel-gossip.${script.name}`,
    ...(options.maxRows === undefined ? {} : { maxOutputRows: options.maxRows }),
    execFuncs: [
      ...options.windows.map((w, i) => ({
        funcName: script.entryFunction,
        args: { start_time: w.start.toISOString(), end_time: w.end.toISOString(), namespace: options.namespace },
        outputTablePrefix: prefixes[i] ?? '',
      })),
      ...(withCoverage
        ? [
            { funcName: COVERAGE_FUNCTIONS.nodes, args: {}, outputTablePrefix: coverageTables.nodes },
            { funcName: COVERAGE_FUNCTIONS.status, args: {}, outputTablePrefix: coverageTables.status },
          ]
        : []),
    ],
    timeoutMs: Math.max(1_000, options.deadline.getTime() - Date.now()),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (result.truncatedTables.length > 0) {
    throw new IncompleteDataError(`tables hit the row cap: ${result.truncatedTables.join(', ')} (raise max_output_rows_per_table or narrow the namespaces)`);
  }
  const complete = (name: string) => {
    const table = result.tables.get(name);
    if (table === undefined) {
      throw new IncompleteDataError(`table ${name} was not returned`);
    }
    if (!table.complete) {
      throw new IncompleteDataError(`table ${name} ended before its end of stream`);
    }
    return table;
  };
  const tables = options.windows.map((window, i) => ({ window, table: complete(prefixes[i] ?? '') }));
  return { tables, coverage: withCoverage ? probeCoverage(complete(coverageTables.nodes), complete(coverageTables.status)) : undefined };
};
