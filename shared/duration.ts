/**
 * The one duration grammar of kernel-gossip: a whole number and one unit, `250ms`, `90s`, `30m`,
 * `1h`. Environment variables (`shared/config.ts`), workload annotations (`shared/kube/policy.ts`)
 * and the Terraform variables' validations (`variables.tf`, regex {@link DURATION_PATTERN}) all
 * read it, and the generated tofu test (test/integration/terraform/settings.test.ts) checks that
 * Terraform accepts and refuses exactly what this module does. No bare numbers (seconds or
 * milliseconds?), no fractions, no spaces.
 *
 * @module
 */

/** Milliseconds per unit. */
export const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** The grammar as a regular expression in the syntax RE2 (Terraform's `regex()`) and JavaScript share. */
export const DURATION_PATTERN = '^([0-9]+)(ms|s|m|h)$';

const DURATION = new RegExp(DURATION_PATTERN);

/** How the grammar is described in errors. */
export const DURATION_EXPECTED = 'a whole number and one unit (ms, s, m or h), such as 250ms, 90s, 30m or 1h';

/** Milliseconds of a duration written in the grammar; undefined when `raw` is not one. */
export const parseDuration = (raw: string): number | undefined => {
  const match = DURATION.exec(raw);
  const amount = match?.[1];
  const unit = match?.[2] as keyof typeof DURATION_UNITS_MS | undefined;
  if (amount === undefined || unit === undefined) {
    return undefined;
  }
  const ms = Number(amount) * DURATION_UNITS_MS[unit];
  return Number.isSafeInteger(ms) ? ms : undefined;
};
