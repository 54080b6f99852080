/**
 * The hot path: RowBatchData bytes to typed-array columns, with no object per row.
 *
 * Every column is decoded in two passes over its bytes: the first counts the values (so each
 * typed array is allocated once, at its final size), the second fills it. Repeated scalars are
 * accepted both packed (proto3's default) and unpacked, even mixed in one column, as protobuf
 * requires of a parser. int64 values are written as two 32-bit words into the BigInt64Array's
 * memory, so no bigint is created while decoding.
 *
 * @module
 */
import {
  BooleanColumn,
  type Column,
  Float64Column,
  Int64Column,
  StringColumn,
  Time64NSColumn,
  UInt128Column,
} from './columns.ts';
import type { RowBatch } from './types.ts';
import { LITTLE_ENDIAN, Reader, WireFormatError, WireType } from './wire.ts';

/** Counts the varints in a packed run: one terminating byte (< 0x80) per value. */
const countPackedVarints = (buf: Uint8Array, start: number, end: number): number => {
  let count = 0;
  for (let i = start; i < end; i++) {
    if ((buf[i] as number) < 0x80) {
      count++;
    }
  }
  return count;
};

/** First pass over a repeated field 1 of a column message: how many values it holds. */
const countValues = (reader: Reader, start: number, end: number, scalarWire: number): number => {
  reader.pos = start;
  let count = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    const wire = tag & 7;
    if (tag >>> 3 !== 1) {
      reader.skip(wire);
    } else if (wire === WireType.LEN && scalarWire !== WireType.LEN) {
      const runEnd = reader.lengthEnd();
      if (scalarWire === WireType.FIXED64) {
        if ((runEnd - reader.pos) % 8 !== 0) {
          throw new WireFormatError('packed double run is not a multiple of 8 bytes');
        }
        count += (runEnd - reader.pos) / 8;
      } else {
        count += countPackedVarints(reader.buf, reader.pos, runEnd);
      }
      reader.pos = runEnd;
    } else if (wire === scalarWire) {
      count++;
      reader.skip(wire);
    } else {
      throw new WireFormatError(`column value has wire type ${wire}, expected ${scalarWire}`);
    }
  }
  return count;
};

/**
 * Decodes the varints of `buf[pos, end)` as int64 two's complement bits into `words` (lo, hi pairs
 * from value `index` on). Returns the next index. The tight loop is the decoder's hot spot.
 */
const decodeVarintRun = (buf: Uint8Array, start: number, end: number, words: Uint32Array, first: number): number => {
  let pos = start;
  let index = first;
  while (pos < end) {
    let byte = buf[pos++] as number;
    let lo = byte & 0x7f;
    let hi = 0;
    if (byte >= 0x80) {
      let shift = 7;
      do {
        byte = buf[pos++] as number;
        if (shift < 28) {
          lo |= (byte & 0x7f) << shift;
        } else if (shift === 28) {
          lo |= (byte & 0x7f) << 28;
          hi = (byte & 0x7f) >>> 4;
        } else {
          hi |= (byte & 0x7f) << (shift - 32);
        }
        shift += 7;
      } while (byte >= 0x80 && shift < 70);
      if (byte >= 0x80) {
        throw new WireFormatError('varint longer than 10 bytes');
      }
    }
    words[2 * index] = lo;
    words[2 * index + 1] = hi;
    index++;
  }
  if (pos > end) {
    throw new WireFormatError('truncated varint');
  }
  return index;
};

/**
 * Scratch words reused by every column decode (single-threaded, never held across calls): values
 * are decoded once into scratch and copied out at their final count, instead of counting first.
 */
let scratch: Uint32Array = new Uint32Array(16_384);

const ensureScratch = (words: number): Uint32Array => {
  if (scratch.length < words) {
    scratch = new Uint32Array(Math.max(words, scratch.length * 2));
  }
  return scratch;
};

/** Copies `count` int64 values decoded as (lo, hi) word pairs out of scratch. */
const int64sFromScratch = (words: Uint32Array, count: number): BigInt64Array => {
  const out = new BigInt64Array(count);
  if (LITTLE_ENDIAN) {
    new Uint32Array(out.buffer).set(words.subarray(0, 2 * count));
  } else {
    for (let i = 0; i < count; i++) {
      out[i] = BigInt.asIntN(64, (BigInt(words[2 * i + 1] as number) << 32n) | BigInt(words[2 * i] as number));
    }
  }
  return out;
};

/** Decodes the int64 values (packed runs and single unpacked values) of one column message. */
const decodeInt64Values = (reader: Reader, start: number, end: number): BigInt64Array => {
  let words: Uint32Array = scratch;
  let index = 0;
  reader.pos = start;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1) {
      reader.skip(tag & 7);
    } else if ((tag & 7) === WireType.LEN) {
      const runEnd = reader.lengthEnd();
      // A run of n bytes holds at most n varints.
      words = ensureScratch(2 * (index + runEnd - reader.pos));
      index = decodeVarintRun(reader.buf, reader.pos, runEnd, words, index);
      reader.pos = runEnd;
    } else {
      reader.varint64();
      words = ensureScratch(2 * (index + 1));
      words[2 * index] = reader.lo;
      words[2 * index + 1] = reader.hi;
      index++;
    }
  }
  return int64sFromScratch(words, index);
};

