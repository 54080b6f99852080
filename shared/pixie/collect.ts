/**
 * Collects a whole ExecuteScript result: every table with its columns joined across batches into
 * one typed array each, whether it completed, and whether it hit the row cap.
 *
 * @module
 */
import {
  BooleanColumn,
  type Column,
  Float64Column,
  Int64Column,
  StringColumn,
  Time64NSColumn,
  UInt128Column,
} from './columns.ts';
import type { ExecuteEvent } from './execute.ts';
import { PixieProtocolError } from './errors.ts';
import { DataType, type ExecutionStats, type MutationState, type TableMetadata } from './types.ts';

/** One output table, all rows. */
export interface CollectedTable {
  readonly meta: TableMetadata;
  /** One column per relation column, rows of all batches joined. */
  readonly columns: readonly Column[];
  readonly rows: number;
  /** The table's `eos` batch arrived. */
  readonly complete: boolean;
  /** The table reached the script's row cap: more rows existed than were sent. */
  readonly truncated: boolean;
  readonly maxRows: number;
  /** The column with this name (throws if the relation has none). */
  column(name: string): Column;
}

/** The result of one script run. */
export interface QueryResult {
  readonly queryId: string;
  /** Tables by name. */
  readonly tables: ReadonlyMap<string, CollectedTable>;
  readonly stats: ExecutionStats | undefined;
  /** Final tracepoint states for mutation scripts. */
  readonly mutationStates: readonly MutationState[] | undefined;
  /** Names of tables that hit their row cap. */
  readonly truncatedTables: readonly string[];
}

const concatTyped = <T extends { length: number; set(array: ArrayLike<number | bigint>, offset?: number): void }>(
  parts: readonly T[],
  make: (length: number) => T,
): T => {
  const out = make(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};

/** Joins columns of one type (batches of one table) into one column. */
export const concatColumns = (type: number, parts: readonly Column[]): Column => {
  const of = <C extends Column>(guard: (c: Column) => c is C): C[] => parts.filter(guard);
  switch (type) {
    case DataType.BOOLEAN:
      return new BooleanColumn(concatTyped(of((c): c is BooleanColumn => c.type === DataType.BOOLEAN).map((c) => c.values), (n) => new Uint8Array(n)));
    case DataType.INT64:
      return new Int64Column(concatTyped(of((c): c is Int64Column => c.type === DataType.INT64).map((c) => c.values), (n) => new BigInt64Array(n)));
    case DataType.TIME64NS:
      return new Time64NSColumn(concatTyped(of((c): c is Time64NSColumn => c.type === DataType.TIME64NS).map((c) => c.values), (n) => new BigInt64Array(n)));
    case DataType.FLOAT64:
      return new Float64Column(concatTyped(of((c): c is Float64Column => c.type === DataType.FLOAT64).map((c) => c.values), (n) => new Float64Array(n)));
    case DataType.UINT128: {
      const cols = of((c): c is UInt128Column => c.type === DataType.UINT128);
      return new UInt128Column(
        concatTyped(cols.map((c) => c.high), (n) => new BigUint64Array(n)),
        concatTyped(cols.map((c) => c.low), (n) => new BigUint64Array(n)),
      );
    }
    case DataType.STRING: {
      const cols = of((c): c is StringColumn => c.type === DataType.STRING);
      if (cols.length === 1 && cols[0]) {
        return cols[0];
      }
      const values: Uint8Array[] = [];
      for (const col of cols) {
        for (let i = 0; i < col.length; i++) {
          values.push(col.raw(i));
        }
      }
      return StringColumn.from(values);
    }
    default:
      throw new PixieProtocolError(`cannot join columns of data type ${type}`);
  }
};

/** Consumes an event stream and returns every table whole. Rethrows the stream's error. */
export const collectTables = async (events: AsyncIterable<ExecuteEvent>): Promise<QueryResult> => {
  let queryId = '';
  let stats: ExecutionStats | undefined;
  let mutationStates: readonly MutationState[] | undefined;
  const pending = new Map<string, { meta: TableMetadata; parts: Column[][]; rows: number; complete: boolean; truncated: boolean; maxRows: number }>();
  for await (const event of events) {
    switch (event.kind) {
      case 'metadata':
        queryId = event.queryId;
        pending.set(event.table.id, { meta: event.table, parts: event.table.columns.map(() => []), rows: 0, complete: false, truncated: false, maxRows: 0 });
        break;
      case 'batch': {
        const table = pending.get(event.table.id);
        if (table) {
          event.batch.cols.forEach((col, i) => table.parts[i]?.push(col));
          table.rows += event.batch.numRows;
        }
        break;
      }
      case 'tableEnd': {
        const table = pending.get(event.table.id);
        if (table) {
          table.complete = true;
          table.truncated = event.truncated;
          table.maxRows = event.maxRows;
        }
        break;
      }
      case 'stats':
        stats = event.stats;
        break;
      case 'mutation':
        mutationStates = event.states;
        break;
      default:
        break;
    }
  }
  const tables = new Map<string, CollectedTable>();
  for (const table of pending.values()) {
    const columns = table.meta.columns.map((info, i) => concatColumns(info.type, table.parts[i] ?? []));
    tables.set(table.meta.name, {
      meta: table.meta,
      columns,
      rows: table.rows,
      complete: table.complete,
      truncated: table.truncated,
      maxRows: table.maxRows,
      column(name: string): Column {
        const index = table.meta.columns.findIndex((info) => info.name === name);
        const found = columns[index];
        if (found === undefined) {
          throw new RangeError(`table ${table.meta.name} has no column ${name}`);
        }
        return found;
      },
    });
  }
  return {
    queryId,
    tables,
    stats,
    mutationStates,
    truncatedTables: [...tables.values()].filter((t) => t.truncated).map((t) => t.meta.name),
  };
};
