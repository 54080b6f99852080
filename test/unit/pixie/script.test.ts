import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_OUTPUT_ROWS,
  applyMaxOutputRows,
  isMutationScript,
  maxOutputRowsOf,
  withMaxOutputRows,
} from '../../../shared/pixie/script.ts';

describe('mutation detection (Pixie CLI rule)', () => {
  it.each([
    ['import px\nimport pxtrace\n', true],
    ['from pxtrace\n', true],
    ['import pxtrace\r\nimport px', true],
    ['import px\n', false],
    ['import pxtrace as t\n', false],
    ['  import pxtrace\n', false],
    ['# import pxtrace is not needed\n', false],
    ['from pxtrace import probe\n', false],
  ])('%j -> %s', (script, expected) => {
    expect(isMutationScript(script)).toBe(expected);
  });
});

describe('max_output_rows_per_table flag', () => {
  it('puts one flag line first and reports the added line', () => {
    const capped = applyMaxOutputRows('import px\npx.display(df)', 500);
    expect(capped).toEqual({ script: '#px:set max_output_rows_per_table=500\nimport px\npx.display(df)', addedLines: 1 });
    expect(maxOutputRowsOf(capped.script)).toBe(500);
  });

  it('rewrites an existing flag line in place', () => {
    const script = 'import px\n#px:set max_output_rows_per_table=20\npx.display(df)';
    expect(applyMaxOutputRows(script, 7)).toEqual({ script: 'import px\n#px:set max_output_rows_per_table=7\npx.display(df)', addedLines: 0 });
  });

  it.each([0, -1, 1.5, Number.NaN, 2e9, Number.POSITIVE_INFINITY])('refuses %s', (rows) => {
    expect(() => withMaxOutputRows('import px', rows)).toThrow(RangeError);
  });

  it('refuses text that would change the script', () => {
    expect(() => withMaxOutputRows('import px', '5\nimport os' as unknown as number)).toThrow(RangeError);
  });

  it('reads the cap a script runs under', () => {
    expect(maxOutputRowsOf('import px')).toBe(DEFAULT_MAX_OUTPUT_ROWS);
    expect(maxOutputRowsOf('#px:set max_output_rows_per_table=3\n#px:set max_output_rows_per_table=9\n')).toBe(9);
    expect(() => maxOutputRowsOf('#px:set max_output_rows_per_table=lots\n')).toThrow(TypeError);
  });
});
