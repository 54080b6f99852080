/**
 * The twin's simulated day of kernel data (dev/twin/day.ts) over the demo's recordings, and the
 * replay backend that follows the clock: copies land at the chosen times with counters that keep
 * counting, births become other pods, and rows after "now" do not exist yet.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RECORDINGS_DIR } from '../../../dev/demo/kernel.ts';
import { DEMO_WORKLOADS } from '../../../dev/demo/workloads.ts';
import type { Recording } from '../../../dev/lab/scenarios.ts';
import { births, throttleEpisodes } from '../../../dev/twin/day.ts';
import { replayBackend } from '../../../dev/vizier/pxl/replay.ts';
import { PIXIE_TABLES } from '../../../dev/vizier/pxl/schemas.ts';

const recording = (name: string) => JSON.parse(readFileSync(path.join(RECORDINGS_DIR, `${name}.json`), 'utf8')) as Recording;
const field = (line: string, name: string): bigint => BigInt(new RegExp(`(?:^| )${name}:(\\d+)`).exec(line)?.[1] ?? 'NaN');
const wallNs = (r: Recording, line: string): bigint => field(line, 'time_') + BigInt(r.clockOffsetNs);
const cart = DEMO_WORKLOADS[0]!;

describe('a simulated day of kernel data', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('places a pod’s throttle rows at each chosen time, its counters and CPU times continuing from the copy before', () => {
    const source = recording('throttle');
    const at = [new Date('2026-12-05T06:17:00Z'), new Date('2026-12-05T06:22:00Z')];
    const [first, second] = throttleEpisodes(source, cart, at);
    // The pod its Deployment's ReplicaSet owns, as the API server showed it when recorded.
    const uid = source.containers.find((c) => c.namespace === cart.namespace && c.owner?.kind === 'ReplicaSet' && c.owner.name.startsWith(`${cart.deployment}-`))?.podUid ?? '';
    expect(uid).not.toBe('');
    for (const [copy, time] of [[first!, at[0]!], [second!, at[1]!]] as const) {
      expect(copy.containers.every((c) => c.podUid === uid)).toBe(true);
      expect(copy.printfs.length).toBeGreaterThan(3);
      expect(copy.printfs.every((line) => line.includes(uid))).toBe(true);
      const times = copy.printfs.map((line) => wallNs(copy, line));
      expect(times.reduce((a, b) => (b < a ? b : a))).toBe(BigInt(time.getTime()) * 1_000_000n);
    }
    // The second copy starts where the first ended, for every CFS counter of the container.
    const last = (r: Recording, name: string) => r.printfs.map((l) => field(l, name)).reduce((a, b) => (b > a ? b : a));
    const firstOf = (r: Recording, name: string) => r.printfs.map((l) => field(l, name)).reduce((a, b) => (b < a ? b : a));
    for (const name of ['nr_periods', 'nr_throttled', 'throttled_time_ns']) {
      expect(firstOf(second!, name)).toBeGreaterThanOrEqual(last(first!, name));
      expect(last(second!, name)).toBe(2n * last(first!, name));
    }
    expect(last(first!, 'nr_throttled')).toBeGreaterThan(0n);
    expect(() => throttleEpisodes(source, { namespace: 'shop', deployment: 'no-such-deployment' }, at)).toThrow(/has no pod of shop\/no-such-deployment \(it has shop\/cart, /);
  });

  it('makes each birth another pod: its own uid, name and container ids, born at its time', () => {
    const source = recording('birth');
    const at = [new Date('2026-12-05T06:04:00Z'), new Date('2026-12-05T06:14:00Z')];
    const day = births(source, at);
    const original = source.containers[0]!;
    expect(new Set(day.births.map((b) => b.podUid)).size).toBe(2);
    expect(new Set(day.births.map((b) => b.pod)).size).toBe(2);
    day.recordings.forEach((copy, i) => {
      const text = JSON.stringify(copy.printfs) + JSON.stringify(copy.containers);
      expect(text).not.toContain(original.podUid.slice(-12));
      expect(text).not.toContain(original.pod);
      for (const c of source.containers) {
        expect(text).not.toContain(c.containerId.slice(0, 12));
      }
      const birth = day.births[i]!;
      expect(copy.containers.every((c) => c.podUid === birth.podUid && c.pod === birth.pod)).toBe(true);
      expect(copy.printfs.some((line) => line.includes(day.births[i]!.podUid))).toBe(true);
      const times = copy.printfs.map((line) => wallNs(copy, line));
      expect(times.reduce((a, b) => (b < a ? b : a))).toBe(BigInt(at[i]!.getTime()) * 1_000_000n);
    });
  });

  it('serves, when it follows the clock, only what the probes had seen by now', () => {
    const source = recording('throttle');
    const at = [new Date('2026-12-05T06:17:00Z'), new Date('2026-12-05T06:22:00Z')];
    const backend = replayBackend(throttleEpisodes(source, cart, at), { followClock: true });
    const relation = PIXIE_TABLES.get('process_stats') ?? [];
    const rows = () => backend.builtin('process_stats', relation, undefined, undefined)?.rows ?? -1;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-05T06:16:59Z'));
    expect(rows()).toBe(0);
    expect(backend.nowNs()).toBe(BigInt(Date.parse('2026-12-05T06:16:59Z')) * 1_000_000n);
    vi.setSystemTime(new Date('2026-12-05T06:20:00Z'));
    const one = rows();
    expect(one).toBeGreaterThan(0);
    vi.setSystemTime(new Date('2026-12-05T06:30:00Z'));
    expect(rows()).toBe(2 * one);
    // Without followClock, "now" is the end of the recordings and every row is there.
    expect(replayBackend(throttleEpisodes(source, cart, at)).builtin('process_stats', relation, undefined, undefined)?.rows).toBe(2 * one);
  });
});
