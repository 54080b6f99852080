/**
 * Provisions on demand what `npm test` or `npm run demo` needs and is missing: runs the steps of
 * dev/setup/steps.ts, each its own idempotent script, as many at once as the machine has cores
 * (a step starts as soon as what it waits for is done), and says per step what it sets up, why,
 * and how long it took. Each step holds a lock file under $KG_CACHE/locks while it runs, so
 * concurrent runs wait for each other instead of building the same thing twice; the scripts build
 * into temporary paths renamed into place, so an interrupted run never leaves a half-built artefact
 * that passes for a built one.
 *
 *   node dev/setup/provision.ts test|demo
 *
 * Exit codes: 0 ready, 1 a step failed (its output's last lines are printed), 2 bad usage.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import path from 'node:path';
import { planSteps, type SetupStep, type SetupTarget, stepIdOf } from './steps.ts';

const SETUP_DIR = import.meta.dirname;

/** The exit code apt.sh uses for "packages are missing and only root can install them". */
export const NEEDS_ROOT_EXIT = 3;

/** How long a step may run before its "working on it" line appears (warm steps stay one line). */
const QUIET_MS = 1_500;
/** A long step (a cold Go build) says it is still alive this often. */
const HEARTBEAT_MS = 60_000;
const TAIL_LINES = 15;

export interface StepOutcome {
  readonly step: SetupStep;
  /** `ready`: done; `failed`: the script failed; `skipped`: something it waits for failed. */
  readonly status: 'ready' | 'failed' | 'skipped';
  readonly seconds: number;
  /** The script's last output lines (the reason, when it failed). */
  readonly tail: readonly string[];
  readonly exitCode?: number;
}

