/**
 * What the client reads from, and adds to, a PxL script: whether it is a mutation (uses pxtrace),
 * and the `max_output_rows_per_table` query flag, set from a validated integer only.
 *
 * @module
 */

/** Pixie CLI's rule for mutation scripts: a line that is exactly `import pxtrace` or `from pxtrace`. */
export const MUTATION_PATTERN = /^(from pxtrace|import pxtrace)\r?$/m;

/** Whether the script deploys tracepoints, so it must be sent with `mutation=true`. */
export const isMutationScript = (script: string): boolean => MUTATION_PATTERN.test(script);

/** Pixie's row cap per output table when a script sets none. */
export const DEFAULT_MAX_OUTPUT_ROWS = 10_000;

/** Largest cap this client will ask for (Pixie's limit is an int64; keep it a safe number). */
export const MAX_OUTPUT_ROWS_LIMIT = 1_000_000_000;

const ROWS_FLAG_LINE = /^#px:set max_output_rows_per_table=(.*)$/gm;

/**
 * The row cap the script runs under: the value of its last `#px:set max_output_rows_per_table=N`
 * line, or Pixie's default. A value that is not a plain integer is rejected, as Pixie rejects it.
 */
export const maxOutputRowsOf = (script: string): number => {
  let cap = DEFAULT_MAX_OUTPUT_ROWS;
  for (const match of script.matchAll(ROWS_FLAG_LINE)) {
    const raw = (match[1] ?? '').trim();
    if (!/^\d+$/.test(raw)) {
      throw new TypeError(`the script's max_output_rows_per_table flag is not an integer`);
    }
    cap = Number(raw);
  }
  return cap;
};

/** A script with its row cap set, and how many lines were added before the original first line. */
export interface CappedScript {
  readonly script: string;
  /** Lines added at the top: subtract from compiler error lines to point into the original. */
  readonly addedLines: number;
}

/**
 * Sets the script's row cap to `rows`. An existing `max_output_rows_per_table` line is rewritten
 * in place (line numbers stay as they were); otherwise one flag line is put first. `rows` must be
 * an integer from 1 to {@link MAX_OUTPUT_ROWS_LIMIT}; nothing else is ever written into the script.
 */
export const applyMaxOutputRows = (script: string, rows: number): CappedScript => {
  if (!Number.isSafeInteger(rows) || rows < 1 || rows > MAX_OUTPUT_ROWS_LIMIT) {
    throw new RangeError(`max output rows must be an integer from 1 to ${MAX_OUTPUT_ROWS_LIMIT}, got ${String(rows)}`);
  }
  const line = `#px:set max_output_rows_per_table=${rows.toFixed(0)}`;
  if (script.match(ROWS_FLAG_LINE)) {
    return { script: script.replace(ROWS_FLAG_LINE, line), addedLines: 0 };
  }
  return { script: `${line}\n${script}`, addedLines: 1 };
};

/** The script with its row cap set to `rows` (see {@link applyMaxOutputRows}). */
export const withMaxOutputRows = (script: string, rows: number): string => applyMaxOutputRows(script, rows).script;
