/**
 * The official Pub/Sub emulator (the Java one that ships with the Google Cloud CLI) as a child
 * process on 127.0.0.1, for tests, the demo and benchmarks. It validates Avro schemas on publish,
 * keeps ordering, delivers pushes and dead-letters, so what passes here passes the real service's
 * contract checks.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort, type StartedProcess, startProcess } from '../process.ts';

const DEFAULT_SDK_ROOTS = ['/usr/lib/google-cloud-sdk', '/usr/share/google-cloud-sdk', '/google-cloud-sdk'];

/** Path of the emulator launcher script, from `PUBSUB_EMULATOR_BIN`, the SDK root or gcloud itself. */
export const emulatorBinary = (): string => {
  const configured = process.env['PUBSUB_EMULATOR_BIN'];
  if (configured !== undefined && configured !== '') {
    return configured;
  }
  const relative = path.join('platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator');
  for (const root of DEFAULT_SDK_ROOTS) {
    if (existsSync(path.join(root, relative))) {
      return path.join(root, relative);
    }
  }
  const root = execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], { encoding: 'utf8' }).trim();
  const candidate = path.join(root, relative);
  if (!existsSync(candidate)) {
    throw new Error(
      `Pub/Sub emulator not found at ${candidate}: install the Google Cloud CLI component (gcloud components install pubsub-emulator, or the Debian package google-cloud-cli-pubsub-emulator)`,
    );
  }
  return candidate;
};

export interface PubsubEmulator {
  /** `host:port`, the value for PUBSUB_EMULATOR_HOST. */
  readonly host: string;
  readonly process: StartedProcess;
  stop(): Promise<void>;
}

/** Starts the emulator on a free port and resolves once it listens. */
export const startPubsubEmulator = async (options: { port?: number } = {}): Promise<PubsubEmulator> => {
  const port = options.port ?? (await freePort());
  const child = await startProcess(emulatorBinary(), [`--host=127.0.0.1`, `--port=${port}`], {
    ready: /Server started, listening on/,
    timeoutMs: 60_000,
  });
  return { host: `127.0.0.1:${port}`, process: child, stop: () => child.stop() };
};
