import { describe, expect, it } from 'vitest';
import { decodeFinding, encodeFinding } from '../../../shared/findings/codec.ts';
import { throttleFindings, type WindowCounters } from '../../../shared/observe/throttle-findings.ts';
import { ownerOf, TableShapeError, throttleCounters } from '../../../shared/observe/throttle-table.ts';
import { collectedTable, type TestColumn } from '../../support/pixie-table.ts';

const MS = 1_000_000n;
const S = 1_000_000_000;

interface Row {
  pod: string;
  container: string;
  deployment: string;
  periods: [number, number];
  throttled: [number, number];
  throttledNs: [number, number];
  cpuNs?: number;
  quotaNs?: number;
  /** Pixie's metadata does not know the pod: its name columns are empty. */
  unnamed?: boolean;
}

/** A cpu_throttle result table for one window, as the script returns it. */
const table = async (name: string, startMs: number, rows: Row[]) => {
  const col = (type: 'int' | 'string' | 'time', f: (r: Row) => string | number): TestColumn =>
    ({ type, values: rows.map(f) }) as TestColumn;
  return collectedTable(name, {
    first_time: { type: 'time', values: rows.map(() => BigInt(startMs + 500) * MS) },
    last_time: { type: 'time', values: rows.map(() => BigInt(startMs + 59_500) * MS) },
    samples: col('int', () => 60),
    node: col('string', () => 'gke-pool-1'),
    namespace: col('string', (r) => (r.unnamed === true ? '' : 'shop')),
    pod: col('string', (r) => (r.unnamed === true ? '' : `shop/${r.pod}`)),
    pod_uid: col('string', (r) => `uid-${r.pod}`),
    owner_references: col('string', (r) => (r.unnamed === true ? '' : JSON.stringify([{ kind: 'ReplicaSet', name: `${r.deployment}-7d9f8` }]))),
    deployment: col('string', (r) => (r.unnamed === true ? '' : r.deployment)),
    container_name: col('string', (r) => (r.cpuNs === undefined ? '' : r.container)),
    container_id: col('string', (r) => (r.cpuNs === undefined ? '' : `c0ffee${r.pod}`)),
    container_key: col('string', (r) => `c0ffee${r.pod}`),
    container_cgroup: col('string', (r) => `c0ffee${r.pod}`),
    nr_periods_first: col('int', (r) => r.periods[0]),
    nr_periods_last: col('int', (r) => r.periods[1]),
    nr_throttled_first: col('int', (r) => r.throttled[0]),
    nr_throttled_last: col('int', (r) => r.throttled[1]),
    throttled_time_ns_first: col('int', (r) => r.throttledNs[0]),
    throttled_time_ns_last: col('int', (r) => r.throttledNs[1]),
    nr_bursts_first: col('int', () => 0),
    nr_bursts_last: col('int', () => 0),
    burst_time_ns_first: col('int', () => 0),
    burst_time_ns_last: col('int', () => 0),
    quota_ns: col('int', (r) => r.quotaNs ?? 20_000_000),
    period_ns: col('int', () => 100_000_000),
    burst_ns: col('int', () => 0),
    cpu_time_ns: col('int', (r) => r.cpuNs ?? 0),
  });
};

const t0 = Date.parse('2026-11-27T12:00:00.000Z');
const windowOf = (i: number) => ({ start: new Date(t0 + i * 60_000), end: new Date(t0 + (i + 1) * 60_000) });

/** A bursty container: throttled in 40% of 600 periods while using 31% of its 0.2-core limit. */
const bursty = (i: number): Row => ({
  pod: 'cart-7d9f8-abcde',
  container: 'app',
  deployment: 'cart',
  periods: [i * 600, (i + 1) * 600],
  throttled: [i * 240, (i + 1) * 240],
  throttledNs: [i * 9_600_000_000, (i + 1) * 9_600_000_000],
  cpuNs: 3_720_000_000,
});

const quiet = (i: number): Row => ({
  pod: 'web-1',
  container: 'app',
  deployment: 'web',
  periods: [i * 600, (i + 1) * 600],
  throttled: [0, 0],
  throttledNs: [0, 0],
  cpuNs: 1 * S,
});

const windows = async (count: number, rows: (i: number) => Row[]): Promise<WindowCounters[]> =>
  Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      window: windowOf(i),
      counters: throttleCounters(await table(`cpu_throttle_w${i}`, t0 + i * 60_000, rows(i)), windowOf(i), 'lab'),
    })),
  );

const context = { cluster: 'lab', source: 'replay' as const, producedAt: new Date(t0 + 181_000) };

