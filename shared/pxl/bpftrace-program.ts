/**
 * Pixie's rules for a bpftrace program deployed with `pxtrace.UpsertTracepoint`, applied to the
 * program text: every printf must use one and the same format string; that format defines the
 * table. Columns come from splitting the format on spaces: each token holding a `%` conversion is a
 * column named by the text before `:` (`Column_<i>` without a name); integers and pointers are
 * INT64, strings STRING, and a column named `time_` must be an integer and becomes TIME64NS.
 *
 * Pure: no I/O. Used by the script loader, the kernel lab and the local Vizier so that all of them
 * run exactly the program a script deploys and type its output the way Pixie does.
 *
 * @module
 */

export const COLUMN_TYPES = ['INT64', 'STRING', 'TIME64NS'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** The printf conversion as written, e.g. `%llu`. */
  readonly conversion: string;
}

/** A bpftrace program that breaks one of Pixie's rules, or text that is not a usable program. */
export class BpftraceProgramError extends Error {
  override readonly name = 'BpftraceProgramError';
}

/** A printf conversion: flags, width, precision, length modifier, conversion character. */
const CONVERSION = /%[-+ #0]*\d*(?:\.\d+)?(hh|h|ll|l|j|z|t)?([diouxXcsp])/;

const INTEGER_CONVERSIONS = new Set(['d', 'i', 'o', 'u', 'x', 'X', 'c', 'p']);

/**
 * The format strings of every `printf(...)` call in a bpftrace program, in order. Comments and
 * other string literals are skipped; escapes inside the format are kept as written.
 */
export const printfFormats = (program: string): string[] => printfCalls(program).map((call) => call.format);

/** Each `printf("...")` call: its format as written and where the format's text starts in `program`. */
const printfCalls = (program: string): { format: string; start: number }[] => {
  const calls: { format: string; start: number }[] = [];
  const code = blankComments(program);
  const call = /\bprintf\s*\(\s*"((?:[^"\\]|\\.)*)"/g;
  for (let match = call.exec(code); match !== null; match = call.exec(code)) {
    const format = match[1] ?? '';
    calls.push({ format, start: match.index + match[0].length - 1 - format.length });
  }
  return calls;
};

/**
 * `program` with each printf's format prefixed by `tag(n)` (n = 1, 2, ... in program order, the
 * order of bpftrace's printf ids). A format is user-space only: bpftrace's printf struct holds the
 * arguments, so the tagged program compiles to the same structs and sends the same events, and the
 * tag in its text tells which printf printed each (bpftrace's CLI prints no printf id).
 */
export const tagPrintfs = (program: string, tag: (printf: number) => string): string => {
  let out = program;
  printfCalls(program)
    .map((call, i) => ({ ...call, printf: i + 1 }))
    .reverse()
    .forEach((call) => {
      out = `${out.slice(0, call.start)}${tag(call.printf)}${out.slice(call.start)}`;
    });
  return out;
};

/** `program` with `//` and `/* *\/` comments outside string literals blanked (same length, newlines kept). */
const blankComments = (program: string): string => {
  let out = '';
  let i = 0;
  const blank = (text: string): string => text.replace(/[^\n]/g, ' ');
  while (i < program.length) {
    const ch = program.charAt(i);
    const next = program.charAt(i + 1);
    if (ch === '"') {
      const end = endOfString(program, i);
      out += program.slice(i, end);
      i = end;
    } else if (ch === '/' && next === '/') {
      const end = program.indexOf('\n', i);
      const stop = end === -1 ? program.length : end;
      out += blank(program.slice(i, stop));
      i = stop;
    } else if (ch === '/' && next === '*') {
      const end = program.indexOf('*/', i + 2);
      const stop = end === -1 ? program.length : end + 2;
      out += blank(program.slice(i, stop));
      i = stop;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
};

const endOfString = (text: string, start: number): number => {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') {
    i += text[i] === '\\' ? 2 : 1;
  }
  return Math.min(i + 1, text.length);
};

/** Columns defined by one printf format, by Pixie's rules. */
export const columnsOfFormat = (format: string): Column[] => {
  const columns: Column[] = [];
  const tokens = format.split(' ').filter((token) => token !== '');
  tokens.forEach((token) => {
    const conversion = CONVERSION.exec(token);
    if (conversion === null || !token.includes('%')) {
      return;
    }
    const colon = token.indexOf(':');
    const name = colon > 0 && colon < token.indexOf('%') ? token.slice(0, colon) : `Column_${columns.length}`;
    const integer = INTEGER_CONVERSIONS.has(conversion[2] ?? '');
    if (name === 'time_' && !integer) {
      throw new BpftraceProgramError('time_ must be an integer type');
    }
    const type: ColumnType = name === 'time_' ? 'TIME64NS' : integer ? 'INT64' : 'STRING';
    columns.push({ name, type, conversion: conversion[0] });
  });
  return columns;
};

export interface ProgramOutput {
  /** The single printf format string of the program. */
  readonly format: string;
  readonly columns: readonly Column[];
}

/**
 * The output table of a bpftrace program: its one printf format and the columns it defines.
 * Throws {@link BpftraceProgramError} with Pixie's wording when the program has no printf or more
 * than one format.
 */
export const programOutput = (program: string): ProgramOutput => {
  const formats = printfFormats(program);
  const first = formats[0];
  if (first === undefined) {
    throw new BpftraceProgramError('The BPFTrace program must contain at least one printf statement.');
  }
  if (formats.some((format) => format !== first)) {
    throw new BpftraceProgramError('All printf statements must have exactly the same format string.');
  }
  const columns = columnsOfFormat(first);
  const names = new Set<string>();
  for (const column of columns) {
    if (names.has(column.name)) {
      throw new BpftraceProgramError(`duplicate column name ${column.name}`);
    }
    names.add(column.name);
  }
  return { format: first, columns };
};
