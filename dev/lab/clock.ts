/**
 * Clocks: bpftrace's `nsecs` and Node's `process.hrtime.bigint()` both read CLOCK_MONOTONIC, so lab
 * samples and probe rows share one time base; Pixie shows `time_` as wall-clock time.
 */

/** CLOCK_MONOTONIC now, in ns (the clock of bpftrace's `nsecs`). */
export const monotonicNs = (): bigint => process.hrtime.bigint();

/**
 * Wall-clock minus monotonic, in ns: add it to a monotonic timestamp to get ns since the epoch.
 * Measured as the midpoint of two monotonic reads around one wall-clock read.
 */
export const monotonicToWallOffsetNs = (): bigint => {
  const before = monotonicNs();
  const wall = BigInt(Date.now()) * 1_000_000n;
  const after = monotonicNs();
  return wall - (before + after) / 2n;
};
