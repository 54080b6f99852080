/**
 * The local Vizier's PxL engine: compiles a script (real Python grammar, Pixie's documented names,
 * Pixie's schemas plus the tables the script's tracepoints declare, bpftrace printf rules) and runs
 * it over a {@link Backend}. Tracepoint tables become readable by later scripts once a mutation
 * request deployed them, as in Pixie.
 *
 * @module
 */
import type { Column, Table } from '../dataset.ts';
import { DEFAULT_MAX_ROWS_PER_TABLE, parseFlags, type CompileError } from '../script.ts';
import type { Backend } from './backend.ts';
import { DataFrame } from './frame.ts';
import { evaluate, type ExecFunc, type RelationColumn, type TableSource, type TracepointDecl } from './evaluate.ts';
import { PIXIE_TABLES, PXL_NAMES } from './schemas.ts';
import { parsePxl, PxlError, type Stmt } from './syntax.ts';

export interface CompiledScript {
  readonly program: readonly Stmt[];
  readonly maxRowsPerTable: number;
  readonly tracepoints: readonly TracepointDecl[];
  readonly usesPxtrace: boolean;
}

export type EngineCompileResult = { readonly ok: true; readonly script: CompiledScript } | { readonly ok: false; readonly errors: readonly CompileError[] };

export type EngineRunResult = { readonly ok: true; readonly tables: readonly { readonly name: string; readonly table: Table }[] } | { readonly ok: false; readonly errors: readonly CompileError[] };

const asErrors = (error: unknown): CompileError[] => {
  if (error instanceof PxlError) {
    return [{ line: error.line, column: error.column, message: error.message }];
  }
  throw error;
};

/** A frame as a dataset table the server streams (values already typed). */
export const frameToTable = (name: string, frame: DataFrame): Table => {
  const columns: Column[] = [...frame.columns].map(([colName, col]): Column => {
    const base = { name: colName, desc: '', semantic: col.semantic };
    switch (col.type) {
      case 'BOOLEAN':
        return { ...base, type: 'BOOLEAN', values: col.values as boolean[] };
      case 'INT64':
      case 'TIME64NS':
        return { ...base, type: col.type, values: BigInt64Array.from(col.values as bigint[]) };
      case 'FLOAT64':
        return { ...base, type: 'FLOAT64', values: Float64Array.from(col.values as number[]) };
      case 'STRING':
        return { ...base, type: 'STRING', values: (col.values as string[]).map((v) => Buffer.from(v, 'utf8')) };
      case 'UINT128':
        return {
          ...base,
          type: 'UINT128',
          high: BigUint64Array.from((col.values as bigint[]).map((v) => v >> 64n)),
          low: BigUint64Array.from((col.values as bigint[]).map((v) => v & 0xffffffffffffffffn)),
        };
    }
  });
  return { name, columns, numRows: frame.rows };
};

export class PxlEngine {
  readonly backend: Backend;
  /** Tracepoint tables deployed by earlier mutation requests: table -> declaration. */
  private readonly deployed = new Map<string, TracepointDecl>();

  constructor(backend: Backend) {
    this.backend = backend;
  }

  private udtfs(): { tracepointStatus?: NonNullable<Backend['tracepointStatus']> } {
    const backend = this.backend;
    return backend.tracepointStatus === undefined ? {} : { tracepointStatus: () => backend.tracepointStatus?.() ?? [] };
  }

  private relation(table: string): readonly RelationColumn[] | undefined {
    return PIXIE_TABLES.get(table) ?? this.deployed.get(table)?.columns;
  }

  /** Parses and checks a script (and its exec_funcs) without reading data. */
  compile(source: string, execFuncs: readonly ExecFunc[]): EngineCompileResult {
    const flagErrors: CompileError[] = [];
    const maxRowsPerTable = parseFlags(source, flagErrors);
    if (flagErrors.length > 0) {
      return { ok: false, errors: flagErrors };
    }
    try {
      const program = parsePxl(source);
      const checked = evaluate(program, {
        mode: 'check',
        execFuncs,
        names: PXL_NAMES,
        metadata: this.backend.metadata,
        ...this.udtfs(),
        tables: {
          relation: (t) => this.relation(t),
          read: () => {
            throw new Error('no reads while compiling');
          },
          nowNs: () => this.backend.nowNs(),
        },
      });
      return { ok: true, script: { program, maxRowsPerTable: maxRowsPerTable || DEFAULT_MAX_ROWS_PER_TABLE, tracepoints: checked.tracepoints, usesPxtrace: checked.usesPxtrace } };
    } catch (error) {
      return { ok: false, errors: asErrors(error) };
    }
  }

  /** Makes the tracepoint tables of a deployed mutation readable by later scripts. */
  deploy(tracepoints: readonly TracepointDecl[]): void {
    for (const tp of tracepoints) {
      this.deployed.set(tp.table, tp);
    }
  }

  /** Runs a compiled script; with `mutation` its own tracepoint tables are readable (they were just deployed). */
  run(script: CompiledScript, execFuncs: readonly ExecFunc[], mutation: boolean): EngineRunResult {
    const own = mutation ? new Map(script.tracepoints.map((tp) => [tp.table, tp])) : new Map<string, TracepointDecl>();
    const tables: TableSource = {
      relation: (t) => this.relation(t),
      nowNs: () => this.backend.nowNs(),
      read: (table, start, end) => {
        const tp = own.get(table) ?? this.deployed.get(table);
        if (tp !== undefined) {
          return this.backend.tracepoint(tp.program, tp.columns, start, end);
        }
        const relation = PIXIE_TABLES.get(table);
        if (relation === undefined) {
          throw new Error(`Table '${table}' not found.`);
        }
        return this.backend.builtin(table, relation, start, end) ?? new DataFrame(new Map(relation.map((c) => [c.name, { type: c.type, semantic: c.semantic, values: [] }])), 0);
      },
    };
    try {
      const result = evaluate(script.program, { mode: 'run', execFuncs, names: PXL_NAMES, metadata: this.backend.metadata, tables, ...this.udtfs() });
      return { ok: true, tables: result.outputs.map((o) => ({ name: o.name, table: frameToTable(o.name, o.frame) })) };
    } catch (error) {
      return { ok: false, errors: asErrors(error) };
    }
  }
}
