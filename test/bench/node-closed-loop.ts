/**
 * `flock /tmp/kg-lab.lock node test/bench/node-closed-loop.ts [rounds]`: the loop closed through the
 * real control plane on a real node (dev/demo/node-loop.ts), relieved by rollout and by in-place
 * resize, `rounds` times each (default 1). Prints, per run, the time from the workload's first
 * throttled periods (its cpu.stat) to the actionable finding, to the applied limit, to the new limit
 * in force and to the end of the first window seen unthrottled, and
 * the throttled ratio before and after as the kernel (cpu.stat) and the probe (cpu_throttle through
 * the live Vizier) saw it; then a Markdown table for docs/benchmarks.md. Root; runs a kubelet.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LoopResult, type ReliefPath, runLoop, startLoopEnvironment } from '../../dev/demo/node-loop.ts';

const rounds = Number(process.argv[2] ?? '1');
if (!Number.isInteger(rounds) || rounds < 1) {
  throw new Error('usage: node test/bench/node-closed-loop.ts [rounds >= 1]');
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);
const ratio = (value: number): string => value.toFixed(3);

const results: LoopResult[] = [];
for (let round = 1; round <= rounds; round += 1) {
  for (const reliefPath of ['rollout', 'resize'] as const satisfies readonly ReliefPath[]) {
    const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'kg-node-loop-bench-')), 'loop.log');
    const env = await startLoopEnvironment({ logFile, resizeInPlace: reliefPath === 'resize' });
    try {
      const result = await runLoop(env, reliefPath, (message) => {
        process.stderr.write(`[${reliefPath} ${round}] ${message}\n`);
      });
      results.push(result);
      process.stderr.write(
        `${JSON.stringify({
          path: reliefPath,
          round,
          limit: `${result.remediation.remediation.fromLimitMillicores}m -> ${result.remediation.remediation.toLimitMillicores}m`,
          timingsMs: result.timings,
          before: { kernel: result.before.kernel, probe: result.before.probe },
          after: { kernel: result.after.kernel, probe: result.after.probe },
        })}\n`,
      );
    } finally {
      await env.stop();
    }
  }
}

console.log('| relief by | limit | throttled -> finding | -> limit applied | -> new limit in force | -> first unthrottled window ends | throttled ratio before (kernel / probe) | after (kernel / probe) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${r.path} | ${r.remediation.remediation.fromLimitMillicores}m -> ${r.remediation.remediation.toLimitMillicores}m | ${seconds(r.timings.toFinding)} s | ${seconds(r.timings.toApplied)} s | ${seconds(r.timings.toRelief)} s | ${seconds(r.timings.toUnthrottled)} s | ${ratio(r.before.kernel.ratio)} / ${ratio(r.before.probe.throttledRatio)} | ${ratio(r.after.kernel.ratio)} / ${ratio(r.after.probe.throttledRatio)} |`,
  );
}
// The Vizier's gRPC server and the functions are stopped; nothing else should keep the process alive.
process.exit(0);
