/**
 * The PxL evaluator: runs the subset of PxL the project's scripts use over columnar tables, with the
 * semantics Pixie documents. The same code is the compile pass (`mode: 'check'`: every table is read
 * empty, so unknown tables, columns, functions and type mismatches surface with positions before any
 * data is read, and tracepoints are collected) and the run (`mode: 'run'`).
 *
 * Supported: module constants and strings, `def` with typed parameters, `return`, assignment to
 * names / `df.col` / `df['col']`, px.DataFrame with a time window, column expressions (+ - * / %
 * comparisons and/or), filters `df[expr]`, `df[['a', ...]]`, drop, head, append, groupby/agg with
 * min max count sum mean any, merge (inner/left), `df.ctx[...]`, the scalar functions of udf.ts,
 * px.display, pxtrace.UpsertTracepoint / pxtrace.kprobe, px.now and the duration helpers.
 * Any other documented name is reported as valid-but-unsupported PxL.
 *
 * @module
 */
import { BpftraceProgramError, programOutput } from '../../../shared/pxl/bpftrace-program.ts';
import type { DataTypeName } from '../dataset.ts';
import { type Cell, cellKey, DataFrame, type FrameColumn, Series, ST_NONE, zeroOf } from './frame.ts';
import { type Expr, type Param, type Pos, PxlError, type Stmt } from './syntax.ts';
import { parseDurationNs, parseTimeArg } from './time.ts';
import { AGGREGATES, type AggregateName, aggregate, aggregateType, CTX_KEYS, type Metadata, SCALAR_FNS } from './udf.ts';
import type { TraceSelector } from '../kernel-selectors.ts';
import { probeVariants, traceProgram, type TraceProgramValue } from './pxtrace.ts';
import { agentStatusFrame } from './agent-status.ts';
import { OPERATOR_UDFS, semanticOf } from './semantic-rules.ts';

export interface RelationColumn {
  readonly name: string;
  readonly type: DataTypeName;
  readonly semantic: number;
}

/** Where px.DataFrame reads from. */
export interface TableSource {
  /** The relation of a table that exists now (Pixie schemas, deployed tracepoint tables). */
  relation(table: string): readonly RelationColumn[] | undefined;
  /** The relation of a tracepoint table deployed by an earlier mutation, if any. */
  deployedRelation(table: string): readonly RelationColumn[] | undefined;
  /** Rows with `start <= time_ < end` (bounds undefined = open). Only called in run mode. */
  read(table: string, startNs: bigint | undefined, endNs: bigint | undefined): DataFrame;
  /** "now" for relative times (the replay clock, or the wall clock). */
  nowNs(): bigint;
}

export interface TracepointDecl {
  readonly name: string;
  readonly table: string;
  /** The program the backend's own node runs (the first variant until the server picks by its kernel). */
  readonly program: string;
  /** Every program of the deployment with its selectors (one without selectors for a plain string). */
  readonly variants: readonly { readonly program: string; readonly selectors: readonly TraceSelector[] }[];
  readonly ttlNs: bigint;
  readonly columns: readonly RelationColumn[];
  readonly pos: Pos;
  /** The backend's node runs none of the variants (Pixie's selectors send it none): no rows from it. */
  readonly hostless?: true;
}

export interface ExecFunc {
  readonly funcName: string;
  readonly args: readonly { readonly name: string; readonly value: string }[];
  readonly outputTablePrefix: string;
}

export interface EvaluateOptions {
  readonly mode: 'check' | 'run';
  readonly execFuncs: readonly ExecFunc[];
  readonly tables: TableSource;
  /** The request deploys this script's tracepoints (ExecuteScript with mutation=true). */
  readonly deploysTracepoints: boolean;
  /**
   * Whether the compile pass reports analyzer-stage errors (default true). Pixie's mutation compile
   * (Compiler::CompileTrace) parses and walks the AST but never runs the Analyzer.
   */
  readonly analyze?: boolean;
  readonly metadata: Metadata;
  /** Documented px/pxtrace/pxconfig names (pxl-names.txt). */
  readonly names: ReadonlySet<string>;
  /** Rows of `px.GetTracepointStatus()` (live backends); absent = the UDTF is unsupported here. */
  readonly tracepointStatus?: () => readonly { readonly id: string; readonly name: string; readonly state: number; readonly status: string; readonly table: string }[];
  /** Rows of `px.GetAgentStatus(include_kelvin)`; absent = the backend's node alone. */
  readonly agentStatus?: (includeKelvin: boolean) => readonly Readonly<Record<string, Cell>>[];
}

export interface EvaluateResult {
  readonly outputs: readonly { readonly name: string; readonly frame: DataFrame }[];
  readonly tracepoints: readonly TracepointDecl[];
  readonly usesPxtrace: boolean;
}

type Value =
  | Cell
  | null
  | Series
  | DataFrame
  | { readonly t: 'list' | 'tuple'; readonly items: Value[] }
  | { readonly t: 'dict'; readonly map: Map<string, Value> }
  | { readonly t: 'module'; readonly name: string }
  | { readonly t: 'fn'; readonly module: string; readonly name: string }
  | { readonly t: 'def'; readonly stmt: Extract<Stmt, { k: 'def' }> }
  | { readonly t: 'method'; readonly self: DataFrame | Grouped; readonly name: string }
  | { readonly t: 'ctx'; readonly frame: DataFrame }
  | { readonly t: 'target'; readonly kind: string }
  | TraceProgramValue
  | Poison;

/**
 * What an expression is worth, in the compile pass, after an analyzer-stage error (see
 * {@link AnalysisError}): every use of it is itself poison, so the walk goes on to find the
 * AST-stage errors Pixie would report first.
 */
interface Poison {
  readonly t: 'poison';
}
const POISON: Poison = { t: 'poison' };
const isPoison = (v: unknown): v is Poison => v === POISON;

