/**
 * `npm run demo`: the whole pipeline on this machine, step by step on stderr, then a summary on
 * stdout. See docs/demo.md.
 *
 * Usage: node dev/demo/main.ts [--kernel auto|live|replay] [--keep] [--log FILE] [--report FILE.html] [--no-build]
 *
 * It first provisions what it needs and is missing (dev/setup: Debian packages when root,
 * kube-apiserver built into $KG_CACHE, the kernel lab's burner), building the bundles meanwhile;
 * when that takes a while (a cold machine), it prints the recorded scenario's findings first.
 *
 * It stops everything it started when it ends, on failure, and on Ctrl-C / SIGTERM (exit 130/143).
 * A failure exits 1 at once with what failed (`FAILED: ...` on stderr), after stopping everything
 * (at most 60 s; the demo exits even if a stop is stuck), never waiting for anything else.
 * `--keep` leaves the stack up after the summary (for kubectl) until Ctrl-C.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { provision, type StepOutcome } from '../setup/provision.ts';
import { prepareDemo, runDemoCycle } from './demo.ts';
import { firstLook } from './first-look.ts';
import { KERNEL_MODES, type KernelMode } from './kernel.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const usage = 'usage: node dev/demo/main.ts [--kernel auto|live|replay] [--keep] [--log FILE] [--report FILE.html] [--no-build]';

// No metadata server exists off Google Cloud; keep google-auth-library from probing for one.
process.env['METADATA_SERVER_DETECTION'] ??= 'none';

const startedAt = Date.now();
const progress = (message: string): void => {
  process.stderr.write(`[demo +${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);
};

let stopStack: (() => Promise<void>) | undefined;
const abort = new AbortController();

/** How long stopping may take before the demo exits anyway (a stuck stop must not hang the demo). */
const STOP_DEADLINE_MS = 60_000;

const stopAll = async (): Promise<void> => {
  if (stopStack === undefined) {
    return;
  }
  progress('stopping everything the demo started');
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    stopStack().then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => { resolve(false); }, STOP_DEADLINE_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!stopped) {
    progress(`stopping did not finish within ${STOP_DEADLINE_MS / 1000} s; exiting anyway (the log says which step was stopping)`);
  }
};

const onSignal = (signal: NodeJS.Signals, code: number): void => {
  process.once(signal, () => {
    progress(`${signal}: stopping`);
    abort.abort(new Error(signal));
    void stopAll().finally(() => process.exit(code));
  });
};

/** When the set-up is not done after this long, the recorded scenario's findings are printed first. */
const FIRST_LOOK_AFTER_MS = 3_000;

/**
 * Waits for the set-up, showing the recorded findings meanwhile when it is slow. A required step
 * that failed stops the demo; a step only live kernel data needs turns `auto` into replay.
 */
const settleSetup = async (setup: Promise<StepOutcome[]>, kernel: KernelMode | 'auto'): Promise<KernelMode | 'auto'> => {
  const quick = await Promise.race([setup.then(() => true), sleep(FIRST_LOOK_AFTER_MS, false, { ref: false })]);
  if (!quick) {
    progress('the set-up is building (a first run on this machine): meanwhile, the recorded scenario');
    try {
      const count = await firstLook({ out: process.stdout, err: process.stderr, color: process.stdout.isTTY });
      progress(`first look: ${count} findings from the recordings; waiting for the set-up to finish`);
    } catch (error) {
      progress(`first look failed (the demo goes on): ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const notReady = (await setup).filter((outcome) => outcome.status !== 'ready');
  const required = notReady.filter((outcome) => outcome.step.demo === 'required');
  if (required.length > 0) {
    throw new Error(`the demo cannot run without ${required.map((outcome) => `${outcome.step.id} (${outcome.step.what})`).join(', ')}: see the set-up lines above`);
  }
  if (notReady.length > 0 && kernel !== 'replay') {
    const missing = notReady.map((outcome) => outcome.step.id).join(', ');
    if (kernel === 'live') {
      throw new Error(`--kernel live needs ${missing}, which the set-up could not provide: see the lines above`);
    }
    progress(`kernel data: replay, because the set-up of live kernel data is not ready (${missing})`);
    return 'replay';
  }
  return kernel;
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      kernel: { type: 'string', default: 'auto' },
      keep: { type: 'boolean', default: false },
      log: { type: 'string' },
      report: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const kernel = values.kernel;
  if (kernel !== 'auto' && !(KERNEL_MODES as readonly string[]).includes(kernel)) {
    throw new Error(`--kernel must be auto, live or replay\n${usage}`);
  }
  onSignal('SIGINT', 130);
  onSignal('SIGTERM', 143);
  onSignal('SIGHUP', 129);
  // A crash anywhere (a timer in the in-process Vizier, say) still stops what the demo started.
  process.once('uncaughtException', (error) => {
    progress(`FAILED (uncaught): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void stopAll().finally(() => process.exit(1));
  });
  // A closed pipe (`npm run demo | head`) must not kill the demo before it stops what it started.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => undefined);
  }
  const logFile = values.log ?? path.join(mkdtempSync(path.join(tmpdir(), 'kg-demo-')), 'demo.log');
  progress(`log of every process: ${logFile}`);
  // The set-up and the bundles need nothing of each other: both start now.
  const setup = provision({ target: 'demo', progress, signal: abort.signal });
  const bundles = values['no-build']
    ? Promise.resolve()
    : (progress('building the function bundles (dist/functions)'),
      promisify(execFile)(process.execPath, [path.join(ROOT, 'dev', 'build', 'bundle.ts'), '--if-changed'], { cwd: ROOT, signal: abort.signal }).then(() => undefined));
  const kernelChoice = await settleSetup(setup, kernel as KernelMode | 'auto');
  await bundles;
  const prepared = await prepareDemo({
    kernel: kernelChoice,
    logFile,
    progress,
    registerStop: (stop) => {
      stopStack = stop;
    },
    signal: abort.signal,
  });
  const result = await runDemoCycle(prepared, { progress, keep: values.keep, reportFile: values.report ?? path.join(path.dirname(logFile), 'report.html'), startedAt });
  await prepared.tail.close();
  console.log(result.summary);
  if (values.keep) {
    progress('--keep: the stack stays up; press Ctrl-C to stop it');
    await new Promise<never>(() => undefined);
  }
};

// Exit explicitly once everything is stopped: a handle some failed step left open (a socket, a
// timer) must not keep a finished or failed demo alive.
try {
  await main();
  await stopAll();
  process.exit(0);
} catch (error) {
  progress(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll().catch((stopError: unknown) => {
    progress(`stopping failed too: ${stopError instanceof Error ? stopError.message : String(stopError)}`);
  });
  process.exit(1);
}