const decodeBooleans = (reader: Reader, start: number, end: number): BooleanColumn => {
  const out = new Uint8Array(countValues(reader, start, end, WireType.VARINT));
  let index = 0;
  reader.pos = start;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1) {
      reader.skip(tag & 7);
    } else if ((tag & 7) === WireType.LEN) {
      const runEnd = reader.lengthEnd();
      const saved = reader.end;
      reader.end = runEnd;
      while (reader.pos < runEnd) {
        reader.varint64();
        out[index++] = reader.lo !== 0 || reader.hi !== 0 ? 1 : 0;
      }
      reader.end = saved;
    } else {
      reader.varint64();
      out[index++] = reader.lo !== 0 || reader.hi !== 0 ? 1 : 0;
    }
  }
  return new BooleanColumn(out);
};

const decodeDoubles = (reader: Reader, start: number, end: number): Float64Column => {
  const out = new Float64Array(countValues(reader, start, end, WireType.FIXED64));
  const outBytes = new Uint8Array(out.buffer);
  let index = 0;
  reader.pos = start;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1) {
      reader.skip(tag & 7);
    } else if ((tag & 7) === WireType.LEN) {
      const runEnd = reader.lengthEnd();
      if (LITTLE_ENDIAN) {
        // Wire doubles are little-endian IEEE 754, as the typed array's memory is here: one copy.
        outBytes.set(reader.buf.subarray(reader.pos, runEnd), index * 8);
        index += (runEnd - reader.pos) / 8;
        reader.pos = runEnd;
      } else {
        while (reader.pos < runEnd) {
          out[index++] = reader.double();
        }
      }
    } else {
      out[index++] = reader.double();
    }
  }
  return new Float64Column(out);
};

const decodeStrings = (reader: Reader, start: number, end: number): StringColumn => {
  const buf = reader.buf;
  // Each value takes at least 2 bytes (tag and length), so (end - start) / 2 bounds the count.
  const words = ensureScratch(end - start + 2);
  let count = 0;
  let pos = start;
  while (pos < end) {
    const length = buf[pos + 1] as number;
    if (buf[pos] === 0x0a && length < 0x80) {
      // Fast path: tag of field 1 (bytes) and a one-byte length.
      const valueEnd = pos + 2 + length;
      if (valueEnd > end) {
        throw new WireFormatError('string value runs past the end of its column');
      }
      words[2 * count] = pos + 2;
      words[2 * count + 1] = valueEnd;
      count++;
      pos = valueEnd;
      continue;
    }
    reader.pos = pos;
    const tag = reader.uint32();
    if (tag >>> 3 !== 1 || (tag & 7) !== WireType.LEN) {
      reader.skip(tag & 7);
    } else {
      const valueEnd = reader.lengthEnd();
      words[2 * count] = reader.pos;
      words[2 * count + 1] = valueEnd;
      count++;
      reader.pos = valueEnd;
    }
    pos = reader.pos;
  }
  const starts = new Uint32Array(count);
  const ends = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    starts[i] = words[2 * i] as number;
    ends[i] = words[2 * i + 1] as number;
  }
  return new StringColumn(buf, starts, ends);
};

/** Decodes one varint at `pos` into words[at], words[at + 1] (lo, hi); returns the next position. */
const varintInto = (buf: Uint8Array, start: number, words: Uint32Array, at: number): number => {
  let pos = start;
  let byte = buf[pos++] as number;
  let lo = byte & 0x7f;
  let hi = 0;
  let shift = 7;
  while (byte >= 0x80 && shift < 70) {
    byte = buf[pos++] as number;
    if (shift < 28) {
      lo |= (byte & 0x7f) << shift;
    } else if (shift === 28) {
      lo |= (byte & 0x7f) << 28;
      hi = (byte & 0x7f) >>> 4;
    } else {
      hi |= (byte & 0x7f) << (shift - 32);
    }
    shift += 7;
  }
  if (byte >= 0x80) {
    throw new WireFormatError('varint longer than 10 bytes');
  }
  words[at] = lo;
  words[at + 1] = hi;
  return pos;
};

