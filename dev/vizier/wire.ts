/**
 * Hand-written protobuf encoding of the one hot message, RowBatchData, and of the
 * ExecuteScriptResponse envelope around an already-encoded batch. A general proto library would
 * turn every int64 into an object; the benchmark streams millions of rows, so the server writes the
 * wire format directly and caches the encoded columns of each batch. The field numbers are read
 * once from the generated descriptors (shared/pixie/generated, from shared/pixie/proto), so the
 * .proto stays their one source. Tests decode these bytes with protobufjs to keep this honest.
 *
 * @module
 */
import { create, type DescMessage, toBinary } from '@bufbuild/protobuf';
import { ExecuteScriptResponseBatchBytesSchema } from '../../shared/pixie/generated/batch_bytes_pb.js';
import {
  BooleanColumnSchema,
  ColumnSchema,
  Float64ColumnSchema,
  Int64ColumnSchema,
  RowBatchDataSchema,
  StringColumnSchema,
  Time64NSColumnSchema,
  UInt128ColumnSchema,
  UInt128Schema,
} from '../../shared/pixie/generated/vizierapi_pb.js';
import type { Table } from './dataset.ts';

/** A field's number from the generated descriptor; a renamed field fails at load, not on the wire. */
const fieldNumber = (message: DescMessage, localName: string): number => {
  const field = message.field[localName];
  if (field === undefined) {
    throw new Error(`${message.typeName} has no field ${localName}`);
  }
  return field.number;
};