/**
 * An error Pixie's compiler finds in its Analyzer, after the whole AST was walked
 * (src/carnot/planner/compiler/compiler.cc CompileToIR: QueryToIR, then Analyze): unknown tables
 * (memory_source_ir.cc:116), unknown columns (column_ir.cc:128), operator and UDF type mismatches.
 * An AST-stage error anywhere in the script is therefore reported before any of these.
 */
export class AnalysisError extends PxlError {}

interface Grouped {
  readonly t: 'grouped';
  readonly frame: DataFrame;
  readonly keys: readonly string[];
}

/** Unwinds a function body on `return` (an Error subclass so that it may be thrown). */
class Return extends Error {
  readonly value: Value;
  constructor(value: Value) {
    super('return');
    this.value = value;
  }
}

const isObj = (v: unknown): v is { t: string } => typeof v === 'object' && v !== null && 't' in v;
const isGrouped = (v: unknown): v is Grouped => isObj(v) && v.t === 'grouped';
const isCell = (v: Value | Grouped): v is Cell => typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';

const typeOfCell = (v: Cell): DataTypeName => (typeof v === 'string' ? 'STRING' : typeof v === 'bigint' ? 'INT64' : typeof v === 'number' ? 'FLOAT64' : 'BOOLEAN');

const describe = (v: Value | Grouped): string => {
  if (v === null) {return 'None';}
  if (v instanceof DataFrame) {return 'DataFrame';}
  if (v instanceof Series) {return `column expression (${v.type})`;}
  if (isCell(v)) {return typeOfCell(v).toLowerCase();}
  return v.t;
};

const NUMERIC: ReadonlySet<DataTypeName> = new Set(['INT64', 'FLOAT64', 'TIME64NS']);

/** Result type of a binary operator on two column types, or undefined if Pixie has no such overload. */
const binaryType = (op: string, a: DataTypeName, b: DataTypeName): DataTypeName | undefined => {
  if (op === 'and' || op === 'or') {return a === 'BOOLEAN' && b === 'BOOLEAN' ? 'BOOLEAN' : undefined;}
  if (op === '==' || op === '!=') {return a === b || (NUMERIC.has(a) && NUMERIC.has(b)) ? 'BOOLEAN' : undefined;}
  if (['<', '>', '<=', '>='].includes(op)) {return (NUMERIC.has(a) && NUMERIC.has(b)) || (a === 'STRING' && b === 'STRING') ? 'BOOLEAN' : undefined;}
  if (!NUMERIC.has(a) || !NUMERIC.has(b)) {return undefined;}
  if (op === '/') {return 'FLOAT64';}
  if (a === 'FLOAT64' || b === 'FLOAT64') {return 'FLOAT64';}
  if (op === '-' && a === 'TIME64NS' && b === 'TIME64NS') {return 'INT64';}
  if (a === 'TIME64NS' || b === 'TIME64NS') {return op === '+' || op === '-' ? 'TIME64NS' : 'INT64';}
  return 'INT64';
};

const applyBinary = (op: string, x: Cell, y: Cell, outType: DataTypeName): Cell => {
  if (op === 'and') {return x === true && y === true;}
  if (op === 'or') {return x === true || y === true;}
  const numeric = outType === 'FLOAT64' || op === '/' || ((typeof x === 'number' || typeof y === 'number') && op !== '==' && op !== '!=');
  const a = numeric && typeof x === 'bigint' ? Number(x) : x;
  const b = numeric && typeof y === 'bigint' ? Number(y) : y;
  switch (op) {
    case '==': return typeof a === typeof b ? a === b : Number(a) === Number(b);
    case '!=': return typeof a === typeof b ? a !== b : Number(a) !== Number(b);
    case '<': return a < b;
    case '>': return a > b;
    case '<=': return a <= b;
    case '>=': return a >= b;
    case '+': return typeof a === 'bigint' ? a + (b as bigint) : (a as number) + (b as number);
    case '-': return typeof a === 'bigint' ? a - (b as bigint) : (a as number) - (b as number);
    case '*': return typeof a === 'bigint' ? a * (b as bigint) : (a as number) * (b as number);
    case '/': return (a as number) / (b as number);
    case '%': return typeof a === 'bigint' ? ((b as bigint) === 0n ? 0n : a % (b as bigint)) : (a as number) % (b as number);
    default: throw new Error(`operator ${op}`);
  }
};

const DURATION_FNS: Readonly<Record<string, bigint>> = { nanoseconds: 1n, microseconds: 1_000n, milliseconds: 1_000_000n, seconds: 1_000_000_000n, minutes: 60_000_000_000n, hours: 3_600_000_000_000n, days: 86_400_000_000_000n };

const PARAM_TYPES = ['str', 'int', 'float', 'bool', 'px.Time'] as const;

