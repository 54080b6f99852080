/**
 * The local Vizier's stand-in for Pixie's PxL compiler, until issue 10 brings a real one: a small
 * Python tokenizer and a scan for what decides the response shape.
 *
 * - `#px:set key=value` flags (max_output_rows_per_table, explain, analyze; others are errors);
 * - every `px.X` / `pxtrace.X` / `pxconfig.X` name must be in Pixie's documented list
 *   (pxl-names.txt), and its module imported;
 * - `px.DataFrame(table=...)` must name a dataset table or one a `pxtrace.UpsertTracepoint` declares;
 * - `px.display(df, name)` outputs (duplicate names get `_1`, `_2`, ...), or, with exec_funcs, the
 *   DataFrame each function returns, named by its output_table_prefix.
 * Each output is served from the dataset table of the same name if there is one (a recorded
 * result), else from the table the displayed DataFrame reads (followed through simple `x = y...`
 * assignments). DataFrame operations are NOT evaluated yet. Errors carry 1-based line and column.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

export interface CompileError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface OutputSpec {
  /** The table name the client sees. */
  readonly name: string;
  /** The dataset table whose rows are served. */
  readonly source: string;
}

export interface TracepointSpec {
  readonly name: string;
  readonly table: string;
  /** The bpftrace program, when known (a changed program is a new deployment). */
  readonly program?: string;
  readonly ttlNs?: bigint;
}

export interface Plan {
  readonly outputs: readonly OutputSpec[];
  readonly maxRowsPerTable: number;
  /** Tracepoints the script upserts (empty unless it imports pxtrace). */
  readonly tracepoints: readonly TracepointSpec[];
  readonly usesPxtrace: boolean;
}

export type CompileResult = { readonly ok: true; readonly plan: Plan } | { readonly ok: false; readonly errors: readonly CompileError[] };

export interface FuncToExecute {
  readonly funcName: string;
  readonly outputTablePrefix: string;
}

export const DEFAULT_MAX_ROWS_PER_TABLE = 10_000;

const PXL_NAMES: ReadonlySet<string> = new Set(
  readFileSync(new URL('./pxl-names.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#')),
);
const MODULES = ['px', 'pxtrace', 'pxconfig'] as const;

interface Token {
  readonly kind: 'name' | 'string' | 'number' | 'op' | 'newline';
  readonly text: string;
  /** Decoded value of a string literal. */
  readonly value: string;
  readonly line: number;
  readonly column: number;
}

class SyntaxProblem extends Error {
  readonly line: number;
  readonly column: number;
  constructor(message: string, line: number, column: number) {
    super(message);
    this.line = line;
    this.column = column;
  }
}

const OPENERS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };

