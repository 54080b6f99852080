/**
 * Child processes for integration tests: start a real server, wait for the line that says it is
 * ready, and always stop it (SIGTERM, then SIGKILL) so no test leaves a process behind.
 */
import { type ChildProcess, type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Readable, Writable } from 'node:stream';

/** A free TCP port on 127.0.0.1, picked by the kernel. */
export const freePort = async (): Promise<number> => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') {
    throw new Error('could not pick a free port');
  }
  return address.port;
};

export interface StartedProcess {
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The process is ready once its output matches this. */
  readonly ready: RegExp;
  readonly timeoutMs?: number;
  /**
   * Runs the process in its own process group, so a terminal's Ctrl-C reaches only this process
   * (which then stops it), with its stdin a pipe from this process: a child told to exit when
   * stdin closes still ends if this process dies without stopping it.
   */
  readonly ownGroup?: boolean;
}

/** Starts `command` and resolves once its output matches `ready`; rejects with its output otherwise. */
export const startProcess = async (command: string, args: readonly string[], options: StartOptions): Promise<StartedProcess> => {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.ownGroup === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: options.ownGroup === true,
  }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
  let output = '';
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${command} not ready after ${options.timeoutMs ?? 30_000} ms:\n${output}`));
    }, options.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (options.ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { child, output: () => output, stop };
};
