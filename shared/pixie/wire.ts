/**
 * Protobuf wire primitives for the one hot path, the row-batch decoder (decode-batch.ts): a cursor
 * that reads varints, fixed64 and length-delimited fields straight from the received bytes.
 * Hand-written so decoding allocates nothing per value; every other message goes through the
 * generated codec (generated/).
 *
 * @module
 */

/** Protobuf wire types. */
export const WireType = { VARINT: 0, FIXED64: 1, LEN: 2, START_GROUP: 3, END_GROUP: 4, FIXED32: 5 } as const;

/** Thrown when bytes are not a well-formed protobuf message of the expected shape. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

const TWO_32 = 4_294_967_296;

/** Whether this machine stores numbers little-endian, as protobuf's fixed64 is on the wire. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

type Utf8Slice = (this: Uint8Array, start: number, end: number) => string;

/**
 * Node's native UTF-8 slice (what `Buffer#toString('utf8')` calls), usable on any Uint8Array: about
 * twice as fast as TextDecoder for the short strings Pixie tables are full of. Not part of Node's
 * documented API, so TextDecoder remains the fallback.
 */
const nativeUtf8Slice = ((globalThis as { Buffer?: { prototype: unknown } }).Buffer?.prototype as { utf8Slice?: Utf8Slice } | undefined)?.utf8Slice;

/** Decodes UTF-8 with U+FFFD for invalid sequences (Pixie string columns may hold any bytes). */
export const decodeUtf8: (bytes: Uint8Array, start: number, end: number) => string =
  nativeUtf8Slice === undefined
    ? (bytes, start, end) => utf8.decode(bytes.subarray(start, end))
    : (bytes, start, end) => nativeUtf8Slice.call(bytes, start, end);

/** A read cursor over one protobuf message (or a slice of one). */
export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  end: number;
  /** Low and high 32 bits of the last {@link varint64} read. */
  lo = 0;
  hi = 0;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Reads a varint of at most 32 significant bits (tags, lengths, enums, int32, bool). */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let byte = buf[pos++] as number;
    let value = byte & 0x7f;
    if (byte >= 0x80) {
      byte = buf[pos++] as number;
      value |= (byte & 0x7f) << 7;
      if (byte >= 0x80) {
        byte = buf[pos++] as number;
        value |= (byte & 0x7f) << 14;
        if (byte >= 0x80) {
          byte = buf[pos++] as number;
          value |= (byte & 0x7f) << 21;
          if (byte >= 0x80) {
            byte = buf[pos++] as number;
            value = (value | ((byte & 0x0f) << 28)) >>> 0;
            // Negative int32 values are sign-extended to 10 bytes: skip the rest.
            while (byte >= 0x80) {
              byte = buf[pos++] as number;
              if (pos > this.end) {
                break;
              }
            }
          }
        }
      }
    }
    if (pos > this.end) {
      throw new WireFormatError('truncated varint');
    }
    this.pos = pos;
    return value;
  }

  /** Reads a 64-bit varint into {@link lo}/{@link hi} (two's complement bits, no allocation). */
  varint64(): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let byte = 0;
    let shift = 0;
    for (; shift < 28; shift += 7) {
      byte = buf[pos++] as number;
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.finish64(pos, lo, hi);
        return;
      }
    }
    byte = buf[pos++] as number;
    lo |= (byte & 0x7f) << 28;
    hi = (byte & 0x7f) >> 4;
    if (byte >= 0x80) {
      for (shift = 3; shift < 32; shift += 7) {
        byte = buf[pos++] as number;
        hi |= (byte & 0x7f) << shift;
        if (byte < 0x80) {
          break;
        }
      }
      if (byte >= 0x80) {
        throw new WireFormatError('varint longer than 10 bytes');
      }
    }
    this.finish64(pos, lo, hi);
  }

  private finish64(pos: number, lo: number, hi: number): void {
    if (pos > this.end) {
      throw new WireFormatError('truncated varint');
    }
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** A 64-bit varint as a JS number; exact up to 2^53, approximate beyond (for counts and stats). */
  int64Number(): number {
    this.varint64();
    return this.hi >= 0x80000000 ? -((~this.hi >>> 0) * TWO_32 + (~this.lo >>> 0) + 1) : this.hi * TWO_32 + this.lo;
  }

  /** Reads a length prefix and returns the end offset of the field, checked against the message end. */
  lengthEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.end) {
      throw new WireFormatError(`length ${length} runs past the end of the message`);
    }
    return end;
  }

  /** A length-delimited field decoded as UTF-8. */
  string(): string {
    const end = this.lengthEnd();
    const out = decodeUtf8(this.buf, this.pos, end);
    this.pos = end;
    return out;
  }

  /** Reads an 8-byte little-endian double. */
  double(): number {
    if (this.pos + 8 > this.end) {
      throw new WireFormatError('truncated double');
    }
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  /** Skips one field of the given wire type (unknown fields are ignored, as protobuf requires). */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.VARINT:
        while ((this.buf[this.pos++] as number) >= 0x80) {
          if (this.pos >= this.end) {
            throw new WireFormatError('truncated varint');
          }
        }
        break;
      case WireType.FIXED64:
        this.pos += 8;
        break;
      case WireType.LEN:
        this.pos = this.lengthEnd();
        break;
      case WireType.FIXED32:
        this.pos += 4;
        break;
      case WireType.START_GROUP: {
        for (;;) {
          const tag = this.uint32();
          if ((tag & 7) === WireType.END_GROUP) {
            break;
          }
          this.skip(tag & 7);
        }
        break;
      }
      default:
        throw new WireFormatError(`invalid wire type ${wireType}`);
    }
    if (this.pos > this.end) {
      throw new WireFormatError('field runs past the end of the message');
    }
  }
}
