/**
 * `kernel-gossip`: the command line.
 *
 *   kernel-gossip tail [--project P] [--topic kernel-findings] [--subscription S] [--kind K]... [--json]
 *
 * Exit codes: 0 done, 2 bad usage, 1 failure (message on stderr).
 */
import { parseArgs } from 'node:util';
import { tail } from './tail.ts';

const USAGE = `usage: kernel-gossip <command> [options]

commands:
  tail    print findings from the findings topic as they arrive
            --project <id>        Google Cloud project (default: $GOOGLE_CLOUD_PROJECT)
            --topic <name>        findings topic (default: kernel-findings)
            --subscription <name> read an existing subscription instead of a temporary one
            --kind <kind>         only this kind (cpu.throttle, pod.birth, remediation.result); repeatable
            --json                print each message exactly as published, one per line

Set PUBSUB_EMULATOR_HOST=host:port to read from the Pub/Sub emulator.
`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const runTail = async (args: readonly string[], signal: AbortSignal): Promise<void> => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      project: { type: 'string' },
      topic: { type: 'string', default: 'kernel-findings' },
      subscription: { type: 'string' },
      kind: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const project = values.project ?? process.env['GOOGLE_CLOUD_PROJECT'];
  if (project === undefined || project === '') {
    throw new UsageError('tail needs --project or GOOGLE_CLOUD_PROJECT');
  }
  await tail({
    project,
    topic: values.topic,
    ...(values.subscription === undefined ? {} : { subscription: values.subscription }),
    json: values.json,
    kinds: values.kind,
    color: process.stdout.isTTY,
    out: process.stdout,
    err: process.stderr,
    signal,
  });
};

export const main = async (argv: readonly string[]): Promise<number> => {
  const [command, ...rest] = argv;
  const controller = new AbortController();
  const stop = (): void => {
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    switch (command) {
      case 'tail':
        await runTail(rest, controller.signal);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      process.stderr.write(`kernel-gossip: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`kernel-gossip: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
};

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
