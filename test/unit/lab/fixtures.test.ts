/**
 * The recorded lab fixtures (test/fixtures/lab, made by `node dev/lab/record.ts` on a real kernel)
 * stay usable for replay: they were recorded with exactly the programs the scripts deploy today, their
 * printfs parse by Pixie's column rules, and their ground truth agrees with what the probes saw.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { attributeBirthRows, checkThrottleRows, recordingRows, summarizeThrottle } from '../../../dev/lab/compare.ts';
import { fixtureFile } from '../../../dev/lab/record.ts';
import type { Recording } from '../../../dev/lab/scenarios.ts';
import { loadRepoScript } from '../../../dev/lab/scripts.ts';

const load = async (name: string): Promise<Recording> => JSON.parse(await readFile(fixtureFile(name), 'utf8')) as Recording;

describe('recorded lab fixtures', () => {
  it.each([
    ['throttle', 'cpu_throttle'],
    ['birth', 'pod_birth'],
    ['birth-lite', 'pod_birth_lite'],
  ] as const)('%s was recorded with the program %s deploys today', async (fixture, script) => {
    const recording = await load(fixture);
    const current = await loadRepoScript(script);
    expect(recording.script).toBe(script);
    expect(recording.program).toBe(current.program);
    expect(recording.columns).toEqual(current.output.columns);
    expect(recordingRows(recording).length).toBe(recording.printfs.length);
  });

  it('throttle rows lie within the cpu.stat reads that bracket them', async () => {
    const checks = checkThrottleRows(await load('throttle'));
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.filter((c) => c.mismatches.length > 0)).toEqual([]);
  });

  it.each(['birth', 'birth-lite'])('%s rows all belong to the lab pods, by names and by cgroup ids alike', async (fixture) => {
    const recording = await load(fixture);
    const events = attributeBirthRows(recording);
    expect(events.filter((e) => e.containerById === undefined && !e.podLevel)).toEqual([]);
    expect(events.filter((e) => e.container?.containerId !== e.containerById?.containerId)).toEqual([]);
    expect(events.filter((e) => e.event === 'entrypoint_exec').length).toBe(recording.containers.length);
  });
});

describe('summarizeThrottle on the recorded fixture', () => {
  it('gives limited containers probe counters within cpu.stat before/after, and unlimited ones no row', async () => {
    const summaries = summarizeThrottle(await load('throttle'));
    const limited = summaries.filter((s) => s.quotaUs !== undefined);
    const free = summaries.filter((s) => s.quotaUs === undefined);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(free.map((s) => s.probeRows)).toEqual(free.map(() => 0));
    for (const s of limited) {
      expect(s.probeLast?.nrPeriods).toBeLessThanOrEqual(s.cpuStatAfter?.nrPeriods ?? -1n);
      expect(s.probeLast?.throttledTimeNs).toBeLessThanOrEqual(s.cpuStatAfter?.throttledTimeNs ?? -1n);
    }
    expect(limited.every((s) => s.sampledCpuTimeNs > 0n)).toBe(true);
  });
});
