/**
 * Time arguments of `px.DataFrame(start_time=..., end_time=...)`, as the local Vizier accepts them:
 * - relative: `-5m`, `-30s`, `-0s`, `-1h`, `-2d`, `-500ms`, `-10us`, `-7ns` (also without the `-`,
 *   meaning the same offset into the past; `now` is the engine's clock);
 * - absolute RFC 3339: `2026-11-27T12:00:00Z`, `2026-11-27T12:00:00.123456789+01:00` (up to ns);
 * - integer nanoseconds since the Unix epoch (int or decimal string);
 * - None: unbounded.
 *
 * @module
 */

const UNIT_NS: Readonly<Record<string, bigint>> = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n };

const RELATIVE = /^-?(\d+)(ns|us|ms|s|m|h|d)$/;
const ABSOLUTE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** A duration like `30m` or `-5s` in ns (sign kept), or undefined if the text is not one. */
export const parseDurationNs = (text: string): bigint | undefined => {
  const match = RELATIVE.exec(text.trim());
  if (match === null) {
    return undefined;
  }
  const ns = BigInt(match[1] ?? '0') * (UNIT_NS[match[2] ?? 's'] ?? 1n);
  return text.trim().startsWith('-') ? -ns : ns;
};

/** A time argument to ns since the epoch; throws an Error with the accepted forms otherwise. */
export const parseTimeArg = (value: string | bigint, nowNs: bigint): bigint => {
  if (typeof value === 'bigint') {
    return value;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    return BigInt(text);
  }
  const relative = parseDurationNs(text);
  if (relative !== undefined) {
    return nowNs - (relative < 0n ? -relative : relative);
  }
  const match = ABSOLUTE.exec(text);
  if (match !== null) {
    const ms = Date.parse(`${match[1] ?? ''}${match[3] ?? 'Z'}`);
    if (!Number.isNaN(ms)) {
      return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
    }
  }
  throw new Error(`cannot parse time ${JSON.stringify(value)}: use a relative time like '-5m', an RFC 3339 time like '2026-11-27T12:00:00.000Z', or integer nanoseconds`);
};
