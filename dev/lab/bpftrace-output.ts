/**
 * bpftrace's JSON output (`bpftrace -f json`) turned into typed rows by Pixie's column rules. Each
 * printf arrives as one JSON line whose text is the formatted format string; the values are cut back
 * out with a pattern built from that format (integers as digits, strings as the shortest text up to
 * the next `name:` literal), so string values with spaces or newlines survive. Pure.
 *
 * @module
 */
import type { Column, ProgramOutput } from '../../shared/pxl/bpftrace-program.ts';

/** A typed row: INT64 and TIME64NS as bigint (TIME64NS in ns since the epoch), STRING as string. */
export type Row = Readonly<Record<string, bigint | string>>;

/** One line of bpftrace's JSON output, as far as the lab needs it. */
export type OutputEvent =
  | { readonly kind: 'attached'; readonly probes: number }
  | { readonly kind: 'printf'; readonly text: string }
  | { readonly kind: 'other'; readonly type: string };

export class BpftraceOutputError extends Error {
  override readonly name = 'BpftraceOutputError';
}

/** Parses one line of `bpftrace -f json` output. Throws on a line that is not bpftrace JSON. */
export const parseOutputLine = (line: string): OutputEvent => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new BpftraceOutputError(`not a bpftrace JSON line: ${line.slice(0, 200)}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || !('type' in parsed) || typeof parsed.type !== 'string') {
    throw new BpftraceOutputError(`bpftrace JSON line without a type: ${line.slice(0, 200)}`);
  }
  const data = 'data' in parsed ? parsed.data : undefined;
  if (parsed.type === 'attached_probes' && typeof data === 'object' && data !== null && 'probes' in data && typeof data.probes === 'number') {
    return { kind: 'attached', probes: data.probes };
  }
  if (parsed.type === 'printf' && typeof data === 'string') {
    return { kind: 'printf', text: data };
  }
  return { kind: 'other', type: parsed.type };
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** printf escapes bpftrace decodes in a format before formatting. */
const decodeFormatEscapes = (format: string): string =>
  format.replace(/\\([nt"\\])/g, (_m, ch: string) => (ch === 'n' ? '\n' : ch === 't' ? '\t' : ch)).replace(/%%/g, '%');

/** A parser for the printf text of one program's format. */
export const rowParser = (output: ProgramOutput, clockOffsetNs: bigint): ((text: string) => Row) => {
  const conversion = /%[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|j|z|t)?[diouxXcsp]/g;
  const columns: Column[] = [...output.columns];
  let index = 0;
  const pattern = output.format
    .split(conversion)
    .map((literal) => escapeRegExp(decodeFormatEscapes(literal)))
    .reduce((acc, literal, i) => {
      if (i === 0) {
        return literal;
      }
      const column = columns[index];
      index += 1;
      const value = column?.type === 'STRING' ? '([\\s\\S]*?)' : column?.conversion.endsWith('p') ? '(0x[0-9a-f]+|\\(nil\\))' : '(-?\\d+)';
      return `${acc}${value}${literal}`;
    }, '');
  const regex = new RegExp(`^${pattern}$`);
  return (text: string): Row => {
    const match = regex.exec(text);
    if (match === null) {
      throw new BpftraceOutputError(`printf output does not match the program's format: ${text.slice(0, 300)}`);
    }
    const row: Record<string, bigint | string> = {};
    columns.forEach((column, i) => {
      const raw = match[i + 1] ?? '';
      if (column.type === 'STRING') {
        row[column.name] = raw;
      } else if (column.type === 'TIME64NS') {
        // bpftrace's nsecs is CLOCK_MONOTONIC; Pixie converts time_ to wall-clock time.
        row[column.name] = BigInt(raw) + clockOffsetNs;
      } else {
        row[column.name] = raw.startsWith('0x') ? BigInt(raw) : raw === '(nil)' ? 0n : BigInt.asIntN(64, BigInt(raw));
      }
    });
    return row;
  };
};
