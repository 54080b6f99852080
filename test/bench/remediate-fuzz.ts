/**
 * Benchmark: the remediate fuzz run at full size. The built `remediate` bundle under
 * functions-framework (apply mode), a real kube-apiserver (audit log on) and the Pub/Sub emulator;
 * schema-valid findings with random clusters, windows, names, kinds and numbers, and malformed
 * bodies, shuffled and posted; then the answers, the function's log and the apiserver's audit log
 * are counted (test/support/remediate-fuzz*.ts, the driver `npm test` runs at 200 + 200).
 *
 *   npm run build && node test/bench/remediate-fuzz.ts [--findings 1000] [--malformed 1000] [--seed 1] [--workloads 20] [--concurrency 4]
 *
 * Exits 1 when any invariant breaks: an answer other than what its push must get, a 5xx, a
 * non-JSON answer, a push without exactly one decision log event, a workload patch the API server
 * accepted without an `applied` decision, or any other write than Events, workload patches and
 * pod resizes. Results and the command are in docs/benchmarks.md.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { runFuzz, startFuzzEnvironment } from '../support/remediate-fuzz-run.ts';

const { values } = parseArgs({
  options: {
    findings: { type: 'string', default: '1000' },
    malformed: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    workloads: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '4' },
  },
  strict: true,
});
const options = { findings: Number(values.findings), malformed: Number(values.malformed), seed: Number(values.seed), concurrency: Number(values.concurrency) };
const env = await startFuzzEnvironment(Number(values.workloads));
let failed = false;
try {
  const report = await runFuzz(env, options);
  const applied = report.outcomes['decided:applied'] ?? 0;
  const checks = {
    'every answer as expected': report.mismatches.length === 0,
    'no 5xx': !Object.keys(report.statuses).some((status) => status.startsWith('5')),
    'every answer JSON': report.notJson === 0,
    'one decision log event per push': report.decisionEvents === report.findings + report.malformed,
    'accepted workload patches = applied decisions': report.workloadPatches === applied,
    'refused patches = conflicts': report.refusedPatches === (report.outcomes['decided:conflict'] ?? 0),
    'no other writes': report.otherWrites.length === 0,
  };
  failed = Object.values(checks).includes(false);
  process.stdout.write(
    `${JSON.stringify(
      {
        seed: report.seed,
        findings: report.findings,
        malformed: report.malformed,
        workloads: env.workloads.length,
        statuses: report.statuses,
        outcomes: report.outcomes,
        decisionEvents: report.decisionEvents,
        workloadPatches: report.workloadPatches,
        refusedPatches: report.refusedPatches,
        podResizes: report.podResizes,
        apiRequests: report.apiRequests,
        elapsedMs: report.elapsedMs,
        checks,
        mismatches: report.mismatches.slice(0, 20),
        otherWrites: report.otherWrites.slice(0, 20),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await env.stop();
}
process.exitCode = failed ? 1 : 0;
