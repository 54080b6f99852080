/**
 * Generated pushes against the built remediate bundle (functions-framework, real kube-apiserver,
 * Pub/Sub emulator): schema-valid findings with random clusters, windows, names, kinds and
 * numbers, and malformed bodies. A small run keeps `npm test` fast; `node test/bench/remediate-fuzz.ts`
 * runs the same driver at 1,000 + 1,000 and more (docs/benchmarks.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FuzzEnvironment, runFuzz, startFuzzEnvironment } from '../../support/remediate-fuzz-run.ts';

const SEED = Number(process.env['KG_FUZZ_SEED'] ?? 18);

describe('remediate under generated pushes (built bundle, real kube-apiserver)', () => {
  let env: FuzzEnvironment;

  beforeAll(async () => {
    env = await startFuzzEnvironment(6);
  }, 240_000);

  afterAll(async () => {
    await (env as FuzzEnvironment | undefined)?.stop();
  });

  it(`answers every push as it must, patches only what the policy allows, and logs every decision (seed ${SEED})`, async () => {
    const report = await runFuzz(env, { seed: SEED, findings: 200, malformed: 200, concurrency: 4 });
    process.stdout.write(`${JSON.stringify({ seed: report.seed, statuses: report.statuses, outcomes: report.outcomes, workloadPatches: report.workloadPatches, refusedPatches: report.refusedPatches, podResizes: report.podResizes, apiRequests: report.apiRequests, elapsedMs: report.elapsedMs })}\n`);
    expect(report.mismatches).toEqual([]);
    expect(Object.keys(report.statuses)).toEqual(['200']);
    expect(report.notJson).toBe(0);
    // Every push logged exactly one decision event.
    expect(report.decisionEvents).toBe(report.findings + report.malformed);
    // The API server accepted a workload patch exactly for each applied decision, and at most one
    // per workload (cooldown 1h); a refused patch is a reported conflict.
    const applied = report.outcomes['decided:applied'] ?? 0;
    expect(report.workloadPatches).toBe(applied);
    expect(applied).toBeLessThanOrEqual(env.workloads.length);
    expect(report.refusedPatches).toBe(report.outcomes['decided:conflict'] ?? 0);
    expect(report.otherWrites).toEqual([]);
    // The run exercised every path, so the counts above are not vacuous.
    for (const key of ['refused:foreign-cluster', 'refused:stale', 'refused:future', 'refused:invalid-name', 'decided:skipped', 'ignored:pod.birth', 'ignored:remediation.result', 'rejected:body']) {
      expect({ [key]: report.outcomes[key] ?? 0 }).not.toEqual({ [key]: 0 });
    }
    expect(applied).toBeGreaterThan(0);
  }, 300_000);
});
