/**
 * Builds a CollectedTable the way the Pixie client assembles one from a stream, for unit tests of
 * code that reads script results.
 */
import { collectTables } from '../../shared/pixie/collect.ts';
import type { CollectedTable } from '../../shared/pixie/collect.ts';
import { type Column, Int64Column, StringColumn, Time64NSColumn } from '../../shared/pixie/columns.ts';
import type { ExecuteEvent } from '../../shared/pixie/execute.ts';
import { DataType } from '../../shared/pixie/types.ts';

export type TestColumn =
  | { readonly type: 'int'; readonly values: readonly (number | bigint)[] }
  | { readonly type: 'time'; readonly values: readonly (number | bigint)[] }
  | { readonly type: 'string'; readonly values: readonly string[] };

const toColumn = (column: TestColumn): Column =>
  column.type === 'string'
    ? StringColumn.from(column.values)
    : column.type === 'int'
      ? new Int64Column(BigInt64Array.from(column.values.map((v) => BigInt(v))))
      : new Time64NSColumn(BigInt64Array.from(column.values.map((v) => BigInt(v))));

const TYPES = { int: DataType.INT64, time: DataType.TIME64NS, string: DataType.STRING } as const;

export const collectedTable = async (name: string, columns: Readonly<Record<string, TestColumn>>): Promise<CollectedTable> => {
  const entries = Object.entries(columns);
  const rows = entries[0]?.[1].values.length ?? 0;
  const table = {
    id: `${name}-id`,
    name,
    columns: entries.map(([columnName, column]) => ({ name: columnName, type: TYPES[column.type], description: '', semanticType: 0 })),
  };
  async function* events(): AsyncGenerator<ExecuteEvent> {
    await Promise.resolve();
    yield { kind: 'metadata', queryId: 'q', table };
    yield { kind: 'batch', table, batch: { tableId: table.id, numRows: rows, eow: true, eos: true, cols: entries.map(([, c]) => toColumn(c)) } };
    yield { kind: 'tableEnd', table, rows, maxRows: 10_000, truncated: false };
  }
  const result = await collectTables(events());
  const collected = result.tables.get(name);
  if (collected === undefined) {
    throw new Error(`table ${name} was not collected`);
  }
  return collected;
};
