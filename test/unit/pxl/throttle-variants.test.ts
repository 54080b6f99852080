import { describe, expect, it } from 'vitest';
import { parseKernelRelease, programsFor, type TraceSelector } from '../../../dev/vizier/kernel-selectors.ts';
import { loadRepoScript } from '../../../dev/lab/scripts.ts';
import { programOutput } from '../../../shared/pxl/bpftrace-program.ts';
import { throttleCounters } from '../../../shared/observe/throttle-table.ts';
import { collectedTable } from '../../support/pixie-table.ts';

const variantsOf = async () => {
  const script = await loadRepoScript('cpu_throttle');
  return { script, variants: script.variants.map((v) => ({ ...v, selectors: v.selectors as readonly TraceSelector[] })) };
};

describe('cpu_throttle kernel variants (pxtrace.TraceProgram)', () => {
  it('gives every kernel exactly one variant, by Pixie\'s selector rules (tracepoint.go:296-405)', async () => {
    const { variants } = await variantsOf();
    expect(variants).toHaveLength(3);
    for (let version = 3; version <= 7; version += 1) {
      for (let major = 0; major <= 20; major += 1) {
        for (const minor of [0, 1, 99, 255]) {
          const picked = programsFor(variants, { hostname: 'n', kernel: parseKernelRelease(`${version}.${major}.${minor}`) });
          expect(picked, `${version}.${major}.${minor}`).toHaveLength(1);
        }
      }
    }
  });

  it('reads the burst statistics from 5.16, the burst from 5.14, neither before; one format for all', async () => {
    const { script, variants } = await variantsOf();
    const pick = (release: string) => variants[programsFor(variants, { hostname: 'n', kernel: parseKernelRelease(release) })[0] ?? -1]?.program ?? '';
    expect(pick('6.6.56+')).toBe(script.program);
    expect(pick('5.16.0')).toContain('cfs_bandwidth.nr_burst');
    expect(pick('5.15.146+')).toContain('cfs_bandwidth.burst,');
    expect(pick('5.15.146+')).not.toContain('cfs_bandwidth.nr_burst');
    expect(pick('5.14.0')).not.toContain('cfs_bandwidth.nr_burst');
    expect(pick('5.13.19')).not.toContain('cfs_bandwidth.burst');
    expect(pick('5.10.214+')).not.toContain('cfs_bandwidth.burst');
    expect(new Set(variants.map((v) => programOutput(v.program).format)).size).toBe(1);
  });

  it('reads -1 burst counters (kernels without them) as not measured, never as 0', async () => {
    const row = (bursts: number) => ({
      first_time: { type: 'time' as const, values: [1_000_000_000] }, last_time: { type: 'time' as const, values: [2_000_000_000] },
      samples: { type: 'int' as const, values: [2] }, node: { type: 'string' as const, values: ['n'] }, namespace: { type: 'string' as const, values: ['ns'] },
      pod: { type: 'string' as const, values: ['ns/p'] }, pod_uid: { type: 'string' as const, values: ['u'] }, owner_references: { type: 'string' as const, values: ['[]'] },
      deployment: { type: 'string' as const, values: [''] }, container_name: { type: 'string' as const, values: ['c'] }, container_id: { type: 'string' as const, values: ['id'] },
      container_key: { type: 'string' as const, values: ['id'] }, container_cgroup: { type: 'string' as const, values: ['cg'] },
      nr_periods_first: { type: 'int' as const, values: [1] }, nr_periods_last: { type: 'int' as const, values: [11] },
      nr_throttled_first: { type: 'int' as const, values: [0] }, nr_throttled_last: { type: 'int' as const, values: [5] },
      throttled_time_ns_first: { type: 'int' as const, values: [0] }, throttled_time_ns_last: { type: 'int' as const, values: [5_000_000] },
      nr_bursts_first: { type: 'int' as const, values: [bursts] }, nr_bursts_last: { type: 'int' as const, values: [bursts] },
      burst_time_ns_first: { type: 'int' as const, values: [bursts] }, burst_time_ns_last: { type: 'int' as const, values: [bursts] },
      quota_ns: { type: 'int' as const, values: [10_000_000] }, period_ns: { type: 'int' as const, values: [100_000_000] }, burst_ns: { type: 'int' as const, values: [0] },
      cpu_time_ns: { type: 'int' as const, values: [100] },
    });
    const window = { start: new Date(0), end: new Date(10_000) };
    const [old] = throttleCounters(await collectedTable('t', row(-1)), window, 'c');
    expect(old?.samples.every((s) => s.nrBursts === undefined && s.burstTimeNs === undefined)).toBe(true);
    const [recent] = throttleCounters(await collectedTable('t', row(0)), window, 'c');
    expect(recent?.samples.every((s) => s.nrBursts === 0 && s.burstTimeNs === 0)).toBe(true);
  });
});
