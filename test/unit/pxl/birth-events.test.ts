import { describe, expect, it } from 'vitest';
import { loadRepoScript } from '../../../dev/lab/scripts.ts';
import { BIRTH_EVENTS, birthEventName } from '../../../shared/pxl/birth-events.ts';
import { BIRTH_SCRIPT_NAMES } from '../../../shared/pxl/scripts.ts';

describe('birth event codes', () => {
  it.each(BIRTH_SCRIPT_NAMES)('%s: the PxL names each code its program prints with BIRTH_EVENTS', async (name) => {
    const script = await loadRepoScript(name);
    const named = [...script.source.matchAll(/px\.select\(df\.event_code == (\d+), '([a-z_0-9]+)'/g)].map((m) => [Number(m[1]), m[2]]);
    expect(named.length).toBeGreaterThan(0);
    expect(named).toEqual(named.map(([code]) => [code, BIRTH_EVENTS[Number(code) - 1]]));
    // Every code the program prints (second printf argument) is named by the PxL.
    const printed = [...script.program.matchAll(/printf\("[^"]*",\s*nsecs, (\d+),/g)].map((m) => Number(m[1]));
    expect(printed.length).toBe(script.program.match(/\bprintf\(/g)?.length);
    expect([...new Set(printed)].sort((a, b) => a - b)).toEqual(named.map(([code]) => code));
  });

  it('names an unknown code as the PxL does', () => {
    expect(birthEventName(2n)).toBe('cgroup_attach');
    expect(birthEventName(0n)).toBe('unknown');
    expect(birthEventName(BIRTH_EVENTS.length + 1)).toBe('unknown');
  });
});
