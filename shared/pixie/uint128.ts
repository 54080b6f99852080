/**
 * 128-bit values as Pixie renders them: a UInt128 (and a px.uuidpb.UUID) is 16 big-endian bytes,
 * the high 64 bits first, formatted as a dashed UUID string. A UPID packs
 * `high = (asid << 32) | pid` and `low = process start time in ticks`.
 *
 * @module
 */

/** A unique process id across the cluster. */
export interface Upid {
  /** Agent short id (the node's PEM). */
  readonly asid: number;
  readonly pid: number;
  /** Process start time in clock ticks, as Pixie stores it. */
  readonly startTicks: bigint;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const hex16 = (value: bigint): string => BigInt.asUintN(64, value).toString(16).padStart(16, '0');

/** Formats high/low 64-bit halves as a UUID string (`8-4-4-4-12`, lower case). */
export const uint128ToUuid = (high: bigint, low: bigint): string => {
  const h = hex16(high);
  const l = hex16(low);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${l.slice(0, 4)}-${l.slice(4, 16)}`;
};

/** Splits a dashed UUID string into its big-endian high/low halves; throws on anything else. */
export const uuidToUint128 = (uuid: string): { high: bigint; low: bigint } => {
  if (!UUID_PATTERN.test(uuid)) {
    throw new TypeError('not a UUID (expected 8-4-4-4-12 hex digits)');
  }
  const digits = uuid.replaceAll('-', '');
  return { high: BigInt(`0x${digits.slice(0, 16)}`), low: BigInt(`0x${digits.slice(16)}`) };
};

/** Whether a string is a dashed UUID. */
export const isUuid = (value: string): boolean => UUID_PATTERN.test(value);

/** Reads a UPID from its UInt128 halves. */
export const upidFromUint128 = (high: bigint, low: bigint): Upid => {
  const h = BigInt.asUintN(64, high);
  return { asid: Number(h >> 32n), pid: Number(h & 0xffff_ffffn), startTicks: BigInt.asUintN(64, low) };
};

/** Builds the UInt128 halves of a UPID. */
export const upidToUint128 = (upid: Upid): { high: bigint; low: bigint } => ({
  high: (BigInt(upid.asid >>> 0) << 32n) | BigInt(upid.pid >>> 0),
  low: BigInt.asUintN(64, upid.startTicks),
});

/** Renders a UPID the way `px.upid_to_string` does: `asid:pid:start_ticks`. */
export const upidToString = (upid: Upid): string => `${upid.asid}:${upid.pid}:${upid.startTicks}`;
