/**
 * The evaluator's data: columnar DataFrames and the column expressions (Series) computed over them.
 * Values per type: INT64 / TIME64NS / UINT128 as bigint (UINT128 is `high << 64 | low`), FLOAT64 as
 * number, STRING as string, BOOLEAN as boolean. A DataFrame with zero rows still carries its
 * relation, so the compile pass runs the same code over empty tables and finds every unknown
 * column and type mismatch before any data is read.
 *
 * @module
 */
import type { DataTypeName } from '../dataset.ts';

export type Cell = bigint | number | string | boolean;

export interface FrameColumn {
  readonly type: DataTypeName;
  /** SemanticType enum number. */
  readonly semantic: number;
  readonly values: Cell[];
}

/** Pixie's "no semantic type" (ST_NONE). */
export const ST_NONE = 1;

/** A table in the evaluator: named columns in order, all of length `rows`. */
export class DataFrame {
  readonly columns: Map<string, FrameColumn>;
  rows: number;
  constructor(columns: Map<string, FrameColumn>, rows: number) {
    this.columns = columns;
    this.rows = rows;
  }

  /** A new frame holding the rows at `indexes` (in that order). */
  take(indexes: readonly number[]): DataFrame {
    const columns = new Map<string, FrameColumn>();
    for (const [name, col] of this.columns) {
      columns.set(name, { type: col.type, semantic: col.semantic, values: indexes.map((i) => col.values[i] as Cell) });
    }
    return new DataFrame(columns, indexes.length);
  }
}

/** A column expression: one value per row of `frame`. */
export class Series {
  readonly frame: DataFrame;
  readonly type: DataTypeName;
  readonly semantic: number;
  readonly values: Cell[];
  constructor(frame: DataFrame, type: DataTypeName, values: Cell[], semantic = ST_NONE) {
    this.frame = frame;
    this.type = type;
    this.values = values;
    this.semantic = semantic;
  }
}

/** The zero value Pixie gives a missing cell (e.g. the right side of an unmatched left join). */
export const zeroOf = (type: DataTypeName): Cell => {
  switch (type) {
    case 'STRING':
      return '';
    case 'FLOAT64':
      return 0;
    case 'BOOLEAN':
      return false;
    default:
      return 0n;
  }
};

/** A stable text key for grouping and joining on cells of any type. */
export const cellKey = (cell: Cell): string => (typeof cell === 'string' ? `s${cell}` : typeof cell === 'bigint' ? `i${cell}` : typeof cell === 'number' ? `f${cell}` : `b${cell}`);