/** Python-ish tokens with positions; comments dropped; newline tokens only at bracket depth 0. */
const tokenize = (source: string): Token[] => {
  const tokens: Token[] = [];
  const stack: { char: string; line: number; column: number }[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const push = (kind: Token['kind'], text: string, value: string, start: number, startLine: number, startLineStart: number): void => {
    tokens.push({ kind, text, value, line: startLine, column: start - startLineStart + 1 });
  };
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === '\n') {
      if (stack.length === 0) {
        push('newline', '\n', '', i, line, lineStart);
      }
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (ch === '#') {
      while (i < source.length && source[i] !== '\n') {
        i++;
      }
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\\') {
      i++;
      continue;
    }
    const prefix = /^[rRbBuUfF]{0,2}(['"])/.exec(source.slice(i, i + 4));
    if (prefix !== null) {
      const start = i;
      const startLine = line;
      const startLineStart = lineStart;
      const quote = prefix[1] as string;
      i += prefix[0].length - 1;
      const triple = source.startsWith(quote.repeat(3), i);
      const delimiter = triple ? quote.repeat(3) : quote;
      i += delimiter.length;
      let value = '';
      for (;;) {
        if (i >= source.length || (!triple && source[i] === '\n')) {
          throw new SyntaxProblem('EOL while scanning string literal', startLine, start - startLineStart + 1);
        }
        if (source.startsWith(delimiter, i)) {
          i += delimiter.length;
          break;
        }
        if (source[i] === '\\' && i + 1 < source.length) {
          value += source.charAt(i + 1);
          i += 2;
          continue;
        }
        if (source[i] === '\n') {
          line++;
          lineStart = i + 1;
        }
        value += source.charAt(i);
        i++;
      }
      push('string', source.slice(start, i), value, start, startLine, startLineStart);
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i, i + 256));
    if (name !== null) {
      push('name', name[0], name[0], i, line, lineStart);
      i += name[0].length;
      continue;
    }
    const number = /^\d[\d_]*(\.\d*)?([eE][-+]?\d+)?/.exec(source.slice(i, i + 64));
    if (number !== null) {
      push('number', number[0], number[0], i, line, lineStart);
      i += number[0].length;
      continue;
    }
    const op = /^(==|!=|<=|>=|\*\*|\/\/|->|[-+*/%<>=.,:;()[\]{}@~&|^!])/.exec(source.slice(i, i + 2));
    if (op === null) {
      throw new SyntaxProblem(`invalid character ${JSON.stringify(ch)}`, line, i - lineStart + 1);
    }
    const text = op[0];
    if (text in OPENERS) {
      stack.push({ char: text, line, column: i - lineStart + 1 });
    } else if (text === ')' || text === ']' || text === '}') {
      const open = stack.pop();
      if (open === undefined || OPENERS[open.char] !== text) {
        throw new SyntaxProblem(`unmatched '${text}'`, line, i - lineStart + 1);
      }
    }
    push('op', text, text, i, line, lineStart);
    i += text.length;
  }
  const unclosed = stack.pop();
  if (unclosed !== undefined) {
    throw new SyntaxProblem(`'${unclosed.char}' was never closed`, unclosed.line, unclosed.column);
  }
  push('newline', '', '', i, line, lineStart);
  return tokens;
};

/** Index just past the call whose '(' is at `open`; fills `args` with each top-level argument's tokens. */
const readCall = (tokens: readonly Token[], open: number, args: Token[][]): number => {
  let depth = 0;
  let current: Token[] = [];
  for (let j = open; j < tokens.length; j++) {
    const t = tokens[j] as Token;
    if (t.kind === 'op' && t.text in OPENERS) {
      depth++;
      if (depth === 1) {
        continue;
      }
    } else if (t.kind === 'op' && (t.text === ')' || t.text === ']' || t.text === '}')) {
      depth--;
      if (depth === 0) {
        if (current.length > 0) {
          args.push(current);
        }
        return j + 1;
      }
    } else if (depth === 1 && t.kind === 'op' && t.text === ',') {
      args.push(current);
      current = [];
      continue;
    }
    current.push(t);
  }
  return tokens.length;
};

/** The string value of argument `keyword=` or else of positional argument `position`. */
const stringArg = (args: readonly Token[][], position: number, keyword: string): Token | undefined => {
  for (const arg of args) {
    if (arg.length === 3 && arg[0]?.text === keyword && arg[1]?.text === '=' && arg[2]?.kind === 'string') {
      return arg[2];
    }
  }
  const positional = args.filter((a) => !(a.length >= 2 && a[0]?.kind === 'name' && a[1]?.text === '='));
  const arg = positional[position];
  return arg?.length === 1 && arg[0]?.kind === 'string' ? arg[0] : undefined;
};

/** `#px:set` flags of a script: the row cap, with errors for bad values and unknown keys. */
export const parseFlags = (source: string, errors: CompileError[]): number => {
  let maxRows = DEFAULT_MAX_ROWS_PER_TABLE;
  source.split('\n').forEach((text, index) => {
    const match = /^#px:set (\S+?)=(.*)$/.exec(text.trimEnd());
    if (match === null) {
      return;
    }
    const key = match[1] as string;
    const value = (match[2] as string).trim();
    const where = { line: index + 1, column: 1 };
    if (key === 'max_output_rows_per_table') {
      if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
        errors.push({ ...where, message: `max_output_rows_per_table must be a positive integer, got '${value}'` });
      } else {
        maxRows = Number(value);
      }
    } else if (key === 'explain' || key === 'analyze') {
      if (!/^(true|false)$/i.test(value)) {
        errors.push({ ...where, message: `${key} must be true or false, got '${value}'` });
      }
    } else {
      errors.push({ ...where, message: `Flag '${key}' not found` });
    }
  });
  return maxRows;
};

/**
 * Compiles `source` against the dataset's table names. `execFuncs` (non-empty) replaces
 * px.display outputs, as in Pixie.
 */
