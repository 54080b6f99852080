/**
 * The local Vizier's PxL engine: compiles a script (real Python grammar, Pixie's documented names,
 * Pixie's schemas plus the tables the script's tracepoints declare, bpftrace printf rules) and runs
 * it over a {@link Backend}. Tracepoint tables become readable by later scripts once a mutation
 * request deployed them, as in Pixie.
 *
 * @module
 */
import type { Column, Table } from '../dataset.ts';
import type { Backend } from './backend.ts';
import { DataFrame } from './frame.ts';
import { evaluate, type EvaluateOptions, type ExecFunc, type RelationColumn, type TableSource, type TracepointDecl } from './evaluate.ts';
import { PIXIE_TABLES, PXL_NAMES } from './schemas.ts';
import { textToBytes } from './bytes.ts';
import { parseQueryFlags, QueryFlagError } from './flags.ts';
import { parsePxl, PxlError, PxlSyntaxError, type Stmt } from './syntax.ts';
import type { ClusterAgents } from '../agents.ts';
import { frameOfRows } from './backend.ts';

/** What one request runs against beyond the backend: its cluster's agents. */
export interface RunContext {
  readonly agents?: ClusterAgents;
}

/** One compiler error: 1-based line and column, Pixie's message text. */
export interface CompileError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/**
 * Why a query did not run, in the two shapes Pixie's query broker answers with
 * (src/vizier/services/query_broker/controllers/query_executor.go):
 * - `compile`: the planner's status, sent as a status message (code 3 with the compiler errors
 *   as error_details; none for errors without a position) and then gRPC INVALID_ARGUMENT
 *   (compilePlan, :384-391);
 * - `plain`: a Go error returned before compiling (bad `#px:set` flags, getPlanOpts :284-291):
 *   no status message; the client sees gRPC UNKNOWN with the Go error text.
 */
export type QueryFailure =
  | { readonly kind: 'compile'; readonly message: string; readonly errors: readonly CompileError[] }
  | { readonly kind: 'plain'; readonly message: string };

export interface CompiledScript {
  readonly program: readonly Stmt[];
  readonly maxRowsPerTable: number;
  readonly tracepoints: readonly TracepointDecl[];
  readonly usesPxtrace: boolean;
}

export type EngineCompileResult = { readonly ok: true; readonly script: CompiledScript } | { readonly ok: false; readonly failure: QueryFailure };

export type EngineRunResult = { readonly ok: true; readonly tables: readonly { readonly name: string; readonly table: Table }[] } | { readonly ok: false; readonly failure: QueryFailure };

/** A compile failure without a source position (the planner's plain InvalidArgument statuses). */
const positionless = (message: string): QueryFailure => ({ kind: 'compile', message, errors: [] });

