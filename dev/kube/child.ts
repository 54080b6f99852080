/**
 * A long-running child process of the local control plane: keeps the tail of its output for error
 * messages, and stops with SIGTERM, then SIGKILL after a grace period. Children still running when
 * this Node process exits are killed, so a crashed test run leaves no etcd or apiserver behind.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** Bytes of output kept per process; enough for the error that made it exit. */
const TAIL_BYTES = 16_384;

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** The last few KiB the process printed (stdout and stderr). */
  tail(): string;
  /** Resolves when the process has exited, with how. */
  readonly exited: Promise<string>;
  /** Whether the process has exited. */
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

const installExitHook = (): void => {
  if (exitHookInstalled) {
    return;
  }
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) {
      child.kill('SIGKILL');
    }
  });
};

/** Spawns `command` (no shell) and tracks it. */
export const spawnChild = (name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Child => {
  installExitHook();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const onData = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > 2 * TAIL_BYTES) {
      output = output.slice(-TAIL_BYTES);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exitedHow: string | undefined;
  const exited = new Promise<string>((resolve) => {
    const done = (how: string): void => {
      running.delete(child);
      exitedHow ??= how;
      resolve(exitedHow);
    };
    child.once('exit', (code, signal) => {
      done(signal === null ? `exit code ${code ?? 'unknown'}` : `signal ${signal}`);
    });
    child.once('error', (error) => {
      done(`spawn error: ${error.message}`);
    });
  });
  const stop = async (graceMs: number): Promise<void> => {
    if (exitedHow !== undefined) {
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    name,
    process: child,
    tail: () => output.slice(-TAIL_BYTES),
    exited,
    hasExited: () => exitedHow !== undefined,
    stop,
  };
};
