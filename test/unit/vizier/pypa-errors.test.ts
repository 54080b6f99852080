/**
 * Pixie's syntax errors: for every broken script of test/fixtures/pxl-syntax/pypa-errors.json, the
 * errors Pixie's own parser reported (libpypa eba8ec4 driven as Pixie's
 * src/carnot/planner/parser/parser.cc does, run by hand; see the fixture's _about) are exactly the
 * ones the local Vizier's model gives: texts, positions, order (innermost first), and the status
 * message (their texts concatenated, PypaErrorHandler::ProcessErrors).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PxlEngine } from '../../../dev/vizier/pxl/engine.ts';
import { replayBackend } from '../../../dev/vizier/pxl/replay.ts';

interface Case {
  readonly source: string;
  readonly errors: readonly (readonly [number, number, string])[];
  readonly message: string;
}
const CASES = (JSON.parse(readFileSync('test/fixtures/pxl-syntax/pypa-errors.json', 'utf8')) as { cases: Case[] }).cases;
const engine = new PxlEngine(replayBackend([]));

describe("syntax errors as Pixie's parser reports them", () => {
  it('has cases', () => {
    expect(CASES.length).toBeGreaterThan(40);
  });
  it.each(CASES.map((c) => [JSON.stringify(c.source), c] as const))('%s', (_name, c) => {
    const compiled = engine.compile(c.source, []);
    expect(compiled.ok).toBe(false);
    if (compiled.ok || compiled.failure.kind !== 'compile') {
      throw new Error('expected a compile failure');
    }
    expect({ message: compiled.failure.message, errors: compiled.failure.errors.map((e) => [e.line, e.column, e.message]) }).toEqual({ message: c.message, errors: c.errors });
  });
});
