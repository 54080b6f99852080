/**
 * A process started on the twin's clock (dev/twin/clock.ts -> dev/twin/clock-preload.ts) reads
 * the simulated time, and sees each step of it, while its timers stay real.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedClock } from '../../../dev/twin/clock.ts';

const CHILD = `
const { createInterface } = await import('node:readline');
const lines = createInterface({ input: process.stdin });
const started = performance.now();
for await (const line of lines) {
  if (line === 'timer') {
    const before = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    console.log(JSON.stringify({ realMs: performance.now() - before }));
  } else {
    console.log(JSON.stringify({ now: Date.now(), date: new Date().toISOString(), fn: Date(), explicit: new Date(0).toISOString(), parsed: Date.parse('2020-01-01T00:00:00Z'), instance: new Date() instanceof Date }));
  }
}
`;

describe('the twin’s clock in another process', () => {
  let clock: SharedClock | undefined;
  afterEach(() => {
    clock?.close();
  });

  it('reads the simulated time, follows each step, and keeps explicit dates and timers real', async () => {
    clock = new SharedClock(new Date('2026-12-05T06:00:00Z'));
    const child = spawn(process.execPath, [...clock.nodeArgs(), '--input-type=module', '-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const ask = async (line = 'now'): Promise<Record<string, unknown>> => {
      child.stdin.write(`${line}\n`);
      const next = await lines.next();
      return JSON.parse(String(next.value)) as Record<string, unknown>;
    };
    try {
      expect(await ask()).toEqual({
        now: Date.parse('2026-12-05T06:00:00Z'),
        date: '2026-12-05T06:00:00.000Z',
        fn: new Date('2026-12-05T06:00:00Z').toString(),
        explicit: '1970-01-01T00:00:00.000Z',
        parsed: Date.parse('2020-01-01T00:00:00Z'),
        instance: true,
      });
      clock.stepTo(new Date('2026-12-05T06:05:00Z'));
      // The child re-reads the clock file at most every 2 ms: poll until it has seen the step.
      let seen = await ask();
      for (let i = 0; i < 200 && seen['date'] !== '2026-12-05T06:05:00.000Z'; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen = await ask();
      }
      expect(seen['date']).toBe('2026-12-05T06:05:00.000Z');
      expect(Number((await ask('timer'))['realMs'])).toBeGreaterThanOrEqual(45);
    } finally {
      child.kill();
    }
  });
});
