/**
 * What the PxL engine runs over: a node's tables and metadata. Replay (recorded lab fixtures) and
 * live (the kernel lab) both implement it.
 *
 * @module
 */
import { type Cell, DataFrame, type FrameColumn } from './frame.ts';
import type { RelationColumn, TracepointDecl } from './evaluate.ts';
import type { Metadata } from './udf.ts';
import type { PrintfLayout } from '../../../shared/pxl/printf-layout.ts';
import type { LifeCycleState, TracepointState } from '../tracepoints.ts';

export interface Backend {
  readonly metadata: Metadata;
  /** `uname -r` of this backend's node (the host; the recordings' kernel in replay). */
  readonly kernelRelease: string;
  /** The clock relative times are measured against. */
  nowNs(): bigint;
  /** Tables this backend serves beyond Pixie's schemas (a dataset's), by name; they shadow Pixie's. */
  readonly tables?: ReadonlyMap<string, readonly RelationColumn[]>;
  /** Rows of a built-in Pixie table (or one of `tables`) with `start <= time_ < end`, or undefined if this backend has no data for it. */
  builtin(table: string, relation: readonly RelationColumn[], startNs: bigint | undefined, endNs: bigint | undefined): DataFrame | undefined;
  /** Rows the bpftrace `program` produced into `table` with `start <= time_ < end` (columns as Pixie types them). */
  tracepoint(program: string, relation: readonly RelationColumn[], startNs: bigint | undefined, endNs: bigint | undefined, table: string): DataFrame;
  /** Real tracepoint management (live); without it the server's simulated registry answers. */
  upsertTracepoints?(decls: readonly TracepointDecl[]): TracepointState[];
  /**
   * The printf structs bpftrace's dry run gave for `program` where this backend's data was made (a
   * replay's recordings carry them), so a deployment can check the program's layouts without a
   * bpftrace on this machine; undefined: compile it here.
   */
  printfLayouts?(program: string): readonly PrintfLayout[] | undefined;
  /** Rows of `px.GetTracepointStatus()`. */
  tracepointStatus?(): readonly { readonly id: string; readonly name: string; readonly state: LifeCycleState; readonly status: string; readonly table: string }[];
}

/** Builds a frame from row objects, keeping rows inside the window (by `time_`), ordered by time. */
export const frameOfRows = (
  relation: readonly RelationColumn[],
  rows: readonly Readonly<Record<string, Cell>>[],
  startNs: bigint | undefined,
  endNs: bigint | undefined,
): DataFrame => {
  const inWindow = rows
    .filter((r) => {
      const t = r['time_'];
      return typeof t === 'bigint' && (startNs === undefined || t >= startNs) && (endNs === undefined || t < endNs);
    })
    .sort((a, b) => ((a['time_'] as bigint) < (b['time_'] as bigint) ? -1 : (a['time_'] as bigint) > (b['time_'] as bigint) ? 1 : 0));
  const columns = new Map<string, FrameColumn>();
  for (const c of relation) {
    columns.set(c.name, {
      type: c.type,
      semantic: c.semantic,
      values: inWindow.map((r) => {
        const v = r[c.name];
        if (v === undefined) {
          throw new Error(`row without column ${c.name}`);
        }
        return v;
      }),
    });
  }
  return new DataFrame(columns, inWindow.length);
};

/** `high << 64 | low` of a UPID: asid and pid in the high word, process start ticks in the low. */
export const makeUpid = (asid: number, pid: number, startTicks: bigint): bigint => (BigInt(asid) << 96n) | (BigInt(pid) << 64n) | startTicks;

/** The Deployment a ReplicaSet named `<deployment>-<hash>` belongs to, or ''. */
export const deploymentOf = (owner: { readonly kind: string; readonly name: string } | null): string =>
  owner?.kind === 'ReplicaSet' && /-[a-z0-9]+$/.test(owner.name) ? owner.name.replace(/-[a-z0-9]+$/, '') : owner?.kind === 'Deployment' ? owner.name : '';
