/**
 * Decoded columns: one typed array per column, no object per row.
 *
 * - INT64 and TIME64NS hold a `BigInt64Array` (exact). {@link Int64Column.number} and
 *   {@link Int64Column.numbers} give plain numbers and throw a RangeError for a value beyond
 *   ±2^53, so precision is never lost silently.
 * - FLOAT64 holds a `Float64Array`; BOOLEAN a `Uint8Array` of 0/1.
 * - STRING keeps the received bytes and the offsets of each value; values are decoded as UTF-8
 *   (invalid sequences become U+FFFD) when asked for, and the raw bytes stay available.
 * - UINT128 holds two `BigUint64Array`s, high and low; helpers read a UPID or Pixie's UUID string.
 *
 * @module
 */
import { DataType } from './data-type.ts';
import { LITTLE_ENDIAN, decodeUtf8 } from './wire.ts';
import { type Upid, uint128ToUuid, upidFromUint128 } from './uint128.ts';

const TWO_32 = 4_294_967_296;

const checkIndex = (index: number, length: number): void => {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`row ${index} is out of range (0..${length - 1})`);
  }
};

const unsafe = (value: bigint, row: number): RangeError =>
  new RangeError(`value ${value} at row ${row} is beyond ±2^53 and cannot be a safe number; read it as a bigint`);

/** BOOLEAN column: `values[i]` is 1 for true, 0 for false. */
export class BooleanColumn {
  readonly type = DataType.BOOLEAN;
  readonly values: Uint8Array;

  constructor(values: Uint8Array) {
    this.values = values;
  }

  get length(): number {
    return this.values.length;
  }

  get(row: number): boolean {
    checkIndex(row, this.values.length);
    return this.values[row] === 1;
  }
}

abstract class BigIntValues {
  /** Exact values (int64). */
  readonly values: BigInt64Array;

  constructor(values: BigInt64Array) {
    this.values = values;
  }

  get length(): number {
    return this.values.length;
  }

  get(row: number): bigint {
    checkIndex(row, this.values.length);
    return this.values[row] as bigint;
  }

  /** The value as a number; throws a RangeError beyond ±2^53 (never rounds silently). */
  number(row: number): number {
    const value = this.get(row);
    const out = Number(value);
    if (!Number.isSafeInteger(out)) {
      throw unsafe(value, row);
    }
    return out;
  }

  /** Every value as a number, in one Float64Array; throws a RangeError if any is beyond ±2^53. */
  numbers(): Float64Array {
    const n = this.values.length;
    const out = new Float64Array(n);
    if (LITTLE_ENDIAN) {
      const words = new Uint32Array(this.values.buffer, this.values.byteOffset, n * 2);
      for (let i = 0; i < n; i++) {
        const lo = words[2 * i] as number;
        const hi = words[2 * i + 1] as number;
        // Safe range: hi is 0..0x1fffff (positive) or 0xffe00000..0xffffffff (negative, not -2^53).
        if (hi <= 0x1fffff) {
          out[i] = hi * TWO_32 + lo;
        } else if (hi >= 0xffe00000 && !(hi === 0xffe00000 && lo === 0)) {
          out[i] = (hi - TWO_32) * TWO_32 + lo;
        } else {
          throw unsafe(this.values[i] as bigint, i);
        }
      }
      return out;
    }
    for (let i = 0; i < n; i++) {
      out[i] = this.number(i);
    }
    return out;
  }
}

/** INT64 column. */
export class Int64Column extends BigIntValues {
  readonly type = DataType.INT64;
}

/** TIME64NS column: int64 nanoseconds since the Unix epoch. */
export class Time64NSColumn extends BigIntValues {
  readonly type = DataType.TIME64NS;

  /** The time as a Date (millisecond precision). */
  date(row: number): Date {
    return new Date(Number(this.get(row) / 1_000_000n));
  }
}

/** FLOAT64 column. */
export class Float64Column {
  readonly type = DataType.FLOAT64;
  readonly values: Float64Array;

  constructor(values: Float64Array) {
    this.values = values;
  }

  get length(): number {
    return this.values.length;
  }

  get(row: number): number {
    checkIndex(row, this.values.length);
    return this.values[row] as number;
  }
}

/**
 * STRING column. Values stay as bytes in the received message until read: value `i` is
 * `bytes[starts[i] .. ends[i])`. Pixie sends string columns as protobuf `bytes`, so a value may be
 * invalid UTF-8: {@link get} replaces bad sequences with U+FFFD, {@link raw} gives the exact bytes.
 */
export class StringColumn {
  readonly type = DataType.STRING;
  readonly bytes: Uint8Array;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;

  constructor(bytes: Uint8Array, starts: Uint32Array, ends: Uint32Array) {
    this.bytes = bytes;
    this.starts = starts;
    this.ends = ends;
  }

  /** Builds a column from values (tests, local servers). */
  static from(values: readonly (string | Uint8Array)[]): StringColumn {
    const encoder = new TextEncoder();
    const parts = values.map((value) => (typeof value === 'string' ? encoder.encode(value) : value));
    const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    const starts = new Uint32Array(parts.length);
    const ends = new Uint32Array(parts.length);
    let offset = 0;
    parts.forEach((part, i) => {
      bytes.set(part, offset);
      starts[i] = offset;
      offset += part.length;
      ends[i] = offset;
    });
    return new StringColumn(bytes, starts, ends);
  }

  get length(): number {
    return this.starts.length;
  }

  /** The value decoded as UTF-8 (invalid sequences become U+FFFD). */
  get(row: number): string {
    checkIndex(row, this.starts.length);
    return decodeUtf8(this.bytes, this.starts[row] as number, this.ends[row] as number);
  }

  /** The exact bytes of the value (a view; copy it to keep it beyond the batch). */
  raw(row: number): Uint8Array {
    checkIndex(row, this.starts.length);
    return this.bytes.subarray(this.starts[row], this.ends[row]);
  }

  /** Every value decoded as UTF-8. */
  toArray(): string[] {
    const n = this.starts.length;
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      out[i] = decodeUtf8(this.bytes, this.starts[i] as number, this.ends[i] as number);
    }
    return out;
  }
}

/** UINT128 column (UPIDs, UUIDs): high and low 64-bit halves. */
export class UInt128Column {
  readonly type = DataType.UINT128;
  readonly high: BigUint64Array;
  readonly low: BigUint64Array;

  constructor(high: BigUint64Array, low: BigUint64Array) {
    this.high = high;
    this.low = low;
  }

  get length(): number {
    return this.high.length;
  }

  /** Pixie's UUID rendering: 16 big-endian bytes, high then low. */
  uuid(row: number): string {
    checkIndex(row, this.high.length);
    return uint128ToUuid(this.high[row] as bigint, this.low[row] as bigint);
  }

  /** The value read as a UPID {asid, pid, startTicks}. */
  upid(row: number): Upid {
    checkIndex(row, this.high.length);
    return upidFromUint128(this.high[row] as bigint, this.low[row] as bigint);
  }

  /** The value as one 128-bit bigint. */
  get(row: number): bigint {
    checkIndex(row, this.high.length);
    return ((this.high[row] as bigint) << 64n) | (this.low[row] as bigint);
  }
}

/** Any decoded column; narrow on `type` (a {@link DataType} number). */
export type Column = BooleanColumn | Int64Column | Time64NSColumn | Float64Column | StringColumn | UInt128Column;
