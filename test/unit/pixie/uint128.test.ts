import { describe, expect, it } from 'vitest';
import { Int64Column, Time64NSColumn, UInt128Column } from '../../../shared/pixie/columns.ts';
import {
  isUuid,
  uint128ToUuid,
  upidFromUint128,
  upidToString,
  upidToUint128,
  uuidToUint128,
} from '../../../shared/pixie/uint128.ts';

describe('UInt128 as Pixie renders it', () => {
  it('formats 16 big-endian bytes, high then low, as a UUID', () => {
    expect(uint128ToUuid(0x0011223344556677n, 0x8899aabbccddeeffn)).toBe('00112233-4455-6677-8899-aabbccddeeff');
    expect(uint128ToUuid(0n, 0n)).toBe('00000000-0000-0000-0000-000000000000');
    expect(uint128ToUuid(2n ** 64n - 1n, 1n)).toBe('ffffffff-ffff-ffff-0000-000000000001');
    // Negative bigints are the same 64 bits.
    expect(uint128ToUuid(-1n, -1n)).toBe('ffffffff-ffff-ffff-ffff-ffffffffffff');
  });

  it('splits a UUID into high/low and back', () => {
    const id = '5b27f024-eccb-4d07-b28d-84ab8d88e6a3';
    const { high, low } = uuidToUint128(id);
    expect(high).toBe(0x5b27f024eccb4d07n);
    expect(low).toBe(0xb28d84ab8d88e6a3n);
    expect(uint128ToUuid(high, low)).toBe(id);
    expect(uuidToUint128('5B27F024-ECCB-4D07-B28D-84AB8D88E6A3').high).toBe(high);
    expect(() => uuidToUint128('5b27f024eccb4d07b28d84ab8d88e6a3')).toThrow(TypeError);
    expect(isUuid(id)).toBe(true);
    expect(isUuid(`${id}0`)).toBe(false);
  });

  it('reads a UPID: high = asid << 32 | pid, low = start ticks', () => {
    const upid = upidFromUint128((7n << 32n) | 4242n, 123_456_789n);
    expect(upid).toEqual({ asid: 7, pid: 4242, startTicks: 123_456_789n });
    expect(upidToString(upid)).toBe('7:4242:123456789');
    expect(upidToUint128(upid)).toEqual({ high: (7n << 32n) | 4242n, low: 123_456_789n });
    expect(upidFromUint128(2n ** 64n - 1n, 0n)).toEqual({ asid: 4_294_967_295, pid: 4_294_967_295, startTicks: 0n });
  });

  it('column helpers give the UUID and UPID of a row', () => {
    const col = new UInt128Column(BigUint64Array.from([(1n << 32n) | 99n]), BigUint64Array.from([5n]));
    expect(col.uuid(0)).toBe('00000001-0000-0063-0000-000000000005');
    expect(col.upid(0)).toEqual({ asid: 1, pid: 99, startTicks: 5n });
    expect(col.get(0)).toBe((((1n << 32n) | 99n) << 64n) | 5n);
    expect(() => col.uuid(1)).toThrow(RangeError);
  });
});

describe('int64 as numbers', () => {
  it('gives safe numbers and refuses to round', () => {
    const col = new Int64Column(BigInt64Array.from([0n, -1n, 2n ** 53n - 1n, -(2n ** 53n - 1n), 2n ** 32n + 5n, -(2n ** 32n) - 5n]));
    expect(Array.from(col.numbers())).toEqual([0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 32 + 5, -(2 ** 32) - 5]);
    expect(col.number(2)).toBe(Number.MAX_SAFE_INTEGER);
    for (const big of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      const unsafe = new Int64Column(BigInt64Array.from([1n, big]));
      expect(() => unsafe.numbers()).toThrow(RangeError);
      expect(() => unsafe.number(1)).toThrow(RangeError);
      expect(unsafe.get(1)).toBe(big);
    }
  });

  it('reads time64ns as a Date', () => {
    const col = new Time64NSColumn(BigInt64Array.from([1_700_000_000_123_456_789n]));
    expect(col.date(0).toISOString()).toBe('2023-11-14T22:13:20.123Z');
  });
});
