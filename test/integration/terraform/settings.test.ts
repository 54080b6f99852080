/**
 * One source for every setting: the Terraform module's own evaluation (OpenTofu's `tofu test`,
 * schema stand-in providers, mocked) is checked against shared/settings.ts, the declaration the
 * functions' config reads its bounds and defaults from. The `.tftest.hcl` file is generated here
 * from that declaration: every setting's default reaches the function environment, its bounds are
 * accepted and the values just outside them are refused by the variables' validations at plan
 * time, so a value Terraform accepts is one the code honours (test/unit/settings.test.ts checks
 * the code's side).
 *
 * Fails, never skips, without tofu and the stand-ins (bash dev/setup/40-terraform-tools.sh).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DURATION_SETTINGS, NUMBER_SETTINGS, type NumberSetting, SCHEDULE_DEFAULTS, SCHEDULE_STEP_MINUTES } from '../../../shared/settings.ts';
import { durationSamples } from '../../support/durations.ts';
import { loadModule } from '../../support/terraform/hcl.ts';
import { findTofuWithStandIns, prepareWorkCopy, runTofu, type TofuInstall } from '../../../dev/terraform/cli.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const moduleDir = 'terraform/modules/kernel-gossip';

/** HCL for `remediation = { max_step = 2 }` from the setting's dotted path. */
const objectVariable = (setting: { readonly terraform: string }, value: number | string): string => {
  const [variable, attribute] = setting.terraform.split('.');
  return `${variable ?? ''} = { ${attribute ?? ''} = ${typeof value === 'string' ? JSON.stringify(value) : String(value)} }`;
};

const variableOf = (setting: { readonly terraform: string }): string => setting.terraform.split('.')[0] ?? '';

/** A run name from a sample: tofu allows letters, digits, `_` and `-`. */
const runName = (text: string): string => text.replace(/[^A-Za-z0-9]/g, (c) => (c === '.' ? '_dot_' : c === ' ' ? '_space_' : c === '-' ? '_minus_' : '_'));

/** Just outside a bound: the next whole number for integers, a hundredth for factors. */
const outside = (setting: NumberSetting, bound: 'min' | 'max'): number => {
  const step = setting.integer ? 1 : 0.01;
  return Math.round((bound === 'min' ? setting.min - step : setting.max + step) * 100) / 100;
};

const env = (fn: string, key: string): string => `google_cloudfunctions2_function.function["${fn}"].service_config[0].environment_variables["${key}"]`;

