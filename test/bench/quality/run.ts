/**
 * Quality benchmark: lab scenarios with measured ground truth; the analysis' verdicts and the
 * kubernetes-mixin CPUThrottlingHigh rule's on the same cpu.stat counters; precision and recall of
 * each for "throttling a user should act on".
 *
 *   sudo node test/bench/quality/run.ts [--json out.json] [scenario-name ...]
 *
 * Needs root and cgroup v1 (dev/quota-lab). Each scenario runs twice (limited, unlimited) for
 * about 5 s each; the whole set takes about 3 minutes on 2 cores.
 */
import { writeFile } from 'node:fs/promises';
import { labCounters } from '../../../dev/quota-lab/counters.ts';
import { runLabPod, type LabPodSpec } from '../../../dev/quota-lab/run.ts';
import { throttleConfig, throttleVerdict } from '../../../shared/analysis/index.ts';
import { groundTruth, MIN_ADDED_MS, MIN_STRETCH, STARTUP_GRACE_MS } from './ground-truth.ts';
import { MIXIN_THRESHOLD, mixinRule } from './mixin.ts';
import { RUN_MS, SCENARIOS } from './scenarios.ts';

/** Production defaults, except the start-up grace, scaled like the window (30 s of 60 s -> 1.5 s of 5 s). */
const CONFIG = throttleConfig({ startupGraceMs: STARTUP_GRACE_MS });

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonOut = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const only = args.filter((a, i) => !a.startsWith('--') && (jsonAt < 0 || i !== jsonAt + 1));
const scenarios = SCENARIOS.filter((s) => only.length === 0 || only.includes(s.name));

const unlimited = (pod: LabPodSpec): LabPodSpec => ({
  ...pod,
  name: `${pod.name}-nolimit`,
  containers: pod.containers.map((c) => ({ ...c, quotaUs: null })),
});

interface Row {
  scenario: string;
  container: string;
  truth: boolean;
  limitedP90Ms: number;
  unlimitedP90Ms: number;
  ours: string;
  oursActs: boolean;
  severity: string;
  mixinFires: boolean;
  mixinRatio: number | null;
  mixinSteadyRatio: number | null;
  throttledRatio: number | null;
  waitShare: number | null;
  meanUseShare: number | null;
}

const rows: Row[] = [];
const started = Date.now();
for (const scenario of scenarios) {
  const limited = await runLabPod(scenario.pod);
  const free = await runLabPod(unlimited(scenario.pod));
  for (const [i, c] of limited.containers.entries()) {
    const truth = groundTruth(c.units, free.containers[i]?.units ?? []);
    const verdict = throttleVerdict(labCounters(c, { startedAtMs: limited.goMs }), CONFIG);
    const mixin = mixinRule(c.readings, limited.goMs, STARTUP_GRACE_MS);
    const use = verdict.measures.cpuUse;
    rows.push({
      scenario: scenario.name,
      container: c.spec.name,
      truth: truth.actionable,
      limitedP90Ms: truth.limitedP90Ms,
      unlimitedP90Ms: truth.unlimitedP90Ms,
      ours: verdict.kind,
      oursActs: verdict.actionable,
      severity: verdict.severity,
      mixinFires: mixin.fires,
      mixinRatio: mixin.wholeRunRatio,
      mixinSteadyRatio: mixin.steadyRatio,
      throttledRatio: verdict.measures.throttledRatio,
      waitShare: verdict.measures.waitShare,
      meanUseShare: use?.source === 'measured' ? use.meanShare : null,
    });
    const last = rows.at(-1)!;
    console.error(
      `${scenario.name}/${c.spec.name}: truth=${last.truth ? 'act' : 'no'} (p90 ${truth.limitedP90Ms.toFixed(0)} vs ${truth.unlimitedP90Ms.toFixed(0)} ms) ours=${last.ours} mixin=${last.mixinFires ? 'fires' : 'quiet'} ratio=${last.throttledRatio?.toFixed(2) ?? '-'} wait=${last.waitShare?.toFixed(2) ?? '-'}`,
    );
  }
}

const score = (acts: (r: Row) => boolean) => {
  const tp = rows.filter((r) => r.truth && acts(r)).length;
  const fp = rows.filter((r) => !r.truth && acts(r)).length;
  const fn = rows.filter((r) => r.truth && !acts(r)).length;
  return { tp, fp, fn, precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: tp + fn === 0 ? 1 : tp / (tp + fn) };
};
const ours = score((r) => r.oursActs);
const mixin = score((r) => r.mixinFires);
const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(0)}%`);

console.log(`| Scenario / container | Ground truth (p90 limited vs unlimited) | kernel-gossip | Mixin rule (steady ratio, whole run) | Throttled ratio | Wait share | Mean use of limit |`);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.scenario} / ${r.container} | ${r.truth ? '**act**' : 'no'} (${r.limitedP90Ms.toFixed(0)} vs ${r.unlimitedP90Ms.toFixed(0)} ms) | ${r.ours}${r.oursActs ? ` (${r.severity})` : ''} | ${r.mixinFires ? 'fires' : 'quiet'} (${pct(r.mixinSteadyRatio)}, ${pct(r.mixinRatio)}) | ${pct(r.throttledRatio)} | ${pct(r.waitShare)} | ${pct(r.meanUseShare)} |`,
  );
}
console.log('');
console.log(`| Method | TP | FP | FN | Precision | Recall | Time to fire |`);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
console.log(`| kernel-gossip verdict | ${ours.tp} | ${ours.fp} | ${ours.fn} | ${ours.precision.toFixed(2)} | ${ours.recall.toFixed(2)} | one window (60 s by default; ${RUN_MS / 1000} s runs here) |`);
console.log(`| CPUThrottlingHigh (> ${MIXIN_THRESHOLD * 100}% for 15m) | ${mixin.tp} | ${mixin.fp} | ${mixin.fn} | ${mixin.precision.toFixed(2)} | ${mixin.recall.toFixed(2)} | ≥ 15 min pending after a full 5 m window (20 min for a new pod) |`);
console.log('');
console.log(`Ground truth: act iff p90 unit latency after ${STARTUP_GRACE_MS} ms is ≥ ${MIN_STRETCH}x and ≥ ${MIN_ADDED_MS} ms above the unlimited run. ${rows.length} containers in ${scenarios.length} scenarios, ${((Date.now() - started) / 1000).toFixed(0)} s.`);
if (jsonOut !== undefined) {
  await writeFile(jsonOut, `${JSON.stringify({ config: CONFIG, rows, ours, mixin }, null, 2)}\n`);
}
