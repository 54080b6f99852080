import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planSteps, type SetupStep, STEPS, stepIdOf } from '../../../dev/setup/steps.ts';

const setupDir = path.resolve(import.meta.dirname, '../../../dev/setup');
const step = (id: string, demo: SetupStep['demo'], after: readonly string[] = []): SetupStep => ({ id, what: id, why: id, demo, after });

describe('set-up step planning', () => {
  it('names steps after their scripts: apt.sh and NN-name.sh only', () => {
    expect(['apt.sh', '10-kube-apiserver.sh', 'bootstrap.sh', 'provision.ts', 'steps.ts', '10-x.sh.tmp'].map(stepIdOf)).toEqual(['apt', '10-kube-apiserver', undefined, undefined, undefined, undefined]);
  });

  it('every declared step of the repository has its script, and the plans order each step after what it waits for', () => {
    const ids = readdirSync(setupDir).flatMap((name) => stepIdOf(name) ?? []);
    for (const target of ['test', 'demo'] as const) {
      const plan = planSteps(target, ids);
      plan.forEach((planned, index) => {
        for (const dep of planned.after) {
          expect(plan.findIndex((other) => other.id === dep)).toBeLessThan(index);
        }
      });
    }
    expect(planSteps('test', ids).map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(planSteps('demo', ids).map((s) => s.id)).toEqual(STEPS.filter((s) => s.demo !== 'none').map((s) => s.id));
  });

  it('the demo runs only its steps; dependencies on steps it does not run are dropped', () => {
    const declared = [step('apt', 'live'), step('10-build', 'required'), step('20-tests-only', 'none', ['apt']), step('30-live', 'live', ['20-tests-only', 'apt'])];
    const ids = declared.map((s) => s.id);
    expect(planSteps('demo', ids, declared).map((s) => [s.id, s.after])).toEqual([
      ['apt', []],
      ['10-build', []],
      ['30-live', ['apt']],
    ]);
    expect(planSteps('test', ids, declared).map((s) => s.id)).toEqual(['apt', '10-build', '20-tests-only', '30-live']);
  });

  it('a script nobody declared still runs for the tests, after the Debian packages, and not for the demo', () => {
    const declared = [step('apt', 'live')];
    const plan = planSteps('test', ['apt', '50-new'], declared);
    expect(plan.map((s) => [s.id, s.demo, s.after])).toEqual([
      ['apt', 'live', []],
      ['50-new', 'none', ['apt']],
    ]);
    expect(plan[1]?.what).toBe('dev/setup/50-new.sh');
    expect(planSteps('demo', ['apt', '50-new'], declared).map((s) => s.id)).toEqual(['apt']);
  });

  it('a declared step without its script, and steps waiting for each other, are errors', () => {
    expect(() => planSteps('test', ['apt'], [step('apt', 'live'), step('10-gone', 'none')])).toThrow('dev/setup/10-gone.sh');
    expect(() => planSteps('test', ['10-a', '20-b'], [step('10-a', 'none', ['20-b']), step('20-b', 'none', ['10-a'])])).toThrow(/cycle: 10-a -> 20-b -> 10-a/);
  });
});