export const compileScript = (source: string, tableNames: ReadonlySet<string>, execFuncs: readonly FuncToExecute[] = []): CompileResult => {
  const errors: CompileError[] = [];
  const maxRowsPerTable = parseFlags(source, errors);
  let tokens: Token[];
  try {
    tokens = tokenize(source);
  } catch (error) {
    if (error instanceof SyntaxProblem) {
      return { ok: false, errors: [...errors, { line: error.line, column: error.column, message: error.message }] };
    }
    throw error;
  }

  const imported = new Set<string>();
  const tracepoints: TracepointSpec[] = [];
  const dataframes: { token: Token; table: string }[] = [];
  const displays: { name: Token | undefined; source: string | undefined; at: Token }[] = [];
  /** DataFrame variables and the table each reads. */
  const sources = new Map<string, string>();
  /** Function name -> table its `return` reads. */
  const returns = new Map<string, string | undefined>();
  let currentFunction: string | undefined;

  // Pass 1: imports, tracepoint tables (they make tables valid anywhere in the script).
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    if (t.kind === 'name' && (t.text === 'import' || t.text === 'from') && next?.kind === 'name') {
      imported.add(next.text);
    }
    if (t.text === 'pxtrace' && tokens[i + 1]?.text === '.' && tokens[i + 2]?.text === 'UpsertTracepoint' && tokens[i + 3]?.text === '(') {
      const args: Token[][] = [];
      readCall(tokens, i + 3, args);
      const name = stringArg(args, 0, 'name');
      const table = stringArg(args, 1, 'table_name');
      if (name !== undefined && table !== undefined) {
        tracepoints.push({ name: name.value, table: table.value });
      }
    }
  }
  const known = new Set([...tableNames, ...tracepoints.map((t) => t.table)]);

  /** The table read by an expression's tokens: a px.DataFrame call or a known DataFrame variable. */
  const sourceOf = (expr: readonly Token[]): string | undefined => {
    for (let j = 0; j < expr.length; j++) {
      const t = expr[j] as Token;
      if (t.text === 'px' && expr[j + 1]?.text === '.' && expr[j + 2]?.text === 'DataFrame' && expr[j + 3]?.text === '(') {
        const args: Token[][] = [];
        readCall(expr, j + 3, args);
        return stringArg(args, 0, 'table')?.value;
      }
      if (t.kind === 'name' && sources.has(t.text) && expr[j - 1]?.text !== '.') {
        return sources.get(t.text);
      }
    }
    return undefined;
  };

  // Pass 2: names, DataFrames, assignments, displays, returns, statement by statement.
  let statement: Token[] = [];
  for (const t of tokens) {
    if (t.kind !== 'newline') {
      statement.push(t);
      continue;
    }
    const s = statement;
    statement = [];
    if (s.length === 0) {
      continue;
    }
    const first = s[0] as Token;
    if (first.text === 'def' && s[1]?.kind === 'name') {
      currentFunction = s[1].text;
      returns.set(currentFunction, undefined);
    } else if (first.column === 1 && first.text !== 'def' && first.text !== '@') {
      currentFunction = undefined;
    }
    for (let j = 0; j < s.length; j++) {
      const t2 = s[j] as Token;
      const dot = s[j + 1];
      const attr = s[j + 2];
      const isModuleRef = t2.kind === 'name' && (MODULES as readonly string[]).includes(t2.text) && s[j - 1]?.text !== '.';
      if (isModuleRef && dot?.text === '.' && attr?.kind === 'name') {
        if (!imported.has(t2.text)) {
          errors.push({ line: t2.line, column: t2.column, message: `name '${t2.text}' is not defined` });
        } else if (!PXL_NAMES.has(`${t2.text}.${attr.text}`)) {
          errors.push({ line: attr.line, column: attr.column, message: `'${t2.text}' object has no attribute '${attr.text}'` });
        }
        if (t2.text === 'px' && attr.text === 'DataFrame' && s[j + 3]?.text === '(') {
          const args: Token[][] = [];
          readCall(s, j + 3, args);
          const table = stringArg(args, 0, 'table');
          if (table === undefined) {
            errors.push({ line: attr.line, column: attr.column, message: 'DataFrame needs a table name string' });
          } else {
            dataframes.push({ token: table, table: table.value });
          }
        }
        if (t2.text === 'px' && attr.text === 'display' && s[j + 3]?.text === '(') {
          const args: Token[][] = [];
          readCall(s, j + 3, args);
          displays.push({ name: stringArg(args, 1, 'name'), source: sourceOf(args[0] ?? []), at: t2 });
        }
      }
    }
    const assigned = first.kind === 'name' && s[1]?.text === '=' ? first.text : undefined;
    if (assigned !== undefined) {
      const table = sourceOf(s.slice(2));
      if (table === undefined) {
        sources.delete(assigned);
      } else {
        sources.set(assigned, table);
      }
    }
    if (first.text === 'return' && currentFunction !== undefined) {
      returns.set(currentFunction, sourceOf(s.slice(1)));
    }
  }

  for (const df of dataframes) {
    if (!known.has(df.table)) {
      errors.push({ line: df.token.line, column: df.token.column, message: `Table '${df.table}' not found.` });
    }
  }

  const outputs: OutputSpec[] = [];
  const used = new Map<string, number>();
  const addOutput = (name: string, source: string | undefined, at: { line: number; column: number }): void => {
    const count = used.get(name) ?? 0;
    used.set(name, count + 1);
    const unique = count === 0 ? name : `${name}_${count}`;
    const table = tableNames.has(unique) ? unique : source;
    if (table === undefined || !known.has(table)) {
      errors.push({ ...at, message: `cannot serve output '${unique}': no dataset table of that name and no known DataFrame source` });
      return;
    }
    outputs.push({ name: unique, source: table });
  };
  if (execFuncs.length > 0) {
    for (const func of execFuncs) {
      if (!returns.has(func.funcName)) {
        errors.push({ line: 1, column: 1, message: `Function '${func.funcName}' not found` });
        continue;
      }
      addOutput(func.outputTablePrefix === '' ? func.funcName : func.outputTablePrefix, returns.get(func.funcName), { line: 1, column: 1 });
    }
  } else {
    for (const display of displays) {
      addOutput(display.name?.value ?? 'output', display.source, display.at);
    }
  }

  if (errors.length > 0) {
    errors.sort((a, b) => a.line - b.line || a.column - b.column);
    return { ok: false, errors };
  }
  return { ok: true, plan: { outputs, maxRowsPerTable, tracepoints, usesPxtrace: imported.has('pxtrace') } };
};
