/**
 * The PEM's decoding of bpftrace printf events, by Pixie's and bpftrace's source:
 * - struct: `{ i64 id, args... }`, LLVM offsets (`arg.offset = struct_layout->getElementOffset(i+1)`),
 *   memset 0 (pixie-io/bpftrace@460adf09 src/ast/passes/codegen_llvm.cpp createFormatStringCall);
 * - integers read unsigned at their size, stored as INT64; `time_` through ConvertToRealTime to
 *   TIME64NS; strings `std::string(p, strnlen(p, size))` (pixie-io/pixie@44d42f1
 *   src/stirling/source_connectors/dynamic_bpftrace/dynamic_bpftrace_connector.cc HandleEvent,
 *   ConvertFields);
 * - every event read with the first printf's fields (src/stirling/bpf_tools/bpftrace_wrapper.cc
 *   OutputFields: `printf_args.front()`).
 */
import { describe, expect, it } from 'vitest';
import { programOutput } from '../../../shared/pxl/bpftrace-program.ts';
import { encodeEvent, eventStruct, pemDecoder, PemEventError } from '../../../shared/pxl/pem-event.ts';
import type { PrintfLayout } from '../../../shared/pxl/printf-layout.ts';

const int = (bits = 64) => ({ kind: 'int', bits }) as const;
const chars = (bytes: number) => ({ kind: 'chars', bytes }) as const;

describe('eventStruct (LLVM layout of a printf struct, BPF data layout)', () => {
  it('puts the id at 0, aligns integers to their size and char arrays to 1, pads the size to 8', () => {
    const layout: PrintfLayout = { printf: 1, fields: [chars(13), int(), chars(3), int(32), chars(1)] };
    const struct = eventStruct(layout);
    // 8 (id) | [13 x i8] at 8..21 | pad to 24 | i64 24..32 | [3 x i8] 32..35 | pad | i32 36..40 | [1 x i8] 40 | pad to 48
    expect(struct.fields.map((f) => f.offset)).toEqual([8, 24, 32, 36, 40]);
    expect(struct.size).toBe(48);
  });

  it('refuses integer sizes Pixie cannot read', () => {
    expect(() => eventStruct({ printf: 1, fields: [int(24)] })).toThrow(PemEventError);
  });
});

describe('encodeEvent', () => {
  const layout: PrintfLayout = { printf: 3, fields: [int(), chars(8), int(16)] };

  it('writes the printf id (from 0), little-endian integers in two\'s complement and NUL-padded strings', () => {
    const bytes = encodeEvent(layout, [-2n, 'abc', 0xbeefn]);
    expect(bytes.length).toBe(32);
    expect([...bytes.subarray(0, 8)]).toEqual([2, 0, 0, 0, 0, 0, 0, 0]);
    expect([...bytes.subarray(8, 16)]).toEqual([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect([...bytes.subarray(16, 24)]).toEqual([0x61, 0x62, 0x63, 0, 0, 0, 0, 0]);
    // The i16 follows the [8 x i8] at 24; the struct is padded to the id's 8-byte alignment.
    expect([...bytes.subarray(24, 32)]).toEqual([0xef, 0xbe, 0, 0, 0, 0, 0, 0]);
  });

  it('refuses values that cannot have come from the printf (a string without room for its NUL, a wider integer)', () => {
    expect(() => encodeEvent(layout, [1n, '12345678', 1n])).toThrow(/does not fit its 8-byte field/);
    expect(() => encodeEvent(layout, [1n, 'a', 0x10000n])).toThrow(/not a 16-bit integer/);
    expect(() => encodeEvent(layout, [1n, 'a'])).toThrow(/3 arguments, got 2/);
  });
});

describe('pemDecoder (the PEM reads every event with the first printf\'s struct)', () => {
  const output = programOutput('t:a:b { printf("time_:%llu pid:%llu comm:%s flags:%lld", nsecs, pid, comm, 1); }');
  const first: PrintfLayout = { printf: 1, fields: [int(), int(), chars(16), int()] };

  it('types columns from the fields: time_ TIME64NS, integers INT64, strings STRING of at most the field size', () => {
    expect(pemDecoder(output, [first], 0n).columns).toEqual([
      { name: 'time_', type: 'TIME64NS' },
      { name: 'pid', type: 'INT64' },
      { name: 'comm', type: 'STRING', maxBytes: 16 },
      { name: 'flags', type: 'INT64' },
    ]);
  });

  it('reads integers unsigned and stores them signed, and adds the clock offset to time_', () => {
    const decode = pemDecoder(output, [first], 1_000n).decode;
    const row = decode(encodeEvent(first, [5_000n, 42n, 'sh', 0xffffffffffffffffn]));
    expect(row).toEqual({ time_: 6_000n, pid: 42n, comm: 'sh', flags: -1n });
  });

  it('cuts a string at the field size when no NUL ends it inside the field', () => {
    // Bytes of a 16-byte field all non-NUL (only another printf's struct can put them there).
    const event = encodeEvent(first, [1n, 2n, '', 3n]);
    event.set(new TextEncoder().encode('0123456789abcdefXYZ').subarray(0, 16), 24);
    expect(pemDecoder(output, [first], 0n).decode(event)['comm']).toBe('0123456789abcdef');
  });

  it('reads a narrower first-printf integer at its own size, unsigned', () => {
    const narrow: PrintfLayout = { printf: 1, fields: [int(), int(8), chars(16), int()] };
    const event = encodeEvent(narrow, [1n, 0xffn, 'x', 0n]);
    expect(pemDecoder(output, [narrow], 0n).decode(event)['pid']).toBe(255n);
  });

  it('decodes an event of another layout at the first layout\'s offsets (garbage, as on a real cluster)', () => {
    // Printf 2 passes a 1-byte "" where printf 1 has str() and an 8-byte literal: its fields shift.
    const second: PrintfLayout = { printf: 2, fields: [int(), int(), chars(1), int()] };
    const event = encodeEvent(second, [7n, 99n, '', 5n]);
    // printf 2: time_ 8, pid 16, comm 24 (1 byte), flags 32; struct 40 bytes. Read with printf 1:
    // comm at 24..40 holds the NUL of "" first: empty; flags at 40 is past the 40-byte event (0 here;
    // out of bounds memory on a real PEM).
    expect(pemDecoder(output, [first, second], 0n).decode(event)).toEqual({ time_: 7n, pid: 99n, comm: '', flags: 0n });
    // And the other way round: a 1-byte first field makes printf 2's string land in the integer.
    const firstSmall: PrintfLayout = { printf: 1, fields: [int(), int(), chars(1), int()] };
    const wide = encodeEvent({ printf: 2, fields: first.fields }, [7n, 99n, 'ABCDEFGHIJ', 5n]);
    // comm is cut to its 1 byte; flags is read at 32, inside printf 2's 16-byte comm (24..40): "IJ".
    expect(pemDecoder(output, [firstSmall], 0n).decode(wide)).toEqual({ time_: 7n, pid: 99n, comm: 'A', flags: 0x4a49n });
  });

  it('needs a printf struct', () => {
    expect(() => pemDecoder(output, [], 0n)).toThrow(PemEventError);
  });
});
