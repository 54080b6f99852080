/**
 * Puts a process of the twin on the twin's simulated clock: loaded with
 * `node --import <this file's URL>?file=<clock file>` (see {@link SharedClock.nodeArgs} in
 * dev/twin/clock.ts), it replaces `Date` so `Date.now()` and `new Date()` read the clock the
 * twin's test drives (the anchor in the clock file), while timers, `performance.now()` and
 * explicit dates stay real. Every process of the twin that judges time (the functions: windows,
 * evidence age, cooldowns; the local Vizier: which rows exist yet, probe TTLs, fault windows)
 * reads one time axis, so a compressed day of schedule means the same thing to all of them.
 *
 * The file is re-read when it changes (checked at most every 2 ms of real time), so a step of the
 * clock is seen by every later call after that.
 *
 * @module
 */
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type ClockAnchor, parseAnchor, simulatedMs } from './clock-anchor.ts';

const file = new URL(import.meta.url).searchParams.get('file');
if (file === null || file === '') {
  throw new Error('dev/twin/clock-preload.ts needs ?file=<clock file> in its import URL');
}

const RealDate = Date;
const realNow = RealDate.now.bind(RealDate);
let anchor: ClockAnchor = parseAnchor(readFileSync(file, 'utf8'), file);
let version = '';
let checkedAt = -Infinity;

const current = (): number => {
  const at = performance.now();
  if (at - checkedAt >= 2) {
    checkedAt = at;
    const stat = statSync(file, { bigint: true });
    const seen = `${stat.ino}:${stat.mtimeNs}:${stat.size}`;
    if (seen !== version) {
      version = seen;
      anchor = parseAnchor(readFileSync(file, 'utf8'), file);
    }
  }
  return simulatedMs(anchor, realNow());
};

globalThis.Date = new Proxy(RealDate, {
  construct: (target, args: unknown[], newTarget: (...a: unknown[]) => unknown) =>
    Reflect.construct(target, args.length === 0 ? [current()] : args, newTarget) as object,
  // `Date()` called as a function: the current time as a string.
  apply: () => new RealDate(current()).toString(),
  get: (target, property, receiver) => (property === 'now' ? current : (Reflect.get(target, property, receiver) as unknown)),
});