const ROW_BATCH = {
  cols: fieldNumber(RowBatchDataSchema, 'cols'),
  numRows: fieldNumber(RowBatchDataSchema, 'numRows'),
  eow: fieldNumber(RowBatchDataSchema, 'eow'),
  eos: fieldNumber(RowBatchDataSchema, 'eos'),
  tableId: fieldNumber(RowBatchDataSchema, 'tableId'),
} as const;
/** The repeated `data` field of each column message, by data type. */
const COLUMN_VALUES = {
  BOOLEAN: fieldNumber(BooleanColumnSchema, 'data'),
  INT64: fieldNumber(Int64ColumnSchema, 'data'),
  UINT128: fieldNumber(UInt128ColumnSchema, 'data'),
  TIME64NS: fieldNumber(Time64NSColumnSchema, 'data'),
  FLOAT64: fieldNumber(Float64ColumnSchema, 'data'),
  STRING: fieldNumber(StringColumnSchema, 'data'),
} as const;
const UINT128 = { low: fieldNumber(UInt128Schema, 'low'), high: fieldNumber(UInt128Schema, 'high') } as const;

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** Growable byte buffer with the protobuf primitives the batch encoder needs. */
export class ProtoWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) {
      return;
    }
    let size = this.buf.length * 2;
    while (size < this.pos + extra) {
      size *= 2;
    }
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Unsigned varint of a non-negative safe integer. */
  uvarint(value: number): void {
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** Varint of a 64-bit value given as bigint (negative int64 as two's complement, 10 bytes). */
  varint64(value: bigint): void {
    if (value >= 0n && value <= 0x1f_ffff_ffff_ffffn) {
      this.uvarint(Number(value));
      return;
    }
    this.ensure(10);
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  tag(field: number, wire: number): void {
    this.uvarint(field * 8 + wire);
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** A length-delimited field holding `data`. */
  lenField(field: number, data: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.uvarint(data.length);
    this.bytes(data);
  }

  doubleLE(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  get length(): number {
    return this.pos;
  }

  /** A copy of what was written. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** Column oneof field numbers (Column.col_data) by data type. */
const COLUMN_FIELD = {
  BOOLEAN: fieldNumber(ColumnSchema, 'booleanData'),
  INT64: fieldNumber(ColumnSchema, 'int64Data'),
  UINT128: fieldNumber(ColumnSchema, 'uint128Data'),
  TIME64NS: fieldNumber(ColumnSchema, 'time64nsData'),
  FLOAT64: fieldNumber(ColumnSchema, 'float64Data'),
  STRING: fieldNumber(ColumnSchema, 'stringData'),
} as const;

const encodeColumnData = (table: Table, index: number, start: number, end: number): Buffer => {
  const column = table.columns[index];
  if (column === undefined) {
    throw new Error(`table ${table.name} has no column ${index}`);
  }
  const inner = new ProtoWriter(64 + (end - start) * 10);
  switch (column.type) {
    case 'BOOLEAN': {
      const packed = new ProtoWriter(end - start + 8);
      for (let i = start; i < end; i++) {
        packed.uvarint(column.values[i] === true ? 1 : 0);
      }
      inner.lenField(COLUMN_VALUES[column.type], packed.finish());
      break;
    }
    case 'INT64':
    case 'TIME64NS': {
      const packed = new ProtoWriter((end - start) * 10 + 8);
      for (let i = start; i < end; i++) {
        packed.varint64(column.values[i] ?? 0n);
      }
      inner.lenField(COLUMN_VALUES[column.type], packed.finish());
      break;
    }
    case 'FLOAT64': {
      const packed = new ProtoWriter((end - start) * 8 + 8);
      for (let i = start; i < end; i++) {
        packed.doubleLE(column.values[i] ?? 0);
      }
      inner.lenField(COLUMN_VALUES[column.type], packed.finish());
      break;
    }
    case 'UINT128': {
      for (let i = start; i < end; i++) {
        const high = column.high[i] ?? 0n;
        const low = column.low[i] ?? 0n;
        const value = new ProtoWriter(24);
        if (low !== 0n) {
          value.tag(UINT128.low, WIRE_VARINT);
          value.varint64(low);
        }
        if (high !== 0n) {
          value.tag(UINT128.high, WIRE_VARINT);
          value.varint64(high);
        }
        inner.lenField(COLUMN_VALUES[column.type], value.finish());
      }
      break;
    }
    case 'STRING': {
      for (let i = start; i < end; i++) {
        inner.lenField(COLUMN_VALUES[column.type], column.values[i] ?? Buffer.alloc(0));
      }
      break;
    }
  }
  const out = new ProtoWriter(inner.length + 16);
  out.lenField(COLUMN_FIELD[column.type], inner.finish());
  return out.finish();
};

/** The encoded `cols` fields (RowBatchData's repeated columns) for rows [start, end) of `table`. */
export const encodeBatchColumns = (table: Table, start: number, end: number): Buffer => {
  const out = new ProtoWriter(1024);
  for (let c = 0; c < table.columns.length; c++) {
    out.lenField(ROW_BATCH.cols, encodeColumnData(table, c, start, end));
  }
  return out.finish();
};

/** A whole RowBatchData message from pre-encoded columns. */
export const encodeRowBatch = (cols: Buffer, numRows: number, eos: boolean, tableId: string): Buffer => {
  const out = new ProtoWriter(cols.length + 64);
  out.bytes(cols);
  if (numRows !== 0) {
    out.tag(ROW_BATCH.numRows, WIRE_VARINT);
    out.uvarint(numRows);
  }
  if (eos) {
    // Non-streaming queries close each table with eow and eos together.
    out.tag(ROW_BATCH.eow, WIRE_VARINT);
    out.uvarint(1);
    out.tag(ROW_BATCH.eos, WIRE_VARINT);
    out.uvarint(1);
  }
  out.lenField(ROW_BATCH.tableId, Buffer.from(tableId, 'utf8'));
  return out.finish();
};

/**
 * ExecuteScriptResponse{query_id, data: QueryData{batch | encrypted_batch}} around an encoded
 * RowBatchData (`batch`) or a JWE compact string (`encrypted`), written by the generated codec of
 * the batch-as-bytes variant (same wire form).
 */
export const encodeDataResponse = (queryId: string, payload: { batch: Uint8Array } | { encrypted: string }): Buffer =>
  asBuffer(
    toBinary(
      ExecuteScriptResponseBatchBytesSchema,
      create(ExecuteScriptResponseBatchBytesSchema, {
        queryId,
        result: { case: 'data', value: 'batch' in payload ? { batch: payload.batch } : { encryptedBatch: Buffer.from(payload.encrypted, 'ascii') } },
      }),
    ),
  );

/** The same bytes as a Buffer (no copy), the type grpc-js serializers return. */
export const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
