/**
 * `npm run demo`: the whole pipeline on this machine, step by step on stderr, then a summary on
 * stdout. See docs/demo.md.
 *
 * Usage: node dev/demo/main.ts [--kernel auto|live|replay] [--keep] [--log FILE] [--report FILE.html] [--no-build]
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
import { prepareDemo, runDemoCycle } from './demo.ts';
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
  if (!values['no-build']) {
    progress('building the function bundles (dist/functions)');
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'dev', 'build', 'bundle.ts')], { cwd: ROOT, signal: abort.signal });
  }
  const prepared = await prepareDemo({
    kernel: kernel as KernelMode | 'auto',
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
