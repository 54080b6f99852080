/**
 * Prints the numbers of the closed-loop limit test (test/lab/limit-closed-loop.test.ts) as a table.
 *
 *   sudo node test/bench/quality/closed-loop.ts
 */
import { DEFAULT_THROTTLE_CONFIG } from '../../../shared/analysis/index.ts';
import { CAPPED, closedLoop, SHAPES } from '../../lab/limit-closed-loop-shapes.ts';

const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
console.log('| Workload | L (cores) | Throttled ratio at L | Verdict | L\' (model, bound) | Predicted ratio | Measured ratio at L\' |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const shape of [...SHAPES, CAPPED]) {
  const { before, recommendation: r, after } = await closedLoop(shape);
  console.log(
    `| ${shape.name} | ${shape.limitCores} | ${pct(before.measures.throttledRatio)} | ${before.kind} | ${r.recommendedCores} (${r.model}, ${r.boundedBy}) | ${pct(r.expectedThrottledRatio)} | ${pct(after.measures.throttledRatio)} |`,
  );
}
console.log(`\nTarget ${pct(DEFAULT_THROTTLE_CONFIG.targetThrottledRatio)}, max step x${DEFAULT_THROTTLE_CONFIG.maxStepFactor}, headroom x${DEFAULT_THROTTLE_CONFIG.headroom}.`);
