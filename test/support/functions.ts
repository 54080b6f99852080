/**
 * Built function bundles (`dist/functions/<name>`) run the way Cloud Run runs them: the
 * functions-framework host loading the bundle, on a free port, with an environment of the test's
 * choosing. Stopped with the test.
 */
import path from 'node:path';
import { freePort, type StartedProcess, startProcess } from './process.ts';

const root = path.resolve(import.meta.dirname, '../..');

export interface RunningFunction {
  readonly url: string;
  readonly process: StartedProcess;
  /** Lines the function logged that parse as JSON (its structured log). */
  logs(): Record<string, unknown>[];
  stop(): Promise<void>;
}

export const startFunction = async (name: string, env: NodeJS.ProcessEnv): Promise<RunningFunction> => {
  const port = await freePort();
  const dir = path.join(root, 'dist', 'functions', name);
  const child = await startProcess(
    process.execPath,
    [path.join(root, 'node_modules', '.bin', 'functions-framework'), '--source', dir, '--target', name, '--port', String(port)],
    { cwd: dir, env: { ...process.env, METADATA_SERVER_DETECTION: 'none', ...env }, ready: /Serving function/ },
  );
  return {
    url: `http://127.0.0.1:${port}/`,
    process: child,
    logs: () =>
      child
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stop: () => child.stop(),
  };
};

/** A Pub/Sub push request body for `data`, as a push subscription sends it. */
export const pushBody = (data: Buffer | string, messageId: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  message: {
    data: Buffer.isBuffer(data) ? data.toString('base64') : data,
    messageId,
    publishTime: new Date().toISOString(),
    attributes: {},
  },
  subscription: 'projects/kernel-gossip-test/subscriptions/kernel-findings-test',
  deliveryAttempt: 1,
  ...extra,
});

export const post = async (url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
