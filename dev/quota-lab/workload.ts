/**
 * A lab workload process: units of CPU work on a schedule, each timed, so a scenario's latency
 * impact is measured by the workload itself and not inferred from the counters under test.
 *
 *   node dev/quota-lab/workload.ts '<json WorkloadSpec>'
 *
 * It prints `ready` once started, waits for a line `go` on stdin, runs, then prints one JSON line
 * `{"units":[{"atMs":..,"cpuMs":..,"wallMs":..},...]}` and exits.
 */
import { createInterface } from 'node:readline';
import { parseWorkloadSpec, type UnitReport } from './workload-spec.ts';

const spec = parseWorkloadSpec(process.argv[2] ?? '');

const cpuMsNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

let sink = 0;
/** Burns `workMs` of this process's CPU time; returns the CPU actually used. */
const burn = (workMs: number): number => {
  const from = cpuMsNow();
  let used = 0;
  while (used < workMs) {
    for (let i = 0; i < 20_000; i++) {
      sink = (sink + i * 7) % 1_000_003;
    }
    used = cpuMsNow() - from;
  }
  return used;
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

const run = async (): Promise<UnitReport[]> => {
  const units: UnitReport[] = [];
  const t0 = performance.now();
  const unit = (workMs: number): void => {
    const at = performance.now();
    const cpuMs = burn(workMs);
    units.push({ atMs: at - t0, cpuMs, wallMs: performance.now() - at });
  };
  if (spec.startupWorkMs > 0) {
    unit(spec.startupWorkMs);
  }
  if (spec.workMs > 0 && spec.everyMs > 0) {
    for (let next = spec.offsetMs; next + spec.workMs < spec.durationMs; next += spec.everyMs) {
      await sleep(next - (performance.now() - t0));
      if (performance.now() - t0 >= spec.durationMs) {
        break;
      }
      unit(spec.workMs);
    }
  }
  await sleep(spec.durationMs - (performance.now() - t0));
  return units;
};

// Compile the hot loop before the window opens, so JIT work does not count as the workload's.
burn(5);
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
lines.once('line', () => {
  lines.close();
  // Release stdin so the process can exit once its work is done.
  process.stdin.destroy();
  run().then(
    (units) => {
      process.stdout.write(`${JSON.stringify({ units, sink: sink % 2 })}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`workload failed: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
});
