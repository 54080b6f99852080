/**
 * Dataset backend: the tables of a `--dataset` directory (dev/vizier/dataset.ts) served to the PxL
 * engine, so dataset mode runs the same compile-and-execute path as replay and live. Rules:
 * - every dataset table is a table of this Vizier (its relation as the file gives it; a file named
 *   like a Pixie table, e.g. `process_stats`, replaces Pixie's empty one); Pixie's other tables
 *   exist and are empty;
 * - "now" is the wall clock, as in Pixie: relative windows (`-5m`) select only recent rows, so old
 *   recorded data is read with absolute times or no window;
 * - windows are on `time_` (or the table's first TIME64NS column when it has no `time_`);
 * - a tracepoint table exists only once a mutation deployed it; its rows are then the dataset table
 *   of the same name (whose columns must be the tracepoint's), or none;
 * - no pod metadata: metadata functions and `ctx[...]` give Pixie's empty values.
 *
 * @module
 */
import { release } from 'node:os';
import type { Column, Dataset, Table } from '../dataset.ts';
import type { Backend } from './backend.ts';
import { bytesToText } from './bytes.ts';
import type { RelationColumn } from './evaluate.ts';
import { type Cell, DataFrame, type FrameColumn } from './frame.ts';

const cellsOf = (column: Column): Cell[] => {
  switch (column.type) {
    case 'BOOLEAN':
      return [...column.values];
    case 'INT64':
    case 'TIME64NS':
    case 'FLOAT64':
      return Array.from(column.values as ArrayLike<bigint | number>);
    case 'STRING':
      return column.values.map(bytesToText);
    case 'UINT128':
      return Array.from(column.high, (high, i) => (high << 64n) | (column.low[i] ?? 0n));
  }
};

/** A dataset table as an evaluator frame (converted once, shared read-only). */
const frameOf = (table: Table): DataFrame =>
  new DataFrame(new Map(table.columns.map((c): [string, FrameColumn] => [c.name, { type: c.type, semantic: c.semantic, values: cellsOf(c) }])), table.numRows);

const windowed = (frame: DataFrame, start: bigint | undefined, end: bigint | undefined): DataFrame => {
  const time = frame.columns.get('time_') ?? [...frame.columns.values()].find((c) => c.type === 'TIME64NS');
  if (time === undefined || (start === undefined && end === undefined)) {
    // A fresh column map: scripts add and replace columns on the frames they read.
    return new DataFrame(new Map(frame.columns), frame.rows);
  }
  const keep: number[] = [];
  time.values.forEach((t, i) => {
    if ((start === undefined || (t as bigint) >= start) && (end === undefined || (t as bigint) < end)) {
      keep.push(i);
    }
  });
  return frame.take(keep);
};

/** A {@link Backend} over a loaded dataset. */
export const datasetBackend = (dataset: Dataset): Backend => {
  const frames = new Map<string, DataFrame>();
  const frame = (name: string): DataFrame | undefined => {
    let f = frames.get(name);
    const table = dataset.get(name);
    if (f === undefined && table !== undefined) {
      f = frameOf(table);
      frames.set(name, f);
    }
    return f;
  };
  const tables = new Map<string, readonly RelationColumn[]>([...dataset.values()].map((t) => [t.name, t.columns.map((c) => ({ name: c.name, type: c.type, semantic: c.semantic }))]));
  return {
    metadata: { asid: 0, hostname: '', pod: () => undefined, process: () => undefined },
    kernelRelease: release(),
    nowNs: () => BigInt(Date.now()) * 1_000_000n,
    tables,
    builtin: (table, _relation, start, end) => {
      const f = frame(table);
      return f === undefined ? undefined : windowed(f, start, end);
    },
    tracepoint: (_program, relation, start, end, table) => {
      const f = frame(table);
      if (f === undefined) {
        return new DataFrame(new Map(relation.map((c) => [c.name, { type: c.type, semantic: c.semantic, values: [] }])), 0);
      }
      const mismatch = relation.find((c) => f.columns.get(c.name)?.type !== c.type);
      if (mismatch !== undefined || f.columns.size !== relation.length) {
        throw new Error(`dataset table '${table}' does not have the columns of the tracepoint that writes it (${relation.map((c) => `${c.name} ${c.type}`).join(', ')})`);
      }
      return windowed(f, start, end);
    },
  };
};
