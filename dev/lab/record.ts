/**
 * `node dev/lab/record.ts [throttle|birth|birth-lite]...`: runs the standard lab scenarios on this kernel and
 * writes each {@link Recording} (probe output plus the lab's ground truth) to
 * `test/fixtures/lab/<scenario>.json` (birth-lite: `test/fixtures/lab-lite/`), then prints how closely cpu.stat brackets the throttle rows.
 * Needs root, bpftrace, runc and the node's binaries (dev/setup): the cgroupfs pods are born by a
 * real one-node cluster's kubelet, made by the controllers of the owners their specs name (a
 * Deployment for a ReplicaSet owner, whose name, uid and owner the replays then read), and the
 * systemd layout, which that node cannot give, by the runc lab (node-lab.ts). Run it on a quiet
 * machine under `flock /tmp/kg-lab.lock`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withPrintfLayouts } from './bpftrace-dry-run.ts';
import { checkThrottleRows } from './compare.ts';
import { openNodeLab } from './node-lab.ts';
import { type Recording, runBirthScenario, runThrottleScenario } from './scenarios.ts';
import { BIRTH_PODS, THROTTLE_PODS } from './standard-scenarios.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures');
/** birth-lite gets its own folder: a replay source's "now" is its latest recording's end. */
export const fixtureFile = (name: string): string => path.join(FIXTURES, name === 'birth-lite' ? 'lab-lite' : 'lab', `${name}.json`);
const SCENARIOS = ['throttle', 'birth', 'birth-lite'] as const;
type Scenario = (typeof SCENARIOS)[number];

const isScenario = (name: string): name is Scenario => (SCENARIOS as readonly string[]).includes(name);

/** How far apart the cpu.stat reads that bracket each throttle row are, and how much cpu.stat moved in between. */
export const skewSummary = (recording: Recording): Record<string, string> => {
  const checks = checkThrottleRows(recording).filter((c) => c.bracketNs >= 0n);
  const max = (values: bigint[]): bigint => values.reduce((a, b) => (b > a ? b : a), 0n);
  return {
    rowsChecked: String(checkThrottleRows(recording).length),
    rowsOutsideBracket: String(checkThrottleRows(recording).filter((c) => c.mismatches.length > 0).length),
    maxBracketMs: (Number(max(checks.map((c) => c.bracketNs))) / 1e6).toFixed(2),
    maxThrottledTimeSpreadMs: (Number(max(checks.map((c) => c.spread['throttled_time_ns'] ?? 0n))) / 1e6).toFixed(2),
    maxPeriodsSpread: String(max(checks.map((c) => c.spread['nr_periods'] ?? 0n))),
    rowsPinnedExactly: String(checks.filter((c) => Object.values(c.spread).every((v) => v === 0n)).length),
  };
};

const main = async (): Promise<void> => {
  const asked = process.argv.slice(2);
  const wanted = asked.length === 0 ? [...SCENARIOS] : asked;
  const unknown = wanted.filter((name) => !isScenario(name));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  }
  const nodeLab = await openNodeLab();
  const { lab, kubelet } = nodeLab;
  try {
    for (const name of wanted.filter(isScenario)) {
      const run =
        name === 'throttle'
          ? await runThrottleScenario(lab, { pods: THROTTLE_PODS, cpuStatEveryMs: 50, kubelet })
          : await runBirthScenario(lab, { pods: BIRTH_PODS, script: name === 'birth' ? 'pod_birth' : 'pod_birth_lite', kubelet });
      // The next scenario's controllers reuse these names: its pods are made from scratch.
      await kubelet.close();
      const recording = await withPrintfLayouts(run, lab.host.bpftrace);
      const file = fixtureFile(name);
      await writeFile(file, `${JSON.stringify(recording)}\n`);
      console.log(JSON.stringify({ recorded: path.relative(process.cwd(), file), printfs: recording.printfs.length, ...(name === 'throttle' ? skewSummary(recording) : {}) }));
    }
  } finally {
    await nodeLab.close();
  }
};

if (import.meta.main) {
  await main();
}
