/**
 * The twin's simulated clock as one anchor: at real time `realMs` the clock read `simMs`, and it
 * runs `rate` times as fast as real time since (0: it stands still until the next step). Pure; the
 * file that carries it between processes is dev/twin/clock.ts's, read by dev/twin/clock-preload.ts.
 *
 * @module
 */

export interface ClockAnchor {
  readonly simMs: number;
  readonly realMs: number;
  readonly rate: number;
}

/** The simulated time at real time `realNowMs`. */
export const simulatedMs = (anchor: ClockAnchor, realNowMs: number): number => anchor.simMs + (realNowMs - anchor.realMs) * anchor.rate;

/** An anchor from the clock file's text; anything else is an error naming the file. */
export const parseAnchor = (text: string, file: string): ClockAnchor => {
  const doc = JSON.parse(text) as Partial<Record<keyof ClockAnchor, unknown>>;
  const { simMs, realMs, rate } = doc;
  if (typeof simMs !== 'number' || typeof realMs !== 'number' || typeof rate !== 'number' || ![simMs, realMs, rate].every(Number.isFinite) || rate < 0) {
    throw new Error(`${file}: not a twin clock anchor ({simMs, realMs, rate >= 0})`);
  }
  return { simMs, realMs, rate };
};
