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

/** Fills int64 values as (lo, hi) word pairs; `words` views the BigInt64Array's memory. */
const decodeInt64Values = (reader: Reader, start: number, end: number, out: BigInt64Array): void => {
  const words = LITTLE_ENDIAN ? new Uint32Array(out.buffer, out.byteOffset, out.length * 2) : undefined;
  let index = 0;
  const put = (): void => {
    if (words) {
      words[2 * index] = reader.lo;
      words[2 * index + 1] = reader.hi;
    } else {
      out[index] = BigInt.asIntN(64, (BigInt(reader.hi) << 32n) | BigInt(reader.lo));
    }
    index++;
  };
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
        put();
      }
      reader.end = saved;
    } else {
      reader.varint64();
      put();
    }
  }
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
  const count = countValues(reader, start, end, WireType.LEN);
  const starts = new Uint32Array(count);
  const ends = new Uint32Array(count);
  let index = 0;
  reader.pos = start;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1) {
      reader.skip(tag & 7);
      continue;
    }
    const valueEnd = reader.lengthEnd();
    starts[index] = reader.pos;
    ends[index] = valueEnd;
    index++;
    reader.pos = valueEnd;
  }
  return new StringColumn(reader.buf, starts, ends);
};

const decodeUInt128s = (reader: Reader, start: number, end: number): UInt128Column => {
  const count = countValues(reader, start, end, WireType.LEN);
  const high = new BigUint64Array(count);
  const low = new BigUint64Array(count);
  const highWords = LITTLE_ENDIAN ? new Uint32Array(high.buffer) : undefined;
  const lowWords = LITTLE_ENDIAN ? new Uint32Array(low.buffer) : undefined;
  let index = 0;
  reader.pos = start;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1) {
      reader.skip(tag & 7);
      continue;
    }
    const valueEnd = reader.lengthEnd();
    const saved = reader.end;
    reader.end = valueEnd;
    while (reader.pos < valueEnd) {
      const inner = reader.uint32();
      const field = inner >>> 3;
      if ((field === 1 || field === 2) && (inner & 7) === WireType.VARINT) {
        reader.varint64();
        const words = field === 1 ? lowWords : highWords;
        if (words) {
          words[2 * index] = reader.lo;
          words[2 * index + 1] = reader.hi;
        } else {
          (field === 1 ? low : high)[index] = (BigInt(reader.hi) << 32n) | BigInt(reader.lo);
        }
      } else {
        reader.skip(inner & 7);
      }
    }
    reader.end = saved;
    index++;
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
        const values = new BigInt64Array(countValues(reader, dataStart, dataEnd, WireType.VARINT));
        decodeInt64Values(reader, dataStart, dataEnd, values);
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
