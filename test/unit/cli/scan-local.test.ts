import { describe, expect, it } from 'vitest';
import { waitForCoverage } from '../../../cli/scan-local.ts';

describe('waitForCoverage', () => {
  it('waits until the probes covered the window plus a second, printing progress', async () => {
    const since = new Date(Date.now());
    const lines: string[] = [];
    const coverage = await waitForCoverage(since, 1, { progress: (l) => lines.push(l), everyMs: 500 });
    expect(coverage).toMatchObject({ seconds: 1, interrupted: false });
    expect(coverage.end.getTime() - since.getTime()).toBeGreaterThanOrEqual(2000);
    expect(lines[0]).toBe('probes running: 0/1 s of the window covered (Ctrl-C reports what is covered so far)');
    expect(lines.length).toBeGreaterThanOrEqual(3);
  });

  it('stops early when aborted and says how much it covered', async () => {
    let clock = 0;
    const controller = new AbortController();
    const coverage = await waitForCoverage(new Date(0), 60, {
      progress: () => {
        clock += 5_000;
        if (clock >= 20_000) {
          controller.abort();
        }
      },
      signal: controller.signal,
      everyMs: 1,
      now: () => clock,
    });
    expect(coverage).toEqual({ end: new Date(20_000), seconds: 19, interrupted: true });
  });
});