describe('throttleCounters', () => {
  it('maps a row to the analysis input with identity, counters, bandwidth and CPU time', async () => {
    const [first] = throttleCounters(await table('t', t0, [bursty(0)]), windowOf(0), 'lab');
    expect(first).toEqual({
      identity: {
        cluster: 'lab',
        namespace: 'shop',
        pod: 'cart-7d9f8-abcde',
        podUid: 'uid-cart-7d9f8-abcde',
        container: 'app',
        containerId: 'c0ffeecart-7d9f8-abcde',
        node: 'gke-pool-1',
        owner: { kind: 'Deployment', name: 'cart' },
      },
      window: { startMs: t0, endMs: t0 + 60_000 },
      samples: [
        { atMs: t0 + 500, nrPeriods: 0, nrThrottled: 0, throttledTimeNs: 0, nrBursts: 0, burstTimeNs: 0 },
        { atMs: t0 + 59_500, nrPeriods: 600, nrThrottled: 240, throttledTimeNs: 9.6 * S, nrBursts: 0, burstTimeNs: 0 },
      ],
      bandwidth: { quotaNs: 20_000_000, periodNs: 100_000_000 },
      cpuUsedNs: 3.72 * S,
    });
  });

  it('leaves CPU time absent when no process_stats row matched, and names the container by its id', async () => {
    const { cpuNs: _c, ...unmeasured } = bursty(0);
    const [counters] = throttleCounters(await table('t', t0, [unmeasured]), windowOf(0), 'lab');
    expect(counters).not.toHaveProperty('cpuUsedNs');
    expect(counters?.identity.container).toBe('c0ffeecart-7d9f8-abcde');
  });

  it('names a pod the metadata does not know by its cgroup (pod<uid>), so unnamed pods stay apart', async () => {
    const rows = [{ ...bursty(0), unnamed: true }, { ...bursty(0), pod: 'other', unnamed: true }];
    const counters = throttleCounters(await table('t', t0, rows), windowOf(0), 'lab');
    expect(counters.map((c) => [c.identity.namespace, c.identity.pod, c.identity.owner])).toEqual([
      ['', 'poduid-cart-7d9f8-abcde', { kind: 'Pod', name: 'poduid-cart-7d9f8-abcde' }],
      ['', 'poduid-other', { kind: 'Pod', name: 'poduid-other' }],
    ]);
  });

  it('drops rows of containers without a quota', async () => {
    expect(throttleCounters(await table('t', t0, [{ ...bursty(0), quotaNs: -1 }]), windowOf(0), 'lab')).toEqual([]);
  });

  it('names a missing column instead of reading zeros', async () => {
    const broken = await collectedTable('t', { quota_ns: { type: 'int', values: [20_000_000] } });
    expect(() => throttleCounters(broken, windowOf(0), 'lab')).toThrow(TableShapeError);
    expect(() => throttleCounters(broken, windowOf(0), 'lab')).toThrow(/has no column namespace/);
  });

  it.each([
    ['cart', '[]', 'cart-1', { kind: 'Deployment', name: 'cart' }],
    ['', '[{"kind":"StatefulSet","name":"db","uid":"u"}]', 'db-0', { kind: 'StatefulSet', name: 'db' }],
    ['', 'not json', 'lonely', { kind: 'Pod', name: 'lonely' }],
    ['shop/cart', '', 'cart-1', { kind: 'Deployment', name: 'cart' }],
  ])('ownerOf(%j, %j)', (deployment, refs, pod, owner) => {
    expect(ownerOf(deployment, refs, pod)).toEqual(owner);
  });
});

describe('throttleFindings', () => {
  it('recommends action after three consecutive throttled windows, with the numbers that decided it', async () => {
    const findings = throttleFindings(await windows(3, (i) => [bursty(i), quiet(i)]), context);
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding).toMatchObject({
      kind: 'cpu.throttle',
      cluster: 'lab',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'cart', container: 'app' },
      observedWindow: { start: '2026-11-27T12:02:00.000Z', end: '2026-11-27T12:03:00.000Z', seconds: 60 },
      source: 'replay',
      throttle: { verdict: 'metrics-lie', limitMillicores: 200, consecutiveWindows: 3, actionRecommended: true },
    });
    expect(finding?.throttle.throttledRatio).toBeCloseTo(0.4, 6);
    expect(finding?.throttle.meanUseOfLimit).toBeCloseTo(3.72 / 12, 6);
    expect(finding?.throttle.recommendedLimitMillicores).toBeGreaterThan(200);
    expect(finding?.throttle.recommendedLimitMillicores).toBeLessThanOrEqual(400);
    expect(finding?.throttle.pods[0]?.counters).toEqual({ periods: 600, throttledPeriods: 240, throttledTimeNs: 9.6 * S, bursts: 0, burstTimeNs: 0, quotaUs: 20_000, periodUs: 100_000 });
    // It fits the topic's schema.
    expect(decodeFinding(encodeFinding(finding!))).toEqual(finding);
  });

  it('holds back after fewer windows, and a window without data breaks the streak', async () => {
    const two = throttleFindings(await windows(2, (i) => [bursty(i)]), context);
    expect(two[0]?.throttle).toMatchObject({ consecutiveWindows: 2, actionRecommended: false });
    const gap = throttleFindings(await windows(3, (i) => (i === 1 ? [quiet(i)] : [bursty(i)])), context);
    expect(gap[0]?.throttle).toMatchObject({ consecutiveWindows: 1, actionRecommended: false });
  });

  it('is stable: the same windows give the same finding ids', async () => {
    const a = throttleFindings(await windows(3, (i) => [bursty(i)]), context);
    const b = throttleFindings(await windows(3, (i) => [bursty(i)]), { ...context, producedAt: new Date() });
    expect(a.map((f) => f.id)).toEqual(b.map((f) => f.id));
  });

  it('publishes nothing for healthy containers', async () => {
    expect(throttleFindings(await windows(3, (i) => [quiet(i)]), context)).toEqual([]);
  });
});