/** Evaluates a parsed PxL script. Throws {@link PxlError} with a position on any problem. */
export const evaluate = (program: readonly Stmt[], options: EvaluateOptions): EvaluateResult => {
  const { mode, tables, metadata: md, names } = options;
  const globals = new Map<string, Value>();
  const imported = new Set<string>();
  const outputs: { name: string; frame: DataFrame }[] = [];
  const displayNames = new Map<string, number>();
  const tracepoints = new Map<string, TracepointDecl>();
  const execMode = options.execFuncs.length > 0;

  const fail = (message: string, pos: Pos): never => {
    throw new PxlError(message, pos);
  };
  const failAnalysis = (message: string, pos: Pos): never => {
    throw new AnalysisError(message, pos);
  };
  /** The first analyzer-stage error of the compile pass (reported once the walk is done). */
  let analysisError: AnalysisError | undefined;

  const relationOf = (table: string): readonly RelationColumn[] | undefined => {
    const declared = [...tracepoints.values()].find((t) => t.table === table);
    if (declared === undefined) {
      return tables.relation(table);
    }
    // A table this script's UpsertTracepoint declares exists only once a mutation deployed it: this
    // request's (mutation=true) or an earlier one. Without the mutation flag Pixie's planner knows
    // no such table.
    return options.deploysTracepoints ? declared.columns : tables.deployedRelation(table);
  };

  const column = (frame: DataFrame, name: string, pos: Pos): Series => {
    const col = frame.columns.get(name);
    if (col === undefined) {
      return failAnalysis(`Column '${name}' not found in parent dataframe`, pos);
    }
    return new Series(frame, col.type, col.values, col.semantic);
  };

  /** Broadcasts scalars and checks that every Series belongs to `frame`. */
  const valuesFor = (v: Value, frame: DataFrame, pos: Pos): { type: DataTypeName; at: (i: number) => Cell; semantic: number } => {
    if (v instanceof Series) {
      if (v.frame !== frame) {
        return fail('column expression comes from a different DataFrame', pos);
      }
      return { type: v.type, at: (i) => v.values[i] as Cell, semantic: v.semantic };
    }
    if (v !== null && isCell(v)) {
      return { type: typeOfCell(v), at: () => v, semantic: ST_NONE };
    }
    return fail(`expected a column expression or a scalar, got ${describe(v)}`, pos);
  };

  /**
   * Applies `fn` elementwise when any argument is a Series, else once. The result's semantic type is
   * what `semantic` (by convention Pixie's rules for the UDF, semantic-rules.ts) gives for the
   * arguments' semantic types (ST_NONE for a scalar).
   */
  const elementwise = (args: readonly Value[], pos: Pos, outType: (types: DataTypeName[]) => DataTypeName, fn: (cells: Cell[]) => Cell, semantic: (semantics: number[]) => number = () => ST_NONE): Value => {
    const frame = args.find((a): a is Series => a instanceof Series)?.frame;
    if (frame === undefined) {
      const cells = args.map((a) => (a !== null && isCell(a) ? a : fail(`expected a scalar, got ${describe(a)}`, pos)));
      return fn(cells);
    }
    const getters = args.map((a) => valuesFor(a, frame, pos));
    const type = outType(getters.map((g) => g.type));
    const values: Cell[] = new Array<Cell>(frame.rows);
    for (let r = 0; r < frame.rows; r++) {
      values[r] = fn(getters.map((g) => g.at(r)));
    }
    return new Series(frame, type, values, semantic(getters.map((g) => g.semantic)));
  };

  const str = (v: Value, what: string, pos: Pos): string => (typeof v === 'string' ? v : fail(`${what} must be a string, got ${describe(v)}`, pos));
  const strList = (v: Value, what: string, pos: Pos): string[] => {
    if (typeof v === 'string') {return [v];}
    if (isObj(v) && (v.t === 'list' || v.t === 'tuple')) {return (v as { items: Value[] }).items.map((x) => str(x, what, pos));}
    return fail(`${what} must be a string or a list of strings, got ${describe(v)}`, pos);
  };

  const bindArgs = (spec: readonly string[], required: number, args: readonly Value[], kwargs: ReadonlyMap<string, Value>, fnName: string, pos: Pos): Map<string, Value> => {
    const bound = new Map<string, Value>();
    if (args.length > spec.length) {fail(`${fnName}() takes at most ${spec.length} arguments (${args.length} given)`, pos);}
    args.forEach((a, idx) => bound.set(spec[idx] as string, a));
    for (const [k, v] of kwargs) {
      if (!spec.includes(k)) {fail(`${fnName}() got an unexpected keyword argument '${k}'`, pos);}
      if (bound.has(k)) {fail(`${fnName}() got multiple values for argument '${k}'`, pos);}
      bound.set(k, v);
    }
    for (const name of spec.slice(0, required)) {
      if (!bound.has(name)) {fail(`${fnName}() missing required argument '${name}'`, pos);}
    }
    return bound;
  };

  const output = (name: string, frame: DataFrame): void => {
    const seen = displayNames.get(name);
    displayNames.set(name, (seen ?? 0) + 1);
    outputs.push({ name: seen === undefined ? name : `${name}_${seen}`, frame });
  };

  const dataFrame = (bound: Map<string, Value>, pos: Pos): DataFrame => {
    const table = str(bound.get('table') ?? null, 'table', pos);
    const relation = relationOf(table);
    if (relation === undefined) {
      return failAnalysis(`Table '${table}' not found.`, pos);
    }
    const timeArg = (key: string): bigint | undefined => {
      const v = bound.get(key) ?? null;
      if (v === null) {return undefined;}
      if (typeof v !== 'string' && typeof v !== 'bigint') {return fail(`${key} must be a time string or integer ns, got ${describe(v)}`, pos);}
      if (mode === 'check' && v === '') {return undefined;}
      try {
        return parseTimeArg(v, tables.nowNs());
      } catch (error) {
        return fail(error instanceof Error ? error.message : String(error), pos);
      }
    };
    const start = timeArg('start_time');
    const end = timeArg('end_time');
    const select = bound.has('select') ? strList(bound.get('select') ?? null, 'select', pos) : [];
    let frame: DataFrame;
    if (mode === 'check') {
      frame = new DataFrame(new Map(relation.map((c) => [c.name, { type: c.type, semantic: c.semantic, values: [] }])), 0);
    } else {
      try {
        frame = tables.read(table, start, end);
      } catch (error) {
        return fail(error instanceof Error ? error.message : String(error), pos);
      }
    }
    if (select.length > 0) {
      frame = project(frame, select, pos);
    }
    return frame;
  };

  const project = (frame: DataFrame, cols: readonly string[], pos: Pos): DataFrame => {
    const columns = new Map<string, FrameColumn>();
    for (const name of cols) {
      const col = frame.columns.get(name) ?? failAnalysis(`Column '${name}' not found in parent dataframe`, pos);
      columns.set(name, col);
    }
    return new DataFrame(columns, frame.rows);
  };

  const groupAgg = (g: Grouped, kwargs: ReadonlyMap<string, Value>, pos: Pos): DataFrame => {
    const { frame, keys } = g;
    const specs: { out: string; col: FrameColumn; agg: AggregateName; type: DataTypeName }[] = [];
    for (const [out, spec] of kwargs) {
      if (!isObj(spec) || spec.t !== 'tuple' || (spec as { items: Value[] }).items.length !== 2) {
        fail(`agg argument '${out}' must be a tuple ('column', px.<aggregate>)`, pos);
      }
      const [colName, fn] = (spec as { items: Value[] }).items;
      const name = str(colName ?? null, `agg '${out}' column`, pos);
      if (!isObj(fn) || fn.t !== 'fn' || !(AGGREGATES as readonly string[]).includes((fn as { name: string }).name)) {
        fail(`agg '${out}': ${isObj(fn) && fn.t === 'fn' ? `px.${(fn as { name: string }).name} is not an aggregate supported here (min, max, count, sum, mean, any)` : 'expected px.<aggregate>'}`, pos);
      }
      const agg = (fn as { name: AggregateName }).name;
      const col = frame.columns.get(name) ?? failAnalysis(`Column '${name}' not found in parent dataframe`, pos);
      const type = aggregateType(agg, col.type);
      if (!(['BOOLEAN', 'INT64', 'UINT128', 'FLOAT64', 'STRING', 'TIME64NS'] as string[]).includes(type)) {failAnalysis(type, pos);}
      specs.push({ out, col, agg, type: type as DataTypeName });
    }
    const keyCols = keys.map((k) => frame.columns.get(k) ?? failAnalysis(`Column '${k}' not found in parent dataframe`, pos));
    const groups = new Map<string, number[]>();
    for (let r = 0; r < frame.rows; r++) {
      const key = keyCols.map((c) => cellKey(c.values[r] as Cell)).join('\u0000');
      const rows = groups.get(key);
      if (rows === undefined) {groups.set(key, [r]);}
      else {rows.push(r);}
    }
    const firsts = [...groups.values()];
    const columns = new Map<string, FrameColumn>();
    keys.forEach((k, idx) => {
      const c = keyCols[idx] as FrameColumn;
      columns.set(k, { type: c.type, semantic: c.semantic, values: firsts.map((rows) => c.values[rows[0] as number] as Cell) });
    });
    for (const spec of specs) {
      columns.set(spec.out, {
        type: spec.type,
        semantic: semanticOf(spec.agg, [spec.col.semantic]),
        values: firsts.map((rows) => aggregate(spec.agg, rows.map((r) => spec.col.values[r] as Cell))),
      });
    }
    return new DataFrame(columns, firsts.length);
  };

  const merge = (left: DataFrame, bound: Map<string, Value>, pos: Pos): DataFrame => {
    const right = bound.get('right');
    if (!(right instanceof DataFrame)) {return fail('merge: right must be a DataFrame', pos);}
    const how = str(bound.get('how') ?? 'inner', 'how', pos);
    if (how !== 'inner' && how !== 'left') {return fail(`merge how='${how}' is valid PxL but not supported by the local Vizier (inner, left)`, pos);}
    const leftOn = strList(bound.get('left_on') ?? null, 'left_on', pos);
    const rightOn = strList(bound.get('right_on') ?? null, 'right_on', pos);
    if (leftOn.length !== rightOn.length) {fail('merge: left_on and right_on must have the same length', pos);}
    const suffixes = bound.has('suffixes') ? strList(bound.get('suffixes') ?? null, 'suffixes', pos) : ['_x', '_y'];
    const lk = leftOn.map((c) => left.columns.get(c) ?? failAnalysis(`Column '${c}' not found in parent dataframe`, pos));
    const rk = rightOn.map((c) => right.columns.get(c) ?? failAnalysis(`Column '${c}' not found in parent dataframe`, pos));
    lk.forEach((c, idx) => {
      if (c.type !== rk[idx]?.type) {failAnalysis(`merge: key types differ (${leftOn[idx] ?? ''} ${c.type}, ${rightOn[idx] ?? ''} ${rk[idx]?.type ?? ''})`, pos);}
    });
    const index = new Map<string, number[]>();
    for (let r = 0; r < right.rows; r++) {
      const key = rk.map((c) => cellKey(c.values[r] as Cell)).join('\u0000');
      const rows = index.get(key);
      if (rows === undefined) {index.set(key, [r]);}
      else {rows.push(r);}
    }
    const pairs: [number, number | undefined][] = [];
    for (let r = 0; r < left.rows; r++) {
      const key = lk.map((c) => cellKey(c.values[r] as Cell)).join('\u0000');
      const matches = index.get(key);
      if (matches === undefined) {
        if (how === 'left') {pairs.push([r, undefined]);}
      } else {
        for (const m of matches) {pairs.push([r, m]);}
      }
    }
    const columns = new Map<string, FrameColumn>();
    const both = new Set([...left.columns.keys()].filter((k) => right.columns.has(k)));
    for (const [name, col] of left.columns) {
      const out = both.has(name) ? `${name}${suffixes[0] ?? '_x'}` : name;
      columns.set(out, { type: col.type, semantic: col.semantic, values: pairs.map(([l]) => col.values[l] as Cell) });
    }
    for (const [name, col] of right.columns) {
      const out = both.has(name) ? `${name}${suffixes[1] ?? '_y'}` : name;
      if (columns.has(out)) {fail(`merge: output column '${out}' appears twice; choose other suffixes`, pos);}
      columns.set(out, { type: col.type, semantic: col.semantic, values: pairs.map(([, r]) => (r === undefined ? zeroOf(col.type) : (col.values[r] as Cell))) });
    }
    return new DataFrame(columns, pairs.length);
  };

  const callMethod = (self: DataFrame | Grouped, name: string, args: Value[], kwargs: Map<string, Value>, pos: Pos): Value | Grouped => {
    if (isGrouped(self)) {
      if (name !== 'agg') {return fail(`groupby(...).${name} is not supported (use agg)`, pos);}
      if (args.length > 0) {fail('agg takes keyword arguments only: out=(column, px.<aggregate>)', pos);}
      return groupAgg(self, kwargs, pos);
    }
    switch (name) {
      case 'groupby': {
        const b = bindArgs(['by'], 1, args, kwargs, 'groupby', pos);
        const keys = strList(b.get('by') ?? null, 'groupby by', pos);
        keys.forEach((k) => column(self, k, pos));
        return { t: 'grouped', frame: self, keys };
      }
      case 'agg':
        if (kwargs.size === 0) {fail('agg() without a groupby needs at least one aggregate', pos);}
        return groupAgg({ t: 'grouped', frame: self, keys: [] }, kwargs, pos);
      case 'merge':
        return merge(self, bindArgs(['right', 'how', 'left_on', 'right_on', 'suffixes'], 1, args, kwargs, 'merge', pos), pos);
      case 'drop': {
        const b = bindArgs(['columns'], 1, args, kwargs, 'drop', pos);
        const drop = strList(b.get('columns') ?? null, 'drop columns', pos);
        drop.forEach((c) => column(self, c, pos));
        return project(self, [...self.columns.keys()].filter((c) => !drop.includes(c)), pos);
      }
      case 'head': {
        const b = bindArgs(['n'], 0, args, kwargs, 'head', pos);
        const n = b.get('n') ?? 5n;
        if (typeof n !== 'bigint') {return fail('head(n) takes an int', pos);}
        return self.take([...Array(Math.min(self.rows, Number(n))).keys()]);
      }
      case 'append': {
        const b = bindArgs(['objs'], 1, args, kwargs, 'append', pos);
        const others = b.get('objs');
        const list = others instanceof DataFrame ? [others] : isObj(others) && (others.t === 'list' || others.t === 'tuple') ? (others as { items: Value[] }).items : [];
        let rows = self.rows;
        const columns = new Map<string, FrameColumn>([...self.columns].map(([k, c]) => [k, { ...c, values: [...c.values] }]));
        for (const other of list) {
          if (!(other instanceof DataFrame)) {return fail('append takes DataFrames', pos);}
          const same = other.columns.size === self.columns.size && [...self.columns].every(([k, c]) => other.columns.get(k)?.type === c.type);
          if (!same) {failAnalysis('append: the DataFrames must have the same columns and types', pos);}
          for (const [k, c] of columns) {c.values.push(...(other.columns.get(k)?.values ?? []));}
          rows += other.rows;
        }
        return new DataFrame(columns, rows);
      }
      case 'filter': {
        const b = bindArgs(['expr'], 1, args, kwargs, 'filter', pos);
        return filter(self, b.get('expr') ?? null, pos);
      }
      default:
        return fail(`DataFrame.${name} is valid PxL but not supported by the local Vizier`, pos);
    }
  };

  const filter = (frame: DataFrame, cond: Value, pos: Pos): DataFrame => {
    const g = valuesFor(cond, frame, pos);
    if (g.type !== 'BOOLEAN') {failAnalysis(`filter expression must be BOOLEAN, got ${g.type}`, pos);}
    const keep: number[] = [];
    for (let r = 0; r < frame.rows; r++) {if (g.at(r) === true) {keep.push(r);}}
    return frame.take(keep);
  };

  const callPx = (module: string, name: string, args: Value[], kwargs: Map<string, Value>, pos: Pos): Value => {
    if (module === 'pxtrace') {
      if (name === 'kprobe') {
        bindArgs([], 0, args, kwargs, 'pxtrace.kprobe', pos);
        return { t: 'target', kind: 'kprobe' };
      }
      if (name === 'UpsertTracepoint') {
        const b = bindArgs(['name', 'table_name', 'probe_fn', 'target', 'ttl'], 5, args, kwargs, 'pxtrace.UpsertTracepoint', pos);
        const tpName = str(b.get('name') ?? null, 'name', pos);
        const table = str(b.get('table_name') ?? null, 'table_name', pos);
        const variants = probeVariants(b.get('probe_fn') ?? null);
        if (typeof variants === 'string') {return fail(variants, pos);}
        const program = variants[0]?.program ?? '';
        const target = b.get('target') ?? null;
        if (!isObj(target) || target.t !== 'target') {return fail('target: only pxtrace.kprobe() is supported by the local Vizier', pos);}
        const ttlText = str(b.get('ttl') ?? null, 'ttl', pos);
        const ttlNs = parseDurationNs(ttlText) ?? fail(`ttl ${JSON.stringify(ttlText)} is not a duration like '10m'`, pos);
        let out;
        try {
          out = programOutput(program);
          // The local Vizier serves one schema per table: every variant must print the same columns.
          for (const v of variants.slice(1)) {
            if (programOutput(v.program).format !== out.format) {fail(`tracepoint '${tpName}': its TraceProgram variants print different formats; the local Vizier needs one table schema`, pos);}
          }
        } catch (error) {
          if (error instanceof PxlError) {throw error;}
          return fail(error instanceof BpftraceProgramError ? error.message : String(error), pos);
        }
        const timeCol = out.columns.find((c) => c.name === 'time_');
        if (timeCol !== undefined && timeCol.type !== 'TIME64NS') {fail('time_ must be an integer type', pos);}
        const columns = out.columns.map((c) => ({ name: c.name, type: c.type, semantic: ST_NONE }));
        const previous = tracepoints.get(tpName);
        if (previous !== undefined && (previous.table !== table || JSON.stringify(previous.variants) !== JSON.stringify(variants))) {fail(`tracepoint '${tpName}' upserted twice with different definitions`, pos);}
        tracepoints.set(tpName, { name: tpName, table, program, variants, ttlNs, columns, pos });
        return null;
      }
      if (name === 'TraceProgram') {
        if (args.length > 1) {fail('pxtrace.TraceProgram() takes one positional argument (program); selectors are keywords', pos);}
        const made = traceProgram(args[0] ?? kwargs.get('program') ?? null, kwargs);
        return typeof made === 'string' ? fail(made, pos) : made;
      }
      return fail(`pxtrace.${name} is valid PxL but not supported by the local Vizier`, pos);
    }
    if (module === 'pxconfig') {return fail(`pxconfig.${name} is valid PxL but not supported by the local Vizier`, pos);}
    switch (name) {
      case 'DataFrame':
        return dataFrame(bindArgs(['table', 'select', 'start_time', 'end_time'], 1, args, kwargs, 'px.DataFrame', pos), pos);
      case 'display': {
        const b = bindArgs(['out', 'name', 'cols'], 1, args, kwargs, 'px.display', pos);
        const frame = b.get('out');
        if (!(frame instanceof DataFrame)) {return fail(`px.display takes a DataFrame, got ${describe(frame ?? null)}`, pos);}
        const outName = str(b.get('name') ?? 'output', 'name', pos);
        // Pixie ignores px.display when exec_funcs choose the outputs.
        if (!execMode) {output(outName, frame);}
        return null;
      }
      case 'now':
        bindArgs([], 0, args, kwargs, 'px.now', pos);
        return tables.nowNs();
      case 'GetTracepointStatus': {
        bindArgs([], 0, args, kwargs, 'px.GetTracepointStatus', pos);
        const status = options.tracepointStatus;
        if (status === undefined) {
          return fail('px.GetTracepointStatus is valid PxL but only supported by the live local Vizier', pos);
        }
        const rows = mode === 'check' ? [] : status();
        const states = ['UNKNOWN_STATE', 'PENDING_STATE', 'RUNNING_STATE', 'FAILED_STATE', 'TERMINATED_STATE'];
        const col = (values: Cell[]): FrameColumn => ({ type: 'STRING', semantic: ST_NONE, values });
        return new DataFrame(
          new Map([
            ['tracepoint_id', col(rows.map((r) => r.id))],
            ['name', col(rows.map((r) => r.name))],
            ['state', col(rows.map((r) => states[r.state] ?? 'UNKNOWN_STATE'))],
            ['status', col(rows.map((r) => r.status))],
            ['output_tables', col(rows.map((r) => JSON.stringify([r.table])))],
          ]),
          rows.length,
        );
      }
      case 'GetAgentStatus': {
        const b = bindArgs(['include_kelvin'], 0, args, kwargs, 'px.GetAgentStatus', pos);
        const include = b.get('include_kelvin') ?? true;
        if (typeof include !== 'boolean') {return fail(`include_kelvin must be a bool, got ${describe(include)}`, pos);}
        return agentStatusFrame(mode === 'check' ? [] : (options.agentStatus?.(include) ?? []));
      }
      default:
        break;
    }
    const duration = DURATION_FNS[name];
    if (duration !== undefined) {
      const b = bindArgs(['n'], 1, args, kwargs, `px.${name}`, pos);
      const n = b.get('n');
      return typeof n === 'bigint' ? n * duration : fail(`px.${name} takes an int`, pos);
    }
    const udf = SCALAR_FNS[name];
    if (udf === undefined) {return fail(`px.${name} is valid PxL but not supported by the local Vizier`, pos);}
    if (kwargs.size > 0) {fail(`px.${name} takes positional arguments only`, pos);}
    if (args.length !== udf.arity) {fail(`px.${name} takes ${udf.arity} arguments (${args.length} given)`, pos);}
    return elementwise(
      args,
      pos,
      (types) => {
        types.forEach((t, idx) => {
          const want = udf.argTypes[idx];
          if (want !== 'ANY' && want !== t && !(want === 'INT64' && t === 'TIME64NS')) {failAnalysis(`px.${name}: argument ${idx + 1} must be ${want ?? '?'}, got ${t}`, pos);}
        });
        if (name === 'select' && types[1] !== types[2]) {failAnalysis(`px.select: both branches must have the same type (${types[1] ?? ''}, ${types[2] ?? ''})`, pos);}
        return udf.out(types);
      },
      (cells) => udf.fn(cells, md),
      (semantics) => semanticOf(name, semantics),
    );
  };

  const evalExpr = (e: Expr, scope: Map<string, Value>): Value | Grouped => {
    switch (e.k) {
      case 'str':
      case 'int':
      case 'float':
      case 'const':
        return e.value;
      case 'name': {
        const v = scope.get(e.id) ?? globals.get(e.id);
        if (v !== undefined) {return v;}
        if (scope.has(e.id) || globals.has(e.id)) {return null;}
        return fail(`name '${e.id}' is not defined`, e.pos);
      }
      case 'list':
      case 'tuple':
        return { t: e.k, items: e.items.map((x) => value(x, scope)) };
      case 'dict': {
        const map = new Map<string, Value>();
        for (const [k, v] of e.entries) {map.set(str(value(k, scope), 'dict key', k.pos), value(v, scope));}
        return { t: 'dict', map };
      }
      case 'attr': {
        if (e.obj.k === 'name' && (e.obj.id === 'px' || e.obj.id === 'pxtrace' || e.obj.id === 'pxconfig') && !scope.has(e.obj.id) && !globals.has(e.obj.id)) {
          return fail(`name '${e.obj.id}' is not defined (missing import ${e.obj.id})`, e.obj.pos);
        }
        const obj = evalExpr(e.obj, scope);
        if (isPoison(obj)) {return POISON;}
        if (isObj(obj) && obj.t === 'module') {
          const module = (obj as { name: string }).name;
          if (!names.has(`${module}.${e.name}`)) {return fail(`'${module}' object has no attribute '${e.name}'`, e.namePos);}
          return { t: 'fn', module, name: e.name };
        }
        if (obj instanceof DataFrame) {
          if (e.name === 'ctx') {return { t: 'ctx', frame: obj };}
          if (obj.columns.has(e.name)) {return column(obj, e.name, e.pos);}
          if (['groupby', 'agg', 'merge', 'drop', 'head', 'append', 'filter', 'rolling', 'stream'].includes(e.name)) {return { t: 'method', self: obj, name: e.name };}
          return column(obj, e.name, e.pos);
        }
        if (isGrouped(obj) && e.name === 'agg') {return { t: 'method', self: obj, name: 'agg' };}
        return fail(`${describe(obj)} has no attribute '${e.name}'`, e.namePos);
      }
      case 'index': {
        const obj = value(e.obj, scope);
        const idx = value(e.index, scope);
        if (isPoison(obj) || isPoison(idx)) {return POISON;}
        if (isObj(obj) && obj.t === 'ctx') {
          const key = str(idx, 'ctx key', e.index.pos);
          const frame = (obj as { frame: DataFrame }).frame;
          const fn = CTX_KEYS[key] ?? fail(`ctx['${key}'] is valid PxL but not supported by the local Vizier`, e.index.pos);
          const upid = frame.columns.has('upid') ? column(frame, 'upid', e.pos) : fail(`ctx['${key}'] needs a 'upid' column in the DataFrame`, e.pos);
          return callPx('px', fn, [upid], new Map(), e.pos);
        }
        if (obj instanceof DataFrame) {
          if (typeof idx === 'string') {return column(obj, idx, e.index.pos);}
          if (isObj(idx) && idx.t === 'list') {return project(obj, strList(idx, 'column selection', e.index.pos), e.index.pos);}
          return filter(obj, idx, e.index.pos);
        }
        if (isObj(obj) && (obj.t === 'list' || obj.t === 'tuple') && typeof idx === 'bigint') {
          const items = (obj as { items: Value[] }).items;
          const i = Number(idx < 0n ? BigInt(items.length) + idx : idx);
          return i >= 0 && i < items.length ? (items[i] as Value) : fail('index out of range', e.pos);
        }
        if (isObj(obj) && obj.t === 'dict') {return (obj as { map: Map<string, Value> }).map.get(str(idx, 'dict key', e.pos)) ?? fail('key not in dict', e.pos);}
        return fail(`${describe(obj)} is not subscriptable`, e.pos);
      }
      case 'call':
        return call(e, scope);
      case 'unary': {
        const v = value(e.operand, scope);
        if (e.op === '+' || isPoison(v)) {return v;}
        if (e.op === 'not') {return elementwise([v], e.pos, (t) => (t[0] === 'BOOLEAN' ? 'BOOLEAN' : fail(`not takes BOOLEAN, got ${t[0] ?? ''}`, e.pos)), (c) => c[0] !== true);}
        if (e.op === '-') {return elementwise([v], e.pos, (t) => (NUMERIC.has(t[0] as DataTypeName) ? (t[0] as DataTypeName) : fail(`unary - takes a number, got ${t[0] ?? ''}`, e.pos)), (c) => (typeof c[0] === 'bigint' ? -c[0] : -(c[0] as number)));}
        return fail(`unsupported PxL construct: operator ${e.op}`, e.pos);
      }
      case 'bin': {
        const l = value(e.left, scope);
        const r = value(e.right, scope);
        if (isPoison(l) || isPoison(r)) {return POISON;}
        if (!(l instanceof Series) && !(r instanceof Series)) {
          if (typeof l === 'string' && typeof r === 'string' && e.op === '+') {return l + r;}
          if (isObj(l) && l.t === 'list' && isObj(r) && r.t === 'list' && e.op === '+') {return { t: 'list', items: [...(l as { items: Value[] }).items, ...(r as { items: Value[] }).items] };}
        }
        let out: DataTypeName = 'BOOLEAN';
        return elementwise(
          [l, r],
          e.pos,
          (t) => {
            out = binaryType(e.op, t[0] as DataTypeName, t[1] as DataTypeName) ?? failAnalysis(`no operator ${e.op} for ${t[0] ?? ''} and ${t[1] ?? ''}`, e.pos);
            return out;
          },
          (c) => applyBinary(e.op, c[0] as Cell, c[1] as Cell, out),
          (semantics) => semanticOf(OPERATOR_UDFS[e.op] ?? '', semantics),
        );
      }
    }
  };

  const value = (e: Expr, scope: Map<string, Value>): Value => {
    const v = evalExpr(e, scope);
    return isGrouped(v) ? fail('a groupby result must be followed by .agg(...)', e.pos) : v;
  };

  const call = (e: Extract<Expr, { k: 'call' }>, scope: Map<string, Value>): Value | Grouped => {
    const fn = evalExpr(e.fn, scope);
    const args = e.args.map((a) => value(a, scope));
    const kwargs = new Map<string, Value>();
    for (const kw of e.kwargs) {
      if (kwargs.has(kw.name)) {fail(`keyword argument repeated: ${kw.name}`, kw.pos);}
      kwargs.set(kw.name, value(kw.value, scope));
    }
    if (isPoison(fn) || args.some(isPoison) || [...kwargs.values()].some(isPoison)) {return POISON;}
    if (isObj(fn) && fn.t === 'fn') {return callPx((fn as { module: string }).module, (fn as { name: string }).name, args, kwargs, e.pos);}
    if (isObj(fn) && fn.t === 'method') {return callMethod((fn as { self: DataFrame | Grouped }).self, (fn as { name: string }).name, args, kwargs, e.pos);}
    if (isObj(fn) && fn.t === 'def') {
      const def = (fn as { stmt: Extract<Stmt, { k: 'def' }> }).stmt;
      const b = bindArgs(def.params.map((p) => p.name), def.params.filter((p) => p.default === undefined).length, args, kwargs, def.name, e.pos);
      return invoke(def, b);
    }
    return fail(`${describe(fn)} is not callable`, e.pos);
  };

  const invoke = (def: Extract<Stmt, { k: 'def' }>, bound: Map<string, Value>): Value => {
    const scope = new Map<string, Value>();
    for (const p of def.params) {
      scope.set(p.name, bound.has(p.name) ? (bound.get(p.name) ?? null) : p.default === undefined ? null : value(p.default, globals));
    }
    try {
      run(def.body, scope);
    } catch (signal) {
      if (signal instanceof Return) {return signal.value;}
      throw signal;
    }
    return null;
  };

  const assign = (target: Expr, v: Value, scope: Map<string, Value>, pos: Pos): void => {
    if (target.k === 'name') {
      scope.set(target.id, v);
      return;
    }
    if (target.k === 'attr' || target.k === 'index') {
      const frame = value(target.obj, scope);
      if (isPoison(frame) || isPoison(v)) {return;}
      if (!(frame instanceof DataFrame)) {return fail(`cannot assign into ${describe(frame)}`, pos);}
      const name = target.k === 'attr' ? target.name : str(value(target.index, scope), 'column name', target.index.pos);
      const g = valuesFor(v, frame, pos);
      const values: Cell[] = new Array<Cell>(frame.rows);
      for (let r = 0; r < frame.rows; r++) {values[r] = g.at(r);}
      frame.columns.set(name, { type: g.type, semantic: g.semantic, values });
      return;
    }
    fail('unsupported assignment target', pos);
  };

  const run = (body: readonly Stmt[], scope: Map<string, Value>): void => {
    for (const s of body) {
      try {
        statement(s, scope);
      } catch (error) {
        // Compile pass: note the analyzer-stage error and walk on (see AnalysisError).
        if (mode !== 'check' || !(error instanceof AnalysisError)) {throw error;}
        analysisError ??= error;
        if (s.k === 'assign' && s.target.k === 'name') {scope.set(s.target.id, POISON);}
        if (s.k === 'return') {throw new Return(POISON);}
      }
    }
  };

  const statement = (s: Stmt, scope: Map<string, Value>): void => {
    switch (s.k) {
      case 'pass':
        break;
      case 'import':
        if (!['px', 'pxtrace', 'pxconfig'].includes(s.module)) {fail(`No module named '${s.module}'`, s.pos);}
        imported.add(s.module);
        scope.set(s.module, { t: 'module', name: s.module });
        break;
      case 'def':
        for (const p of s.params) {
          if (p.type !== undefined && !(PARAM_TYPES as readonly string[]).includes(p.type)) {fail(`parameter type '${p.type}' is not supported (str, int, float, bool, px.Time)`, p.pos);}
        }
        scope.set(s.name, { t: 'def', stmt: s });
        break;
      case 'return':
        if (scope === globals) {fail("'return' outside function", s.pos);}
        throw new Return(s.value === undefined ? null : value(s.value, scope));
      case 'assign':
        assign(s.target, value(s.value, scope), scope, s.pos);
        break;
      case 'expr':
        value(s.expr, scope);
        break;
    }
  };

  /** An exec_funcs ArgValue parsed into the parameter's annotated type. */
  const parseArg = (param: Param, text: string, fnName: string): Value => {
    const pos = param.pos;
    switch (param.type) {
      case 'int':
        return /^-?\d+$/.test(text.trim()) ? BigInt(text.trim()) : fail(`${fnName}: argument '${param.name}' must be an int, got ${JSON.stringify(text)}`, pos);
      case 'float': {
        const n = Number(text);
        return text.trim() !== '' && Number.isFinite(n) ? n : fail(`${fnName}: argument '${param.name}' must be a float, got ${JSON.stringify(text)}`, pos);
      }
      case 'bool':
        return text === 'true' || text === 'True' ? true : text === 'false' || text === 'False' ? false : fail(`${fnName}: argument '${param.name}' must be a bool`, pos);
      default:
        return text;
    }
  };

  run(program, globals);
  const usesPxtrace = imported.has('pxtrace');

  for (const f of options.execFuncs) {
    const fn = globals.get(f.funcName);
    if (!isObj(fn) || fn.t !== 'def') {
      fail(`Function '${f.funcName}' not found in the script`, { line: 1, column: 1 });
    }
    const def = (fn as { stmt: Extract<Stmt, { k: 'def' }> }).stmt;
    const bound = new Map<string, Value>();
    for (const a of f.args) {
      const param = def.params.find((p) => p.name === a.name) ?? fail(`${f.funcName}: unexpected argument '${a.name}'`, def.pos);
      if (bound.has(a.name)) {fail(`${f.funcName}: argument '${a.name}' given twice`, def.pos);}
      bound.set(a.name, parseArg(param, a.value, f.funcName));
    }
    for (const p of def.params) {
      if (!bound.has(p.name) && p.default === undefined) {fail(`${f.funcName}: missing argument '${p.name}'`, def.pos);}
    }
    const result = invoke(def, bound);
    if (isPoison(result)) {
      continue;
    }
    if (result instanceof DataFrame) {
      output(f.outputTablePrefix, result);
    } else if (isObj(result) && (result.t === 'list' || result.t === 'tuple')) {
      (result as { items: Value[] }).items.forEach((item, idx) => {
        if (!(item instanceof DataFrame)) {fail(`${f.funcName} must return DataFrames`, def.pos);}
        output(`${f.outputTablePrefix}[${idx}]`, item as DataFrame);
      });
    } else {
      fail(`${f.funcName} must return a DataFrame (or a list of them) to be used in exec_funcs, got ${describe(result)}`, def.pos);
    }
  }
  if (analysisError !== undefined && options.analyze !== false) {
    throw analysisError;
  }
  return { outputs, tracepoints: [...tracepoints.values()], usesPxtrace };
};

/** Placeholder exec_funcs for checking every function of a script without arguments. */
export const checkFuncs = (program: readonly Stmt[]): ExecFunc[] =>
  program.flatMap((s) => (s.k === 'def' ? [{ funcName: s.name, outputTablePrefix: s.name, args: s.params.filter((p) => p.default === undefined).map((p) => ({ name: p.name, value: p.type === 'int' ? '0' : p.type === 'float' ? '0' : p.type === 'bool' ? 'false' : '' })) }] : []));
