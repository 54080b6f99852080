/**
 * Compiles a bpftrace program without loading it (`bpftrace -d`, bpftrace's dry run with debug
 * output) and returns what the PEM needs from it: the printf struct layouts and the table columns
 * they decode to. Debian's bpftrace 0.17 has the code generation of Pixie's bpftrace fork
 * (../shared/pixie/api-facts.md, last section), so its structs are the ones a PEM would receive.
 * Needs root (bpftrace reads the kernel's BTF); results are cached per program text, in memory and
 * on disk.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import path from 'node:path';
import { programOutput } from '../../shared/pxl/bpftrace-program.ts';
import { type DecodedColumn, decodedColumns, parsePrintfLayouts, type PrintfLayout } from '../../shared/pxl/printf-layout.ts';
import { cacheDir } from './assets.ts';

export class BpftraceDryRunError extends Error {
  override readonly name = 'BpftraceDryRunError';
}

export interface CompiledProgram {
  readonly layouts: readonly PrintfLayout[];
}

const DRY_RUN_TIMEOUT_MS = 60_000;
const NOISE = /couldn't set RLIMIT_MEMLOCK|available_filter_functions|Addrspace is not set/;

const run = async (file: string, bpftrace: string): Promise<{ stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    execFile(
      bpftrace,
      ['-d', file],
      // The string size the lab runs with (bpftrace-runner.ts) and Pixie's default.
      { env: { ...process.env, BPFTRACE_STRLEN: '64' }, maxBuffer: 256 * 1024 * 1024, timeout: DRY_RUN_TIMEOUT_MS },
      (error, stdout, stderr) => {
        const errors = stderr.split('\n').filter((line) => /ERROR/.test(line) && !NOISE.test(line));
        if (error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new BpftraceDryRunError(`${bpftrace} not found: the printf layouts of a program need bpftrace (dev/setup installs it)`, { cause: error }));
        } else if (error !== null || errors.length > 0) {
          reject(new BpftraceDryRunError(`bpftrace -d failed: ${errors.join('\n') || (error?.message ?? '')}`.slice(0, 2000), { cause: error ?? undefined }));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });

const cache = new Map<string, Promise<CompiledProgram>>();

/**
 * Layouts of successful dry runs are kept on disk (`$KG_CACHE/bpftrace-layouts/`, keyed by the
 * program, the bpftrace binary and the kernel release): a dry run takes seconds of CPU, and every
 * local Vizier process checks each program it deploys.
 */
const diskFile = (key: string): string =>
  path.join(cacheDir(), 'bpftrace-layouts', `${createHash('sha256').update(`${release()}\u0000${key}`).digest('hex')}.json`);

const fromDisk = async (key: string): Promise<CompiledProgram | undefined> => {
  try {
    const layouts = JSON.parse(await readFile(diskFile(key), 'utf8')) as PrintfLayout[];
    return Array.isArray(layouts) ? { layouts } : undefined;
  } catch {
    return undefined;
  }
};

const toDisk = async (key: string, compiled: CompiledProgram): Promise<void> => {
  const file = diskFile(key);
  await mkdir(path.dirname(file), { recursive: true });
  // Write then rename: concurrent processes never read a partial file.
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, JSON.stringify(compiled.layouts));
  await rename(partial, file);
};

/** The printf layouts of `program`, in code generation order. Rejects with bpftrace's errors. */
export const compileProgram = async (program: string, bpftrace = 'bpftrace'): Promise<CompiledProgram> => {
  const key = `${bpftrace}\u0000${program}`;
  let compiled = cache.get(key);
  if (compiled === undefined) {
    compiled = (async () => {
      const stored = await fromDisk(key);
      if (stored !== undefined) {
        return stored;
      }
      const dir = await mkdtemp(path.join(tmpdir(), 'kg-bpftrace-d-'));
      try {
        const file = path.join(dir, 'program.bt');
        await writeFile(file, program);
        const { stdout } = await run(file, bpftrace);
        const result = { layouts: parsePrintfLayouts(stdout) };
        await toDisk(key, result);
        return result;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    cache.set(key, compiled);
    void compiled.catch(() => cache.delete(key));
  }
  return compiled;
};

/**
 * The columns a PEM would decode from `program`'s output; rejects (BpftraceProgramError) a program
 * whose printfs compile to different structs, naming the printf and the first differing column.
 */
export const pemColumns = async (program: string, bpftrace?: string): Promise<DecodedColumn[]> =>
  decodedColumns(programOutput(program), (await compileProgram(program, bpftrace)).layouts);

/** `recording` with its program's printf structs, which the replay decodes its printfs with (dev/vizier/pxl/replay.ts). */
export const withPrintfLayouts = async <T extends { readonly program: string }>(recording: T, bpftrace?: string): Promise<T & { printfLayouts: readonly PrintfLayout[] }> => ({
  ...recording,
  printfLayouts: (await compileProgram(recording.program, bpftrace)).layouts,
});