const decodeUInt128s = (reader: Reader, start: number, end: number): UInt128Column => {
  const buf = reader.buf;
  // Each value takes at least 2 bytes: low words go to [0, bound), high words to [bound, 2 * bound).
  const bound = end - start + 2;
  const words = ensureScratch(2 * bound);
  let count = 0;
  let pos = start;
  while (pos < end) {
    reader.pos = pos;
    const tag = reader.uint32();
    if (tag >>> 3 !== 1 || (tag & 7) !== WireType.LEN) {
      reader.skip(tag & 7);
      pos = reader.pos;
      continue;
    }
    const valueEnd = reader.lengthEnd();
    const lowAt = 2 * count;
    const highAt = bound + 2 * count;
    words[lowAt] = 0;
    words[lowAt + 1] = 0;
    words[highAt] = 0;
    words[highAt + 1] = 0;
    pos = reader.pos;
    while (pos < valueEnd) {
      const inner = buf[pos] as number;
      if (inner === 0x08) {
        pos = varintInto(buf, pos + 1, words, lowAt);
      } else if (inner === 0x10) {
        pos = varintInto(buf, pos + 1, words, highAt);
      } else {
        reader.pos = pos;
        reader.end = valueEnd;
        reader.skip(reader.uint32() & 7);
        reader.end = end;
        pos = reader.pos;
      }
    }
    if (pos > valueEnd) {
      throw new WireFormatError('UInt128 value runs past its length');
    }
    count++;
  }
  const high = new BigUint64Array(count);
  const low = new BigUint64Array(count);
  if (LITTLE_ENDIAN) {
    new Uint32Array(low.buffer).set(words.subarray(0, 2 * count));
    new Uint32Array(high.buffer).set(words.subarray(bound, bound + 2 * count));
  } else {
    for (let i = 0; i < count; i++) {
      low[i] = (BigInt(words[2 * i + 1] as number) << 32n) | BigInt(words[2 * i] as number);
      high[i] = (BigInt(words[bound + 2 * i + 1] as number) << 32n) | BigInt(words[bound + 2 * i] as number);
    }
  }
  return new UInt128Column(high, low);
};

/** Column oneof field numbers (px.api.vizierpb.Column). */
const COLUMN_FIELD = { BOOLEAN: 1, INT64: 2, UINT128: 3, TIME64NS: 4, FLOAT64: 5, STRING: 6 } as const;

/** Decodes one px.api.vizierpb.Column message occupying `[start, end)` of the reader. */
const decodeColumn = (reader: Reader, start: number, end: number): Column => {
  reader.pos = start;
  let column: Column | undefined;
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if ((tag & 7) !== WireType.LEN || field < 1 || field > 6) {
      reader.skip(tag & 7);
      continue;
    }
    const dataEnd = reader.lengthEnd();
    const dataStart = reader.pos;
    const saved = reader.end;
    reader.end = dataEnd;
    switch (field) {
      case COLUMN_FIELD.BOOLEAN:
        column = decodeBooleans(reader, dataStart, dataEnd);
        break;
      case COLUMN_FIELD.INT64:
      case COLUMN_FIELD.TIME64NS: {
        const values = decodeInt64Values(reader, dataStart, dataEnd);
        column = field === COLUMN_FIELD.INT64 ? new Int64Column(values) : new Time64NSColumn(values);
        break;
      }
      case COLUMN_FIELD.UINT128:
        column = decodeUInt128s(reader, dataStart, dataEnd);
        break;
      case COLUMN_FIELD.FLOAT64:
        column = decodeDoubles(reader, dataStart, dataEnd);
        break;
      default:
        column = decodeStrings(reader, dataStart, dataEnd);
    }
    reader.end = saved;
    reader.pos = dataEnd;
  }
  if (column === undefined) {
    throw new WireFormatError('column carries no data of a known type');
  }
  return column;
};

/** Decodes RowBatchData fields occupying `[start, end)` of `buf`. */
export const decodeRowBatchAt = (buf: Uint8Array, start: number, end: number): RowBatch => {
  const reader = new Reader(buf, start, end);
  const cols: Column[] = [];
  let numRows = 0;
  let eow = false;
  let eos = false;
  let tableId = '';
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case (1 << 3) | WireType.LEN: {
        const colEnd = reader.lengthEnd();
        const saved = reader.end;
        reader.end = colEnd;
        cols.push(decodeColumn(reader, reader.pos, colEnd));
        reader.end = saved;
        reader.pos = colEnd;
        break;
      }
      case (2 << 3) | WireType.VARINT:
        numRows = reader.int64Number();
        break;
      case (3 << 3) | WireType.VARINT:
        eow = reader.uint32() !== 0;
        break;
      case (4 << 3) | WireType.VARINT:
        eos = reader.uint32() !== 0;
        break;
      case (5 << 3) | WireType.LEN:
        tableId = reader.string();
        break;
      default:
        reader.skip(tag & 7);
    }
  }
  for (const [i, col] of cols.entries()) {
    if (col.length !== numRows) {
      throw new WireFormatError(`column ${i} of table ${tableId} has ${col.length} values but the batch has ${numRows} rows`);
    }
  }
  return { tableId, numRows, eow, eos, cols };
};

/** Decodes a serialized px.api.vizierpb.RowBatchData (e.g. a decrypted batch). */
export const decodeRowBatch = (bytes: Uint8Array): RowBatch => decodeRowBatchAt(bytes, 0, bytes.length);