export interface ProvisionOptions {
  readonly target: SetupTarget;
  readonly progress: (message: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** Steps run at once (default: the machine's cores, at most 2 so a shared machine stays usable). */
  readonly concurrency?: number;
  /** The dev/setup directory and its declarations (tests point them elsewhere). */
  readonly setupDir?: string;
  readonly declared?: readonly SetupStep[];
}

export const cacheDirOf = (env: NodeJS.ProcessEnv): string => env['KG_CACHE'] ?? path.join(env['HOME'] ?? homedir(), '.cache', 'kernel-gossip');

const scriptIds = (dir: string): string[] => readdirSync(dir).flatMap((name) => stepIdOf(name) ?? []);

// Takes the step's lock (saying so when another run holds it), then runs the script with the lock
// still held by the inherited descriptor; the kernel releases it however the script ends.
const LOCKED_RUN = 'exec 9>"$1"; flock -n 9 || { echo "waiting for another set-up run that holds $1"; flock 9; }; exec bash "$2"';

interface ScriptRun {
  readonly exitCode: number;
  readonly output: string;
}

const runScript = (script: string, lockFile: string, env: NodeJS.ProcessEnv, onLine: (line: string) => void, signal?: AbortSignal): Promise<ScriptRun> =>
  new Promise((resolve, reject) => {
    // Its own process group, so an abort stops the script's children (go build, pip) too.
    const child = spawn('bash', ['-c', LOCKED_RUN, 'kg-setup', lockFile, script], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let partial = '';
    const take = (chunk: Buffer): void => {
      output += chunk.toString();
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const abort = (): void => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    };
    signal?.addEventListener('abort', abort, { once: true });
    child.once('error', (error) => {
      signal?.removeEventListener('abort', abort);
      reject(error);
    });
    child.once('close', (code, killedBy) => {
      signal?.removeEventListener('abort', abort);
      resolve({ exitCode: code ?? (killedBy === null ? 1 : 128), output });
    });
  });

const lastLines = (text: string, count: number): string[] =>
  text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .slice(-count);

const seconds = (since: number): number => (performance.now() - since) / 1000;

/** Runs the target's steps; resolves with every step's outcome (failures included, never thrown). */
export const provision = async (options: ProvisionOptions): Promise<StepOutcome[]> => {
  const env = { ...(options.env ?? process.env) };
  const cache = cacheDirOf(env);
  env['KG_CACHE'] = cache;
  const locks = path.join(cache, 'locks');
  mkdirSync(locks, { recursive: true });
  const setupDir = options.setupDir ?? SETUP_DIR;
  const steps = planSteps(options.target, scriptIds(setupDir), options.declared);
  const concurrency = Math.max(1, options.concurrency ?? Math.min(2, availableParallelism()));
  const { progress } = options;

  const outcomes = new Map<string, StepOutcome>();
  const running = new Map<string, Promise<void>>();
  const runStep = async (step: SetupStep): Promise<void> => {
    const started = performance.now();
    let heartbeat: NodeJS.Timeout | undefined;
    const quiet = setTimeout(() => {
      progress(`setup ${step.id}: ${step.what}, for ${step.why}...`);
      heartbeat = setInterval(() => {
        progress(`setup ${step.id}: still working (${Math.round(seconds(started))}s so far)`);
      }, HEARTBEAT_MS);
    }, QUIET_MS);
    const run = await runScript(
      path.join(setupDir, `${step.id}.sh`),
      path.join(locks, `${step.id}.lock`),
      env,
      (line) => {
        if (line.startsWith('waiting for another set-up run')) {
          progress(`setup ${step.id}: ${line}`);
        }
      },
      options.signal,
    ).finally(() => {
      clearTimeout(quiet);
      clearInterval(heartbeat);
    });
    const tail = lastLines(run.output, TAIL_LINES);
    const took = seconds(started);
    if (run.exitCode === 0) {
      progress(`setup ${step.id}: ready in ${took.toFixed(1)}s (${tail.at(-1) ?? 'done'})`);
      outcomes.set(step.id, { step, status: 'ready', seconds: took, tail });
    } else if (options.signal?.aborted === true) {
      progress(`setup ${step.id}: stopped after ${took.toFixed(1)}s`);
      outcomes.set(step.id, { step, status: 'failed', seconds: took, tail, exitCode: run.exitCode });
    } else {
      progress(`setup ${step.id}: FAILED after ${took.toFixed(1)}s (exit ${run.exitCode}):\n  ${tail.join('\n  ')}`);
      outcomes.set(step.id, { step, status: 'failed', seconds: took, tail, exitCode: run.exitCode });
    }
  };

  const stopIfAborted = async (): Promise<void> => {
    if (options.signal?.aborted === true) {
      await Promise.allSettled(running.values());
      throw options.signal.reason instanceof Error ? options.signal.reason : new Error('set-up aborted');
    }
  };
  const pending = [...steps];
  while (pending.length > 0 || running.size > 0) {
    await stopIfAborted();
    // Start what can start: its dependencies done (or failed: then it is skipped), a slot free.
    for (let index = 0; index < pending.length && running.size < concurrency; ) {
      const step = pending[index];
      if (step === undefined) {
        break;
      }
      const deps = step.after.map((id) => outcomes.get(id));
      if (deps.some((dep) => dep === undefined)) {
        index += 1;
        continue;
      }
      pending.splice(index, 1);
      const failedDep = deps.find((dep) => dep?.status !== 'ready');
      if (failedDep !== undefined) {
        progress(`setup ${step.id}: skipped (${failedDep.step.id} is not ready)`);
        outcomes.set(step.id, { step, status: 'skipped', seconds: 0, tail: [`${failedDep.step.id} is not ready`] });
        continue;
      }
      running.set(
        step.id,
        runStep(step).finally(() => running.delete(step.id)),
      );
    }
    if (running.size > 0) {
      await Promise.race(running.values());
    }
  }
  // An abort that ended the last step is an abort, not that step's failure.
  await stopIfAborted();
  return steps.map((step) => outcomes.get(step.id)).filter((outcome) => outcome !== undefined);
};

const main = async (): Promise<number> => {
  const target = process.argv[2];
  if (target !== 'test' && target !== 'demo') {
    process.stderr.write('usage: node dev/setup/provision.ts test|demo\n');
    return 2;
  }
  const started = performance.now();
  const progress = (message: string): void => {
    process.stderr.write(`[setup +${seconds(started).toFixed(1).padStart(5)}s] ${message}\n`);
  };
  const abort = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      abort.abort(new Error(`${signal}: set-up stopped; the next run picks up where this one stopped`));
    });
  }
  const outcomes = await provision({ target, progress, signal: abort.signal });
  const notReady = outcomes.filter((outcome) => outcome.status !== 'ready');
  if (notReady.length > 0) {
    progress(`not ready for npm ${target === 'test' ? 'test' : 'run demo'}: ${notReady.map((outcome) => outcome.step.id).join(', ')} (see above)`);
    return 1;
  }
  progress(`ready for npm ${target === 'test' ? 'test' : 'run demo'} in ${seconds(started).toFixed(1)}s`);
  return 0;
};

if (import.meta.main) {
  try {
    process.exitCode = await main();
  } catch (error) {
    process.stderr.write(`setup: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
