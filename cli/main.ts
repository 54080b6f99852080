/**
 * `kernel-gossip`: the command line.
 *
 *   kernel-gossip scan (--pixie | --local [--kubeconfig F] [--node N] [--kubelet-url U] | --replay <dir>) [--window 60] [--namespace NS]... [--json]
 *   kernel-gossip tail [--project P] [--topic kernel-findings] [--subscription S] [--kind K]... [--json]
 *   kernel-gossip [<command>] --help | -h        kernel-gossip --version | -v
 *
 * Exit codes: 0 done (also for --help and --version), 2 bad usage (the message names what was
 * wrong, then the command's usage), 1 failure (message on stderr).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import packageJson from '../package.json' with { type: 'json' };
import { BIRTH_SCRIPT_NAMES, isBirthScriptName } from '../shared/pxl/scripts.ts';
import { parseKubeletUrl, PodSourceError } from '../dev/node/pod-sources.ts';
import { scan, ScanError, type ScanSource } from './scan.ts';
import { tail } from './tail.ts';

const SCAN_USAGE = `usage: kernel-gossip scan (--pixie | --local | --replay <dir>) [options]

Runs the observe path once and prints the findings.

  --pixie               kernel data from Pixie (PIXIE_API_KEY, PIXIE_CLUSTER_ID, optional PIXIE_CLOUD_ADDR)
  --local               a live local Vizier on this host (root, bpftrace): every CPU-limited container
                        of the node; waits until the probes have covered the window (Ctrl-C: report
                        the part covered so far)
  --kubeconfig <file>   with --local: name pods from this API server (default: $KUBECONFIG; else the
                        kubelet's read-only pod list; else by cgroup path and container id)
  --node <name>         with --local: this node's registered name (default: the hostname)
  --kubelet-url <url>   with --local and no --kubeconfig: the kubelet's read-only endpoint to name
                        pods from (http or https, scheme://host:port; default http://127.0.0.1:10255;
                        given, it is asked instead of $KUBECONFIG)
  --replay <dir>        recorded kernel data (a lab recording or replay directory)
  --window <seconds>    the window to read (default 60; throttling reads the 3 windows before it too)
  --namespace <ns>      only this namespace; repeatable
  --cluster <name>      cluster name in findings (default: $KG_CLUSTER_NAME or "local")
  --json                one finding per line exactly as it would be published
  --report <file>       also write a self-contained HTML report (timelines, metrics vs kernel charts)
  --birth-probe <name>  pod_birth_lite (default, the always-on probe) or pod_birth (adds limit writes
                        and the runtime's syscall count, at a cost on every syscall of the nodes)
  -h, --help            this help
`;

const TAIL_USAGE = `usage: kernel-gossip tail [options]

Prints findings from the findings topic as they arrive.

  --project <id>        Google Cloud project (default: $GOOGLE_CLOUD_PROJECT)
  --topic <name>        findings topic (default: kernel-findings)
  --subscription <name> read an existing subscription instead of a temporary one
  --kind <kind>         only this kind (cpu.throttle, pod.birth, remediation.result); repeatable
  --json                print each message exactly as published, one per line
  -h, --help            this help

Set PUBSUB_EMULATOR_HOST=host:port to read from the Pub/Sub emulator.
`;

const USAGE = `usage: kernel-gossip <command> [options]

commands:
  scan    run the observe path once and print the findings
  tail    print findings from the findings topic as they arrive

options:
  -h, --help     this help; \`kernel-gossip <command> --help\` for a command's options
  -v, --version  print the version

`;

const COMMAND_USAGE = { scan: SCAN_USAGE, tail: TAIL_USAGE } as const;

class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The usage to print after the message: the command's, or the general one. */
  readonly usage: string;
  constructor(message: string, usage: string = USAGE) {
    super(message);
    this.usage = usage;
  }
}

/** Asked for a command's help: print its usage and exit 0. */
class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
  readonly usage: string;
  constructor(usage: string) {
    super('help');
    this.usage = usage;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's arguments; `-h`/`--help` anywhere wins over everything else, and a parse
 * error (an unknown option, a missing value) becomes a UsageError carrying the command's usage.
 */
const parseCommand = <T extends Options>(command: keyof typeof COMMAND_USAGE, args: readonly string[], options: T): ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>>['values'] => {
  const usage = COMMAND_USAGE[command];
  const loose = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: false, tokens: true });
  if (loose.tokens.some((token) => token.kind === 'option' && token.name === 'help')) {
    throw new HelpRequested(usage);
  }
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(`${command}: ${(error as Error).message}`, usage);
    }
    throw error;
  }
};