/** The generated suite: one run per claim, named so a failure says which setting disagrees. */
const generatedSuite = (header: string): { text: string; runs: number } => {
  const runs: string[] = [];
  const defaults = Object.values(NUMBER_SETTINGS).map(
    (s) => `  assert {\n    condition     = tonumber(${env('remediate', s.env)}) == ${String(s.default)}\n    error_message = "${s.terraform} default must be ${String(s.default)}"\n  }`,
  );
  const schedules = (['observe-throttle', 'observe-births'] as const).map(
    (fn) =>
      `  assert {\n    condition     = google_cloud_scheduler_job.observe["${fn}"].schedule == "${SCHEDULE_DEFAULTS[fn]}" && ${env(fn, 'OBSERVE_TIME_ZONE')} == "${SCHEDULE_DEFAULTS.timeZone}"\n    error_message = "${fn} default schedule must be ${SCHEDULE_DEFAULTS[fn]}"\n  }`,
  );
  runs.push(`run "defaults_are_the_declared_ones" {\n  command = plan\n${[...defaults, ...schedules].join('\n')}\n}`);
  for (const [name, s] of Object.entries(NUMBER_SETTINGS)) {
    for (const bound of ['min', 'max'] as const) {
      const value = s[bound];
      runs.push(
        `run "${name}_accepts_its_${bound}" {\n  command = plan\n  variables {\n    ${objectVariable(s, value)}\n  }\n  assert {\n    condition     = tonumber(${env('remediate', s.env)}) == ${String(value)}\n    error_message = "${s.terraform} = ${String(value)} must reach ${s.env}"\n  }\n}`,
      );
      runs.push(`run "${name}_refuses_beyond_its_${bound}" {\n  command = plan\n  variables {\n    ${objectVariable(s, outside(s, bound))}\n  }\n  expect_failures = [var.${variableOf(s)}]\n}`);
    }
  }
  // Durations: the one grammar (shared/duration.ts) and the bounds (shared/settings.ts); the same
  // samples go through the code's config in test/unit/settings.test.ts.
  for (const [name, s] of Object.entries(DURATION_SETTINGS)) {
    const samples = durationSamples(s);
    samples.accepted.forEach(({ text }, i) => {
      runs.push(
        `run "${name}_accepts_${String(i)}_${runName(text)}" {\n  command = plan\n  variables {\n    ${objectVariable(s, text)}\n  }\n  assert {\n    condition     = ${env('remediate', s.env)} == ${JSON.stringify(text)}\n    error_message = "${s.terraform} = ${text} must reach ${s.env}"\n  }\n}`,
      );
    });
    samples.refused.forEach((text, i) => {
      runs.push(`run "${name}_refuses_${String(i)}_${runName(text)}" {\n  command = plan\n  variables {\n    ${objectVariable(s, text)}\n  }\n  expect_failures = [var.${variableOf(s)}]\n}`);
    });
  }
  for (let n = 1; n <= 60; n += 1) {
    // Every allowed step, and every refused one up to the first divisor of 60 that is refused.
    const allowed = SCHEDULE_STEP_MINUTES.includes(n);
    if (!allowed && n > 15) {
      continue;
    }
    const schedule = `*/${String(n)} * * * *`;
    runs.push(
      allowed
        ? `run "schedule_every_${String(n)}_minutes_is_accepted" {\n  command = plan\n  variables {\n    schedules = { observe_throttle = "${schedule}" }\n  }\n  assert {\n    condition     = ${env('observe-throttle', 'OBSERVE_SCHEDULE')} == "${schedule}"\n    error_message = "the function must read the job's schedule"\n  }\n}`
        : `run "schedule_every_${String(n)}_minutes_is_refused" {\n  command = plan\n  variables {\n    schedules = { observe_births = "${schedule}" }\n  }\n  expect_failures = [var.schedules]\n}`,
    );
  }
  return { text: `${header}\n${runs.join('\n\n')}\n`, runs: runs.length };
};

describe('Terraform variables agree with shared/settings.ts (generated tofu test)', () => {
  let tofu: TofuInstall;
  let work = '';

  beforeAll(async () => {
    tofu = await findTofuWithStandIns();
    const mod = await loadModule(path.join(root, moduleDir));
    work = await prepareWorkCopy(Object.keys(mod.locals.get('function_contract')?.body['value'] as Record<string, unknown>));
    const init = await runTofu(tofu, ['init', '-backend=false', '-input=false', '-no-color'], path.join(work, moduleDir));
    if (init.code !== 0) {
      throw new Error(`tofu init failed: ${init.stdout}\n${init.stderr}`);
    }
  }, 180_000);

  afterAll(async () => {
    if (work !== '') {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('accepts every declared bound and default, and refuses every value beyond them, at plan time', async () => {
    // The mocked providers and shared variables of the hand-written suite, followed by the generated runs.
    const handWritten = await readFile(path.join(work, moduleDir, 'tests', 'kernel_gossip.tftest.hcl'), 'utf8');
    const header = handWritten.slice(0, handWritten.indexOf('\nrun "'));
    const suite = generatedSuite(header);
    await writeFile(path.join(work, moduleDir, 'tests', 'settings.tftest.hcl'), suite.text);
    const result = await runTofu(tofu, ['test', '-no-color', '-filter=tests/settings.tftest.hcl'], path.join(work, moduleDir));
    expect({ code: result.code, output: result.code === 0 ? '' : `${result.stdout}\n${result.stderr}` }).toEqual({ code: 0, output: '' });
    expect(result.stdout).toContain(`Success! ${String(suite.runs)} passed, 0 failed.`);
  }, 300_000);
});
