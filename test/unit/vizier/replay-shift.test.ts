import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Recording } from '../../../dev/lab/scenarios.ts';
import { replayShiftNs, shiftRecording } from '../../../dev/vizier/pxl/replay.ts';
import { coveringWindow } from '../../../dev/demo/windows.ts';

const dir = path.resolve(import.meta.dirname, '../../../dev/demo/recordings');
const read = (name: string): Recording => JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Recording;

describe('replaying recordings as if just observed', () => {
  it('moves every recording by one shift so the latest ends at the given time, keeping the intervals between them', () => {
    const [throttle, birth] = [read('throttle'), read('birth')];
    const endsAt = Date.parse('2026-12-04T13:00:00.000Z');
    const shift = replayShiftNs([throttle, birth], BigInt(endsAt) * 1_000_000n);
    const end = (r: Recording): bigint => BigInt(r.windowMonoNs.end) + BigInt(r.clockOffsetNs);
    const [t, b] = [shiftRecording(throttle, shift), shiftRecording(birth, shift)];
    expect(end(t) > end(b) ? end(t) : end(b)).toBe(BigInt(endsAt) * 1_000_000n);
    expect(end(t) - end(b)).toBe(end(throttle) - end(birth));
    // The windows the demo asks for move by the same shift, to just before the given end.
    const before = coveringWindow(throttle, 3);
    const after = coveringWindow(t, 3);
    // Windows are whole milliseconds, the shift is nanoseconds: equal to the millisecond.
    expect(Math.abs(Date.parse(after.end) - Date.parse(before.end) - Number(shift / 1_000_000n))).toBeLessThanOrEqual(1);
    expect(Date.parse(after.end)).toBeLessThanOrEqual(endsAt);
    expect(Math.abs(Date.parse(after.end) - Date.parse(after.start) - (Date.parse(before.end) - Date.parse(before.start)))).toBeLessThanOrEqual(1);
  });
});
