/**
 * Child process of `observe-cycle.ts --mode core`: the observe-throttle core in a process of its
 * own (so its RSS high-water is the core's), built exactly as the function builds its instance
 * (shared/observe/function.ts: config parsed from the environment, Pixie client, publisher on
 * `new PubSub()`), except for the script text.
 *
 * Why the script differs: the scaled dataset holds cpu_throttle's result rows, not the probe and
 * process_stats rows the real script reads. The stand-in keeps what shapes the request and
 * response: the same entry function and arguments through `exec_funcs`, one output table per
 * window named by its prefix, holding the dataset rows stamped inside that window (the local
 * Vizier evaluates the window as Pixie would). It does not import pxtrace, so the tracepoint
 * mutation round trip of the real script is not exercised (Pixie does the PxL evaluation in the
 * cluster, not in our function; `--replay` runs the real script).
 *
 * Writes `<result file>` (JSON): milliseconds per cycle (first one apart), findings, and the
 * process's VmRSS before the first cycle and VmHWM after the last.
 *
 * @module
 */
import { PubSub } from '@google-cloud/pubsub';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseConfig } from '../../shared/config.ts';
import { createFindingPublisher } from '../../shared/findings/publisher.ts';
import { createLogger } from '../../shared/log.ts';
import { observeSpec } from '../../shared/observe/config.ts';
import { observeThrottle } from '../../shared/observe/observe-throttle.ts';
import { createPixieClient } from '../../shared/pixie/client.ts';
import { pixieClientOptions } from '../../shared/pixie/config.ts';
import { embeddedScriptReader } from '../../shared/pxl/embedded.ts';
import { loadScript } from '../../shared/pxl/scripts.ts';

const statusKb = (field: 'VmHWM' | 'VmRSS'): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);

const [startIso, endIso, runsText, resultFile] = process.argv.slice(2);
const runs = Number(runsText);
if (startIso === undefined || endIso === undefined || resultFile === undefined || !Number.isInteger(runs) || runs < 1) {
  throw new Error('usage: observe-cycle-core.ts <window start> <window end> <runs> <result file>');
}
const window = { start: new Date(startIso), end: new Date(endIso) };
const idleRssKb = statusKb('VmRSS');

const config = parseConfig(observeSpec, process.env);
const real = await loadScript('cpu_throttle', embeddedScriptReader);
const args = real.parameters.map((p) => `${p.name}: ${p.type}`).join(', ');
const script = {
  ...real,
  source: `import px\n\ndef ${real.entryFunction}(${args}):\n    df = px.DataFrame(table='cpu_throttle_windows', start_time=start_time, end_time=end_time)\n    return df.drop('time_')\n`,
};
const pixie = createPixieClient(pixieClientOptions(config));
const publisher = createFindingPublisher({ pubsub: new PubSub(), topicName: config.FINDINGS_TOPIC, timeoutMs: config.FUNCTION_TIMEOUT_SECONDS * 1000 });
const log = createLogger({ minLevel: config.LOG_LEVEL, labels: { function: 'observe-throttle', cluster: config.KG_CLUSTER_NAME } });

const cycle = async (): Promise<{ ms: number; findings: number; published: number; failed: number; containers: number }> => {
  const t0 = performance.now();
  const report = await observeThrottle(
    window,
    { pixie, script, publisher, log, cluster: config.KG_CLUSTER_NAME, source: config.KG_KERNEL_SOURCE, namespaces: config.KG_NAMESPACES },
    { deadline: new Date(Date.now() + config.FUNCTION_TIMEOUT_SECONDS * 1000) },
  );
  const ms = performance.now() - t0;
  return { ms, findings: report.findings, published: report.publish.published.length, failed: report.publish.failed.length, containers: report.containers };
};

const first = await cycle();
const times: number[] = [];
let published = first.published;
for (let i = 0; i < runs; i += 1) {
  const result = await cycle();
  if (result.findings !== first.findings || result.failed !== 0) {
    throw new Error(`run ${i} differs from the first: ${JSON.stringify(result)}`);
  }
  times.push(result.ms);
  published += result.published;
}
const hwmKb = statusKb('VmHWM');
pixie.close();
// A file, not stdout: exiting right away could drop a pending pipe write.
writeFileSync(resultFile, JSON.stringify({ first, times, published, idleRssKb, hwmKb }));
// The Pub/Sub client keeps timers alive; the measurement is done.
process.exit(0);