const runTail = async (args: readonly string[], signal: AbortSignal): Promise<void> => {
  const values = parseCommand('tail', args, {
    project: { type: 'string' },
    topic: { type: 'string', default: 'kernel-findings' },
    subscription: { type: 'string' },
    kind: { type: 'string', multiple: true, default: [] },
    json: { type: 'boolean', default: false },
  });
  const project = values.project ?? process.env['GOOGLE_CLOUD_PROJECT'];
  if (project === undefined || project === '') {
    throw new UsageError('tail needs --project or GOOGLE_CLOUD_PROJECT', TAIL_USAGE);
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

/** `--kubelet-url`, checked (a bad one is a usage error that says why), as its origin. */
const kubeletUrlOption = (value: string | undefined): string | undefined => {
  if (value === undefined) {
    return undefined;
  }
  try {
    return parseKubeletUrl(value);
  } catch (error) {
    if (error instanceof PodSourceError) {
      throw new UsageError(`--kubelet-url ${error.message}`, SCAN_USAGE);
    }
    throw error;
  }
};

const runScan = async (args: readonly string[], signal: AbortSignal): Promise<void> => {
  const values = parseCommand('scan', args, {
    pixie: { type: 'boolean', default: false },
    local: { type: 'boolean', default: false },
    replay: { type: 'string' },
    window: { type: 'string', default: '60' },
    namespace: { type: 'string', multiple: true, default: [] },
    cluster: { type: 'string' },
    json: { type: 'boolean', default: false },
    report: { type: 'string' },
    'birth-probe': { type: 'string', default: 'pod_birth_lite' },
    kubeconfig: { type: 'string' },
    node: { type: 'string' },
    'kubelet-url': { type: 'string' },
  });
  const chosen = [values.pixie, values.local, values.replay !== undefined].filter(Boolean).length;
  if (chosen !== 1) {
    throw new UsageError('scan needs exactly one of --pixie, --local, --replay <dir>', SCAN_USAGE);
  }
  const windowSeconds = Number(values.window);
  if (!Number.isInteger(windowSeconds) || windowSeconds < 10 || windowSeconds > 3600) {
    throw new UsageError('--window must be a whole number of seconds from 10 to 3600', SCAN_USAGE);
  }
  const birthProbe = values['birth-probe'];
  if (!isBirthScriptName(birthProbe)) {
    throw new UsageError(`--birth-probe must be one of ${BIRTH_SCRIPT_NAMES.join(', ')}`, SCAN_USAGE);
  }
  if (!values.local && (values.kubeconfig !== undefined || values.node !== undefined || values['kubelet-url'] !== undefined)) {
    throw new UsageError('--kubeconfig, --node and --kubelet-url name the pods of --local', SCAN_USAGE);
  }
  if (values.kubeconfig !== undefined && values['kubelet-url'] !== undefined) {
    throw new UsageError('--kubeconfig names pods from the API server, --kubelet-url from the kubelet: give one of them', SCAN_USAGE);
  }
  const kubeletUrl = kubeletUrlOption(values['kubelet-url']);
  const source: ScanSource = values.pixie ? { kind: 'pixie' } : values.local ? { kind: 'local' } : { kind: 'replay', dir: values.replay ?? '' };
  // An explicit --kubelet-url is asked instead of the API server of $KUBECONFIG.
  const kubeconfig = values.kubeconfig ?? (values.local && kubeletUrl === undefined ? process.env['KUBECONFIG'] : undefined);
  await scan({
    source,
    windowSeconds,
    namespaces: values.namespace,
    json: values.json,
    color: process.stdout.isTTY,
    out: process.stdout,
    err: process.stderr,
    env: process.env,
    cluster: values.cluster ?? process.env['KG_CLUSTER_NAME'] ?? 'local',
    birthProbe,
    ...(values.report === undefined ? {} : { report: values.report }),
    ...(kubeconfig === undefined || kubeconfig === '' ? {} : { kubeconfig }),
    ...(values.node === undefined ? {} : { node: values.node }),
    ...(kubeletUrl === undefined ? {} : { kubeletUrl }),
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
      case 'scan':
        await runScan(rest, controller.signal);
        return 0;
      case 'tail':
        await runTail(rest, controller.signal);
        return 0;
      case 'help':
      case '--help':
      case '-h': {
        // `kernel-gossip help scan` is `kernel-gossip scan --help`.
        const topic = rest[0];
        if (topic !== undefined && topic in COMMAND_USAGE) {
          process.stdout.write(COMMAND_USAGE[topic as keyof typeof COMMAND_USAGE]);
          return 0;
        }
        process.stdout.write(USAGE);
        return 0;
      }
      case '--version':
      case '-v':
        process.stdout.write(`kernel-gossip ${packageJson.version}\n`);
        return 0;
      case undefined:
        throw new UsageError('a command is needed');
      default:
        throw new UsageError(command.startsWith('-') ? `unknown option: ${command}` : `unknown command: ${command}`);
    }
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(error.usage);
      return 0;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`kernel-gossip: ${error.message}\n\n${error.usage}`);
      return 2;
    }
    if (error instanceof ScanError) {
      process.stderr.write(`kernel-gossip scan: ${error.message}\n`);
      return 1;
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
