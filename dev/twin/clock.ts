/**
 * The twin's stepped clock: one simulated time axis shared by the test (the local Cloud Scheduler)
 * and every process of the twin (started with {@link SharedClock.nodeArgs}, which loads
 * dev/twin/clock-preload.ts). The clock stands still between steps and jumps to the next due time
 * only when the scheduler says so, after the previous runs ended: a compressed day whose order of
 * events does not depend on how fast (or how loaded) the machine is.
 *
 * @module
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ClockAnchor, simulatedMs } from './clock-anchor.ts';
import type { TwinClock } from './scheduler.ts';

const PRELOAD = path.join(import.meta.dirname, 'clock-preload.ts');

export class SharedClock implements TwinClock {
  readonly file: string;
  private readonly dir: string;
  private anchor: ClockAnchor;

  /** A clock standing at `start` until the first step. */
  constructor(start: Date) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'kg-twin-clock-'));
    this.file = path.join(this.dir, 'clock.json');
    this.anchor = { simMs: start.getTime(), realMs: Date.now(), rate: 0 };
    this.write();
  }

  now(): Date {
    return new Date(simulatedMs(this.anchor, Date.now()));
  }

  /** A stepped clock does not run: waiting is a step ({@link stepTo}), never a sleep. */
  realMs(): number {
    return 0;
  }

  /** Moves the clock to `at` (never backwards) for this process and every process on it. */
  stepTo(at: Date): void {
    if (at.getTime() < this.now().getTime()) {
      throw new Error(`the twin's clock runs forwards only: ${at.toISOString()} is before ${this.now().toISOString()}`);
    }
    this.anchor = { simMs: at.getTime(), realMs: Date.now(), rate: 0 };
    this.write();
  }

  /** Node options that put a child process on this clock. */
  nodeArgs(): string[] {
    const url = pathToFileURL(PRELOAD);
    url.searchParams.set('file', this.file);
    return ['--import', url.href];
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private write(): void {
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.anchor));
    renameSync(temporary, this.file);
  }
}