const asFailure = (error: unknown): QueryFailure => {
  if (error instanceof PxlSyntaxError) {
    return { kind: 'compile', message: error.message, errors: error.errors.map((e) => ({ line: e.pos.line, column: e.pos.column, message: `SyntaxError: ${e.text}` })) };
  }
  if (error instanceof PxlError) {
    return { kind: 'compile', message: error.message, errors: [{ line: error.line, column: error.column, message: error.message }] };
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
        return { ...base, type: 'STRING', values: (col.values as string[]).map(textToBytes) };
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

  private udtfs(context: RunContext = {}): Pick<EvaluateOptions, 'tracepointStatus' | 'agentStatus'> {
    const backend = this.backend;
    const agents = context.agents;
    return {
      ...(backend.tracepointStatus === undefined ? {} : { tracepointStatus: () => backend.tracepointStatus?.() ?? [] }),
      ...(agents === undefined ? {} : { agentStatus: (includeKelvin: boolean) => agents.agentStatusRows(includeKelvin) }),
    };
  }

  /** Tables that exist now: deployed tracepoint tables, the backend's own tables, Pixie's schemas. */
  private relation(table: string): readonly RelationColumn[] | undefined {
    return this.deployed.get(table)?.columns ?? this.backend.tables?.get(table) ?? PIXIE_TABLES.get(table);
  }

  private tableSource(read: TableSource['read']): TableSource {
    return {
      relation: (t) => this.relation(t),
      deployedRelation: (t) => this.deployed.get(t)?.columns,
      nowNs: () => this.backend.nowNs(),
      read,
    };
  }

  /**
   * Checks a request the way Pixie's query broker does before running it: `#px:set` flags first,
   * then the script compiled (parse, AST walk, then table/column/type analysis, then "is anything
   * displayed"), each stage stopping at its first error. `mutation` is the request's flag: only
   * then are the tables this script's tracepoints declare visible to it.
   *
   * `stage: 'mutations'` is the broker's first compile of a mutation request, which only collects
   * the tracepoints to deploy: parse and AST walk, no analysis and no result-sink check
   * (src/carnot/planner/compiler/compiler.cc:111-134 CompileTrace, against CompileToIR :62-71);
   * the whole script is compiled (`stage: 'plan'`) only once they are deployed
   * (query_broker/controllers/query_executor.go:477-491 prepareScript: runMutation, then compilePlan).
   */
  compile(source: string, execFuncs: readonly ExecFunc[], mutation = false, stage: 'mutations' | 'plan' = 'plan'): EngineCompileResult {
    let maxRowsPerTable: number;
    try {
      maxRowsPerTable = parseQueryFlags(source).maxOutputRowsPerTable;
    } catch (error) {
      if (error instanceof QueryFlagError) {
        return { ok: false, failure: { kind: 'plain', message: error.message } };
      }
      throw error;
    }
    // parser.cc Parser::Parse.
    if (source === '') {
      return { ok: false, failure: positionless('Query should not be empty.') };
    }
    try {
      const program = parsePxl(source);
      const checked = evaluate(program, {
        mode: 'check',
        execFuncs,
        deploysTracepoints: mutation,
        analyze: stage === 'plan',
        names: PXL_NAMES,
        metadata: this.backend.metadata,
        ...this.udtfs(),
        tables: this.tableSource(() => {
          throw new Error('no reads while compiling');
        }),
      });
      // compiler.cc:136 VerifyGraphHasResultSink (exec_funcs outputs count as result sinks).
      if (stage === 'plan' && checked.outputs.length === 0 && execFuncs.length === 0) {
        return { ok: false, failure: positionless('query does not output a result, please add a px.display() statement') };
      }
      return { ok: true, script: { program, maxRowsPerTable, tracepoints: checked.tracepoints, usesPxtrace: checked.usesPxtrace } };
    } catch (error) {
      return { ok: false, failure: asFailure(error) };
    }
  }

  /** Makes the tracepoint tables of a deployed mutation readable by later scripts. */
  deploy(tracepoints: readonly TracepointDecl[]): void {
    for (const tp of tracepoints) {
      this.deployed.set(tp.table, tp);
    }
  }

  /**
   * Runs a compiled script; with `mutation` its own tracepoint tables are readable (they were just
   * deployed, as `deployed` gives them: the programs the backend's node runs). `probe_status` and
   * `px.GetAgentStatus()` answer from the context's agents.
   */
  run(script: CompiledScript, execFuncs: readonly ExecFunc[], mutation: boolean, context: RunContext = {}, deployed: readonly TracepointDecl[] = script.tracepoints): EngineRunResult {
    const own = mutation ? new Map(deployed.map((tp) => [tp.table, tp])) : new Map<string, TracepointDecl>();
    const tables = this.tableSource((table, start, end) => {
      const tp = own.get(table) ?? this.deployed.get(table);
      if (tp?.hostless === true) {
        return new DataFrame(new Map(tp.columns.map((c) => [c.name, { type: c.type, semantic: c.semantic, values: [] }])), 0);
      }
      if (tp !== undefined) {
        return this.backend.tracepoint(tp.program, tp.columns, start, end, table);
      }
      const relation = this.backend.tables?.get(table) ?? PIXIE_TABLES.get(table);
      if (relation === undefined) {
        throw new Error(`Table '${table}' not found.`);
      }
      if (table === 'probe_status' && context.agents !== undefined) {
        return frameOfRows(relation, context.agents.probeStatusRows(), start, end);
      }
      return this.backend.builtin(table, relation, start, end) ?? new DataFrame(new Map(relation.map((c) => [c.name, { type: c.type, semantic: c.semantic, values: [] }])), 0);
    });
    try {
      const result = evaluate(script.program, { mode: 'run', execFuncs, deploysTracepoints: mutation, names: PXL_NAMES, metadata: this.backend.metadata, tables, ...this.udtfs(context) });
      return { ok: true, tables: result.outputs.map((o) => ({ name: o.name, table: frameToTable(o.name, o.frame) })) };
    } catch (error) {
      return { ok: false, failure: asFailure(error) };
    }
  }
}
