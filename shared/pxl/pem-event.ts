/**
 * A model of how Pixie's PEM turns one bpftrace printf event into a table row, and of the event's
 * bytes themselves. Pure: no I/O.
 *
 * The event: bpftrace's code generation builds one struct per printf call, `{ i64 printf id, one
 * field per argument }`, memset to 0, integers promoted to 64 bits, a string a char array of its
 * size (`str()` 64, a literal its length + 1), laid out with LLVM's natural alignment (the BPF data
 * layout aligns i64 to 8, i8 arrays to 1), and sends it whole to the perf buffer
 * (pixie-io/bpftrace@460adf09 src/ast/passes/codegen_llvm.cpp createFormatStringCall: "perf event
 * output has: uint64_t id, vargs", `arg.offset = struct_layout->getElementOffset(i+1)`,
 * CREATE_MEMSET; resource_analyser.cpp: "Promote to 64-bit if it's not an aggregate type").
 *
 * The PEM: bpftrace hands Pixie's callback the raw struct (bpftrace.cpp perf_event_printer,
 * `printf_callback_(arg_data)`), and Pixie reads every event with the field offsets and types of
 * the program's FIRST printf (bpftrace_wrapper.cc OutputFields: `printf_args.front()`), whichever
 * printf sent it (pixie-io/pixie@44d42f1
 * src/stirling/source_connectors/dynamic_bpftrace/dynamic_bpftrace_connector.cc HandleEvent):
 * - an integer field is read unsigned at its size (8, 4, 2 or 1 bytes) and stored as INT64, so
 *   0xffffffffffffffff becomes -1;
 * - a `time_` integer becomes TIME64NS through `ConvertToRealTime` (bpftrace's `nsecs` is
 *   CLOCK_MONOTONIC; Pixie adds the wall-minus-monotonic offset it samples every 32 s,
 *   src/common/clock/clock_conversion.cc, interpolating between samples; the model uses one offset
 *   measured when the probe starts, as the lab does);
 * - a string field is `std::string(p, strnlen(p, size))`: cut at the first NUL and at the field size.
 *
 * Bytes past the end of an event (a first printf larger than the one that sent it) are read out of
 * bounds by the real PEM (undefined memory); the model reads them as 0.
 *
 * @module
 */
import type { ProgramOutput } from './bpftrace-program.ts';
import { columnsOfLayout, type DecodedColumn, type PrintfField, type PrintfLayout } from './printf-layout.ts';

/** A row as the PEM stores it: INT64 and TIME64NS (ns since the epoch) as bigint, STRING as string. */
export type PemRow = Readonly<Record<string, bigint | string>>;

/** A value of one printf argument: integers as bigint (any sign; stored in two's complement), strings as text. */
export type ArgumentValue = bigint | string;

export class PemEventError extends Error {
  override readonly name = 'PemEventError';
}

/** A field of a printf struct with its byte offset (from the start of the struct, the id included). */
export interface PlacedField {
  readonly field: PrintfField;
  readonly offset: number;
  readonly size: number;
}

/** A printf struct as LLVM lays it out: the id at 0, then the argument fields. */
export interface EventStruct {
  readonly fields: readonly PlacedField[];
  /** getTypeAllocSize: the end of the last field rounded up to the struct's alignment. */
  readonly size: number;
}

const ID_BYTES = 8;

const sizeOf = (field: PrintfField): number => (field.kind === 'int' ? field.bits / 8 : field.bytes);
/** BPF data layout (`e-m:e-p:64:64-i64:64-i128:128-n32:64-S128`): integers aligned to their size, i8 arrays to 1. */
const alignOf = (field: PrintfField): number => (field.kind === 'int' ? field.bits / 8 : 1);
const alignUp = (offset: number, align: number): number => Math.ceil(offset / align) * align;

/** The offsets of `layout`'s fields and the struct's size, by LLVM's struct layout rules. */
export const eventStruct = (layout: PrintfLayout): EventStruct => {
  let offset = ID_BYTES;
  let align = ID_BYTES;
  const fields = layout.fields.map((field): PlacedField => {
    if (field.kind === 'int' && ![8, 16, 32, 64].includes(field.bits)) {
      // dynamic_bpftrace_connector.cc ConvertFields: "contains invalid integer size".
      throw new PemEventError(`printf ${layout.printf}: a ${field.bits}-bit integer field; Pixie reads only 1, 2, 4 or 8-byte integers`);
    }
    offset = alignUp(offset, alignOf(field));
    const placed = { field, offset, size: sizeOf(field) };
    offset += placed.size;
    align = Math.max(align, alignOf(field));
    return placed;
  });
  return { fields, size: alignUp(offset, align) };
};

