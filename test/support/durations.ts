/**
 * Samples of the one duration grammar (shared/duration.ts) for a duration setting: what both the
 * code (test/unit/settings.test.ts) and Terraform's validations (the generated tofu test,
 * test/integration/terraform/settings.test.ts) must accept, with the milliseconds it means, and
 * what both must refuse. Bounded settings add their bounds in every unit that writes them exactly
 * and the values one millisecond (and one unit) outside them.
 */
import { DURATION_UNITS_MS } from '../../shared/duration.ts';
import type { DurationSetting } from '../../shared/settings.ts';

export interface DurationSamples {
  readonly accepted: readonly { readonly text: string; readonly ms: number }[];
  readonly refused: readonly string[];
}

/** Not the grammar: no unit, fractions, unknown or upper-case units, spaces, signs, compounds. */
const NOT_DURATIONS = ['30', '1.5h', '1d', '5M', ' 5m', '5 m', '-5m', '1h30m', 'm'];

/** `ms` written in every unit that divides it exactly. */
const spellings = (ms: number): { text: string; ms: number }[] =>
  Object.entries(DURATION_UNITS_MS)
    .filter(([, unitMs]) => ms % unitMs === 0)
    .map(([unit, unitMs]) => ({ text: `${String(ms / unitMs)}${unit}`, ms }));

export const durationSamples = (setting: DurationSetting): DurationSamples => {
  const everyUnit = [
    { text: '90000ms', ms: 90_000 },
    { text: '90s', ms: 90_000 },
    { text: '15m', ms: 900_000 },
    { text: '2h', ms: 7_200_000 },
  ];
  const inside = everyUnit.filter(({ ms }) => (setting.minMs === undefined || ms >= setting.minMs) && (setting.maxMs === undefined || ms <= setting.maxMs));
  const bounds = [setting.minMs, setting.maxMs].filter((b) => b !== undefined).flatMap(spellings);
  const outside = [
    ...(setting.minMs === undefined ? [] : [`${String(setting.minMs - 1)}ms`]),
    ...(setting.maxMs === undefined ? [] : [`${String(setting.maxMs + 1)}ms`, `${String(setting.maxMs / 60_000 + 1)}m`]),
  ];
  return { accepted: [...inside, ...bounds], refused: [...NOT_DURATIONS, ...outside] };
};
