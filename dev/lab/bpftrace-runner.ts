/**
 * Runs a bpftrace program with the local bpftrace, the way a Pixie agent runs a deployed one: ready
 * once bpftrace reports its probes attached, every printf turned into a typed row by Pixie's column
 * rules. bpftrace's harmless `couldn't set RLIMIT_MEMLOCK` line on stderr is ignored.
 *
 * bpftrace runs the program with each printf's format tagged with its printf number
 * (tagPrintfs: same structs, same events), so every printed event is known by the printf that
 * printed it (`printfIds()`), which the PEM model needs (pem-rows.ts); texts and rows are untagged.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { type ProgramOutput, programOutput, tagPrintfs } from '../../shared/pxl/bpftrace-program.ts';
import { parseOutputLine, type Row, rowParser } from './bpftrace-output.ts';
import { monotonicToWallOffsetNs } from './clock.ts';

export class BpftraceRunError extends Error {
  override readonly name = 'BpftraceRunError';
}

export interface RunningProbe {
  /** Pid of the bpftrace process (its fds hold the loaded BPF programs). */
  readonly pid: number;
  readonly output: ProgramOutput;
  /** Probes bpftrace attached. */
  readonly attachedProbes: number;
  /** Rows so far (time_ converted to wall-clock ns). */
  rows(): readonly Row[];
  /** Raw printf texts so far, in arrival order (what fixtures record). */
  texts(): readonly string[];
  /** For each text, the 1-based printf (in program order) that printed it. */
  printfIds(): readonly number[];
  /** Stops bpftrace (SIGINT, so END runs), waits for its output to drain, returns all rows. */
  stop(): Promise<readonly Row[]>;
  /** Offset added to bpftrace's monotonic `nsecs` to make `time_` wall-clock. */
  readonly clockOffsetNs: bigint;
}

export interface StartProbeOptions {
  readonly bpftrace?: string;
  readonly readyTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

const STDERR_NOISE = /couldn't set RLIMIT_MEMLOCK/;

const printfTag = (printf: number): string => `kg-printf-${printf}|`;
const TAGGED = /^kg-printf-(\d+)\|/;

/** perf event fds a process holds: one per attached tracepoint, special (BEGIN/END) or profile probe (per CPU). */
const perfEventFds = async (pid: number): Promise<number> => {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  const links = await Promise.all(fds.map(async (fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return links.filter((link) => link === 'anon_inode:[perf_event]').length;
};

/**
 * bpftrace prints "Attaching N probes..." before it attaches them one by one: a probe event in
 * that gap is lost (measured: the first cgroup mkdirs of a pod made right after the line). Ready
 * is when the process holds at least N perf events and their count stopped growing.
 */
const waitAttached = async (pid: number, probes: number, timeoutMs: number): Promise<void> => {
  const until = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const now = await perfEventFds(pid);
    if (now >= probes && now === last) {
      return;
    }
    if (Date.now() > until) {
      throw new BpftraceRunError(`bpftrace announced ${probes} probes but holds ${now} attached perf events after ${timeoutMs} ms`);
    }
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

/** Starts `program`; resolves once its probes are attached. Rejects with bpftrace's stderr otherwise. */
export const startProbe = async (program: string, options: StartProbeOptions = {}): Promise<RunningProbe> => {
  const output = programOutput(program);
  const clockOffsetNs = monotonicToWallOffsetNs();
  const parse = rowParser(output, clockOffsetNs);
  const dir = await mkdtemp(path.join(tmpdir(), 'kg-bpftrace-'));
  const file = path.join(dir, 'program.bt');
  await writeFile(file, tagPrintfs(program, printfTag));
  const child = spawn(options.bpftrace ?? 'bpftrace', ['-f', 'json', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BPFTRACE_STRLEN: '64' },
  });
  const rows: Row[] = [];
  const texts: string[] = [];
  const printfIds: number[] = [];
  let stderr = '';
  let parseError: Error | undefined;
  let exitStatus = '';
  const exited = new Promise<void>((resolve) =>
    child.once('close', (code, signal) => {
      exitStatus = String(code ?? signal);
      resolve();
    }),
  );
  // bpftrace announces "Attaching N probes" before attaching them: when one cannot attach (a kprobe
  // on a kernel without CONFIG_KPROBES: "create_probe_event: open(.../kprobe_events)") it exits
  // after the announcement, and waiting for its perf events would only end at the ready timeout.
  const exitedAfterAnnouncing = exited.then(() => {
    throw new BpftraceRunError(`bpftrace exited (${exitStatus}) while attaching its probes:\n${stderrWithoutNoise(stderr)}`);
  });
  // Only raced while attaching; a later (normal) exit rejects it unobserved.
  exitedAfterAnnouncing.catch(() => undefined);
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const attached = new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line.trim() === '') {
        return;
      }
      try {
        const event = parseOutputLine(line);
        if (event.kind === 'attached') {
          resolve(event.probes);
        } else if (event.kind === 'printf') {
          const tag = TAGGED.exec(event.text);
          if (tag === null) {
            throw new BpftraceRunError(`printf output without the printf tag the runner added: ${event.text.slice(0, 200)}`);
          }
          const text = event.text.slice(tag[0].length);
          texts.push(text);
          printfIds.push(Number(tag[1]));
          rows.push(parse(text));
        }
      } catch (error) {
        parseError ??= error instanceof Error ? error : new Error(String(error));
      }
    });
    child.once('close', (code, signal) => {
      reject(new BpftraceRunError(`bpftrace exited (${code ?? signal}) before attaching:\n${stderrWithoutNoise(stderr)}`));
    });
    child.once('error', reject);
  });
  const cleanup = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
  };
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await cleanup();
  };
  const onAbort = (): void => {
    void kill();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new BpftraceRunError(`bpftrace did not attach within ${options.readyTimeoutMs ?? 60_000} ms:\n${stderrWithoutNoise(stderr)}`));
    }, options.readyTimeoutMs ?? 60_000);
  });
  let attachedProbes: number;
  try {
    attachedProbes = await Promise.race([attached, timeout]);
    await Promise.race([waitAttached(child.pid ?? 0, attachedProbes, options.readyTimeoutMs ?? 60_000), timeout, exitedAfterAnnouncing]);
  } catch (error) {
    await kill();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    pid: child.pid ?? 0,
    output,
    attachedProbes,
    clockOffsetNs,
    rows: () => rows,
    texts: () => texts,
    printfIds: () => printfIds,
    stop: async () => {
      options.signal?.removeEventListener('abort', onAbort);
      await kill();
      if (parseError !== undefined) {
        throw new BpftraceRunError('bpftrace printed output the program format does not explain', { cause: parseError });
      }
      return rows;
    },
  };
};

const stderrWithoutNoise = (stderr: string): string =>
  stderr
    .split('\n')
    .filter((line) => !STDERR_NOISE.test(line))
    .join('\n');