const encoder = new TextEncoder();
/** Pixie keeps a string's bytes as they are; a row here holds text, so invalid UTF-8 becomes U+FFFD. */
const decoder = new TextDecoder('utf-8');

/**
 * The bytes of one event of printf `layout` carrying `values` (one per argument, in order): what
 * bpftrace would have sent to the perf buffer. Integers must fit their field (two's complement);
 * a string must leave room for its NUL (a `str()` of size N holds at most N - 1 bytes, a literal
 * exactly its own length). Throws {@link PemEventError} otherwise: such a value cannot have come
 * from that printf.
 */
export const encodeEvent = (layout: PrintfLayout, values: readonly ArgumentValue[]): Uint8Array => {
  const struct = eventStruct(layout);
  if (values.length !== struct.fields.length) {
    throw new PemEventError(`printf ${layout.printf} has ${struct.fields.length} arguments, got ${values.length} values`);
  }
  const bytes = new Uint8Array(struct.size);
  const view = new DataView(bytes.buffer);
  // bpftrace's printf ids count from 0 (AsyncAction::printf is 0); Pixie never reads it.
  view.setBigUint64(0, BigInt(layout.printf - 1), true);
  struct.fields.forEach(({ field, offset, size }, i) => {
    const value = values[i];
    if (field.kind === 'int') {
      if (typeof value !== 'bigint' || BigInt.asIntN(field.bits, value) !== value && BigInt.asUintN(field.bits, value) !== value) {
        throw new PemEventError(`printf ${layout.printf} argument ${i + 1}: ${String(value)} is not a ${field.bits}-bit integer`);
      }
      const unsigned = BigInt.asUintN(field.bits, value);
      for (let b = 0; b < size; b += 1) {
        bytes[offset + b] = Number((unsigned >> BigInt(8 * b)) & 0xffn);
      }
      return;
    }
    if (typeof value !== 'string') {
      throw new PemEventError(`printf ${layout.printf} argument ${i + 1}: ${value} is not a string`);
    }
    const text = encoder.encode(value);
    if (text.length >= size || text.includes(0)) {
      throw new PemEventError(`printf ${layout.printf} argument ${i + 1}: a ${text.length}-byte string does not fit its ${size}-byte field with its NUL`);
    }
    bytes.set(text, offset);
  });
  return bytes;
};

const readUnsigned = (bytes: Uint8Array, offset: number, size: number): bigint => {
  let value = 0n;
  for (let b = size - 1; b >= 0; b -= 1) {
    value = (value << 8n) | BigInt(bytes[offset + b] ?? 0);
  }
  return value;
};

/** A decoder of one deployed program's events, fixed at deploy time as the PEM fixes its table. */
export interface PemDecoder {
  /** The table's columns (from the first printf). */
  readonly columns: readonly DecodedColumn[];
  /** One event's bytes to the row the PEM appends. */
  readonly decode: (event: Uint8Array) => PemRow;
}

/**
 * The PEM's decoder for a program: the columns and field offsets of its first printf (`layouts[0]`),
 * `time_` moved to wall-clock time by `clockOffsetNs` (wall minus CLOCK_MONOTONIC).
 */
export const pemDecoder = (output: ProgramOutput, layouts: readonly PrintfLayout[], clockOffsetNs: bigint): PemDecoder => {
  const first = layouts[0];
  if (first === undefined) {
    throw new PemEventError('bpftrace compiled no printf struct for this program');
  }
  const columns = columnsOfLayout(output, first);
  const struct = eventStruct(first);
  return {
    columns,
    decode: (event) => {
      const row: Record<string, bigint | string> = {};
      struct.fields.forEach(({ field, offset, size }, i) => {
        const column = columns[i];
        if (column === undefined) {
          return;
        }
        if (field.kind === 'chars') {
          const window = event.subarray(Math.min(offset, event.length), Math.min(offset + size, event.length));
          const nul = window.indexOf(0);
          row[column.name] = decoder.decode(nul === -1 ? window : window.subarray(0, nul));
          return;
        }
        const unsigned = readUnsigned(event, offset, size);
        row[column.name] = column.type === 'TIME64NS' ? BigInt.asIntN(64, unsigned + clockOffsetNs) : BigInt.asIntN(64, unsigned);
      });
      return row;
    },
  };
};
