/**
 * The code's side of "one source for every setting" (shared/settings.ts): the functions' config
 * accepts exactly the declared range with the declared default, the ranges are ones the analysis
 * and observe-throttle can honour, and the probes' TTL is the one the schedules are limited by.
 * Terraform's side: test/integration/terraform/settings.test.ts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THROTTLE_CONFIG } from '../../shared/analysis/throttle-config.ts';
import { ConfigError, parseConfig } from '../../shared/config.ts';
import { remediationSpec } from '../../shared/kube/config.ts';
import { DEFAULT_POLICY } from '../../shared/kube/policy.ts';
import { parseCron } from '../../shared/observe/cron.ts';
import { observeSchedule, observeSpec } from '../../shared/observe/config.ts';
import { resolveWindow } from '../../shared/observe/window.ts';
import { parseScript, SCRIPT_NAMES } from '../../shared/pxl/scripts.ts';
import { DURATION_SETTINGS, NUMBER_SETTINGS, PROBE_TTL_MINUTES, SCHEDULE_DEFAULTS, SCHEDULE_STEP_MINUTES } from '../../shared/settings.ts';
import { effectivePolicy } from '../../shared/kube/policy.ts';
import { durationSamples } from '../support/durations.ts';

const root = path.resolve(import.meta.dirname, '../..');
const baseEnv = { KG_CLUSTER_NAME: 'c', FINDINGS_TOPIC: 't', KUBECONFIG: '/k' };

describe('numeric settings', () => {
  const parse = (env: string, value?: string): unknown =>
    (parseConfig(remediationSpec, value === undefined ? baseEnv : { ...baseEnv, [env]: value }) as Record<string, unknown>)[env];

  it.each(Object.entries(NUMBER_SETTINGS))('%s: the config takes the declared default and every value Terraform accepts', (_name, setting) => {
    expect(parse(setting.env)).toBe(setting.default);
    expect(parse(setting.env, String(setting.min))).toBe(setting.min);
    expect(parse(setting.env, String(setting.max))).toBe(setting.max);
    expect(setting.default).toBeGreaterThanOrEqual(setting.min);
    expect(setting.default).toBeLessThanOrEqual(setting.max);
  });

  it.each([NUMBER_SETTINGS.minWindows, NUMBER_SETTINGS.maxStep, NUMBER_SETTINGS.ceilingMillicores])('$env: the config refuses what the code could never act on', (setting) => {
    const step = setting.integer ? 1 : 0.001;
    expect(() => parse(setting.env, String(setting.min - step))).toThrow(ConfigError);
    expect(() => parse(setting.env, String(setting.max + step))).toThrow(ConfigError);
  });

  it('bounds the remediation guardrails by what the analysis and observe-throttle can produce', () => {
    // A finding's streak counts the windows observe-throttle read; the analysis caps its recommendation.
    expect(NUMBER_SETTINGS.minWindows.max).toBe(DEFAULT_THROTTLE_CONFIG.consecutiveWindows);
    expect(NUMBER_SETTINGS.maxStep.max).toBe(DEFAULT_THROTTLE_CONFIG.maxStepFactor);
    expect(NUMBER_SETTINGS.ceilingMillicores.max).toBe(DEFAULT_THROTTLE_CONFIG.ceilingCores * 1000);
    expect([NUMBER_SETTINGS.maxStep.default, NUMBER_SETTINGS.minWindows.default, NUMBER_SETTINGS.ceilingMillicores.default]).toEqual([
      DEFAULT_POLICY.maxStepFactor,
      DEFAULT_POLICY.minConsecutiveWindows,
      DEFAULT_POLICY.ceilingMillicores,
    ]);
  });
});

describe('duration settings (one grammar: shared/duration.ts)', () => {
  const parse = (env: string, value: string): unknown => (parseConfig(remediationSpec, { ...baseEnv, [env]: value }) as Record<string, unknown>)[env];

  it.each(Object.entries(DURATION_SETTINGS))('%s: the config takes every value Terraform accepts, as the same milliseconds, and refuses the rest', (_name, setting) => {
    const samples = durationSamples(setting);
    expect(samples.accepted.map(({ text }) => [text, parse(setting.env, text)])).toEqual(samples.accepted.map(({ text, ms }) => [text, ms]));
    const refusedBy = (text: string): string => {
      try {
        parse(setting.env, text);
        return 'accepted';
      } catch (error) {
        return error instanceof ConfigError ? 'refused' : String(error);
      }
    };
    expect(samples.refused.map((text) => [text, refusedBy(text)])).toEqual(samples.refused.map((text) => [text, 'refused']));
  });

  it('reads the cooldown annotation in the same grammar', () => {
    const samples = durationSamples(DURATION_SETTINGS.cooldown);
    const operator = { ...DEFAULT_POLICY, mode: 'apply' as const, cooldownMs: 0 };
    const cooldownOf = (text: string): number | undefined => {
      const result = effectivePolicy(operator, 'shop', { 'kernel.gossip.io/remediation': 'enabled' }, { 'kernel.gossip.io/cooldown': text });
      return result.problems.length > 0 ? undefined : result.policy.cooldownMs;
    };
    expect(samples.accepted.map(({ text }) => cooldownOf(text))).toEqual(samples.accepted.map(({ ms }) => ms));
    expect(samples.refused.map(cooldownOf)).toEqual(samples.refused.map(() => undefined));
  });
});

describe('schedules', () => {
  it('allows only evenly spaced steps shorter than half the probe TTL', () => {
    expect(SCHEDULE_STEP_MINUTES.length).toBeGreaterThan(0);
    for (const n of SCHEDULE_STEP_MINUTES) {
      expect(60 % n).toBe(0);
      expect(2 * n).toBeLessThan(PROBE_TTL_MINUTES);
    }
    for (const fn of ['observe-throttle', 'observe-births'] as const) {
      const step = Number(/^\*\/(\d+) \* \* \* \*$/.exec(SCHEDULE_DEFAULTS[fn])?.[1]);
      expect(SCHEDULE_STEP_MINUTES).toContain(step);
    }
  });

  it.each(SCRIPT_NAMES)('the %s probe lives PROBE_TTL_MINUTES after each run upserts it', async (name) => {
    const source = await readFile(path.join(root, 'pxl-scripts', name, `${name}.pxl`), 'utf8');
    // The script loader reads the upsert's ttl (one call; it may span lines with kernel variants).
    expect(parseScript(name, source, '{}').tracepoint.ttl).toBe(`${String(PROBE_TTL_MINUTES)}m`);
  });

  it.each(SCHEDULE_STEP_MINUTES)('every %i minutes: a scheduled window lasts exactly the step', (n) => {
    const schedule = parseCron(`*/${String(n)} * * * *`, 'Etc/UTC');
    const at = new Date('2026-11-27T12:00:00Z');
    const window = resolveWindow({ body: { trigger: 'cloud-scheduler', job: 'kg-observe-throttle' }, headers: { 'x-cloudscheduler-scheduletime': at.toISOString() }, now: at, schedule, maxSeconds: 6 * 3600 });
    expect(window.end.getTime() - window.start.getTime()).toBe(n * 60_000);
  });

  it('takes the function’s default schedule when Terraform sets none, and reports a bad one as configuration', () => {
    const env = { ...baseEnv, PIXIE_API_KEY: 'k', PIXIE_CLUSTER_ID: '7f3c2a10-0b1e-4c55-9a7d-1e2f3a4b5c6d' };
    expect(observeSchedule('observe-births', parseConfig(observeSpec, env)).expression).toBe(SCHEDULE_DEFAULTS['observe-births']);
    expect(observeSchedule('observe-throttle', parseConfig(observeSpec, { ...env, OBSERVE_SCHEDULE: '*/2 * * * *', OBSERVE_TIME_ZONE: 'Europe/Berlin' }))).toMatchObject({
      expression: '*/2 * * * *',
      timeZone: 'Europe/Berlin',
    });
    expect(() => observeSchedule('observe-throttle', parseConfig(observeSpec, { ...env, OBSERVE_SCHEDULE: 'every 5 minutes' }))).toThrow(/OBSERVE_SCHEDULE is invalid/);
  });
});
