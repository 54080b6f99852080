/**
 * The struct layouts of a bpftrace program's printfs, read from bpftrace's own dry-run output
 * (`bpftrace -d prog.bt` prints the LLVM IR, where each printf call has its argument struct
 * `%printf_t[.N] = type { i64, ... }`: the printf id, then one field per argument).
 *
 * Why it matters: Pixie's PEM receives each printf's raw struct without knowing which printf made
 * it and decodes **every** event with the field offsets and sizes of the program's **first** printf
 * (pixie-io/pixie `src/stirling/bpf_tools/bpftrace_wrapper.cc`, `dynamic_bpftrace_connector.cc`;
 * ../shared/pixie/api-facts.md, last section). A program whose printfs compile to different structs
 * gives garbage on a real cluster while its text output looks right. The column types come from the
 * argument types, not the printf conversion: integers (`i64`) INT64, char arrays STRING of at most
 * their size, `time_` TIME64NS.
 *
 * Pure: parses text, no I/O (dev/lab/bpftrace-dry-run.ts runs bpftrace).
 *
 * @module
 */
import { BpftraceProgramError, type ColumnType, type ProgramOutput } from './bpftrace-program.ts';

/** One field of a printf struct: a 64-bit integer or a char array of `bytes` bytes. */
export type PrintfField = { readonly kind: 'int'; readonly bits: number } | { readonly kind: 'chars'; readonly bytes: number };

/** The argument fields of one printf (the leading printf id left out), in argument order. */
export interface PrintfLayout {
  /** 1-based position of the printf among the program's printfs, in code generation order. */
  readonly printf: number;
  readonly fields: readonly PrintfField[];
}

/** A column of a deployed program's table as the PEM decodes it. */
export interface DecodedColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** For STRING columns: the field size; the value holds at most `maxBytes - 1` bytes before its NUL. */
  readonly maxBytes?: number;
}

const STRUCT_LINE = /^%printf_t(?:\.(\d+))? = type \{ (.*) \}$/;

const parseField = (text: string, line: string): PrintfField => {
  const int = /^i(\d+)$/.exec(text);
  if (int !== null) {
    return { kind: 'int', bits: Number(int[1]) };
  }
  const chars = /^\[(\d+) x i8\]$/.exec(text);
  if (chars !== null) {
    return { kind: 'chars', bytes: Number(chars[1]) };
  }
  throw new BpftraceProgramError(`unexpected printf struct field "${text}" in: ${line}`);
};

/**
 * The printf layouts in a `bpftrace -d` output, in code generation order (LLVM names the first
 * struct `%printf_t`, the next `%printf_t.0`, `%printf_t.1`, ...; the IR may print them in another
 * order). A program without printfs has none.
 */
export const parsePrintfLayouts = (dryRunOutput: string): PrintfLayout[] => {
  const found = new Map<number, PrintfField[]>();
  for (const line of dryRunOutput.split('\n')) {
    const match = STRUCT_LINE.exec(line.trim());
    if (match === null) {
      continue;
    }
    const order = match[1] === undefined ? 0 : Number(match[1]) + 1;
    const fields = (match[2] ?? '').split(', ').map((field) => parseField(field, line));
    // The first field is the printf id bpftrace adds in front of the arguments.
    found.set(order, fields.slice(1));
  }
  return [...found.entries()].sort(([a], [b]) => a - b).map(([, fields], i) => ({ printf: i + 1, fields }));
};

const describe = (field: PrintfField | undefined): string =>
  field === undefined ? 'nothing' : field.kind === 'int' ? `a ${field.bits}-bit integer` : `a ${field.bytes}-byte string`;

const sameField = (a: PrintfField | undefined, b: PrintfField | undefined): boolean =>
  a !== undefined && b !== undefined && a.kind === b.kind && (a.kind === 'int' ? a.bits === (b as typeof a).bits : a.bytes === (b as { bytes: number }).bytes);

/**
 * The table columns the PEM decodes from a program, checked the way a faithful deployment must:
 * every printf has the layout of the first, `time_` is an integer. Throws
 * {@link BpftraceProgramError} naming the first printf that differs and its first differing column.
 */
export const decodedColumns = (output: ProgramOutput, layouts: readonly PrintfLayout[]): DecodedColumn[] => {
  const first = layouts[0];
  if (first === undefined) {
    throw new BpftraceProgramError('bpftrace compiled no printf struct for this program');
  }
  if (first.fields.length !== output.columns.length) {
    throw new BpftraceProgramError(`the first printf has ${first.fields.length} arguments for ${output.columns.length} columns`);
  }
  for (const layout of layouts.slice(1)) {
    const differs = output.columns.findIndex((_column, i) => !sameField(layout.fields[i], first.fields[i]));
    if (differs !== -1 || layout.fields.length !== first.fields.length) {
      const index = differs === -1 ? output.columns.length : differs;
      const name = output.columns[index]?.name ?? `argument ${index + 1}`;
      throw new BpftraceProgramError(
        `printf ${layout.printf} of the program compiles to another struct than printf 1, which Pixie decodes every event with: ` +
          `column ${name} is ${describe(layout.fields[index])} there and ${describe(first.fields[index])} in printf 1`,
      );
    }
  }
  return columnsOfLayout(output, first);
};

/**
 * The columns the PEM makes of `layout`'s fields (the program's first printf), whatever the other
 * printfs compile to: names from the format, STRING for char arrays (of at most their size),
 * TIME64NS for an integer `time_`, INT64 for other integers (dynamic_bpftrace_connector.cc
 * ConvertFields).
 */
export const columnsOfLayout = (output: ProgramOutput, layout: PrintfLayout): DecodedColumn[] => {
  if (layout.fields.length !== output.columns.length) {
    throw new BpftraceProgramError(`printf ${layout.printf} has ${layout.fields.length} arguments for ${output.columns.length} columns`);
  }
  return output.columns.map((column, i) => {
    const field = layout.fields[i];
    if (field?.kind === 'chars') {
      if (column.name === 'time_') {
        throw new BpftraceProgramError('time_ must be an integer type');
      }
      return { name: column.name, type: 'STRING', maxBytes: field.bytes };
    }
    return { name: column.name, type: column.name === 'time_' ? 'TIME64NS' : 'INT64' };
  });
};
