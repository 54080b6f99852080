/**
 * Compiles a bpftrace program without loading it (`bpftrace -d`, bpftrace's dry run with debug
 * output) and returns what the PEM needs from it: the printf struct layouts and the table columns
 * they decode to. Debian's bpftrace 0.17 has the code generation of Pixie's bpftrace fork
 * (../shared/pixie/api-facts.md, last section), so its structs are the ones a PEM would receive.
 * Needs root (bpftrace reads the kernel's BTF); results are cached per program text.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { programOutput } from '../../shared/pxl/bpftrace-program.ts';
import { type DecodedColumn, decodedColumns, parsePrintfLayouts, type PrintfLayout } from '../../shared/pxl/printf-layout.ts';

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

/** The printf layouts of `program`, in code generation order. Rejects with bpftrace's errors. */
export const compileProgram = async (program: string, bpftrace = 'bpftrace'): Promise<CompiledProgram> => {
  const key = `${bpftrace}\u0000${program}`;
  let compiled = cache.get(key);
  if (compiled === undefined) {
    compiled = (async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'kg-bpftrace-d-'));
      try {
        const file = path.join(dir, 'program.bt');
        await writeFile(file, program);
        const { stdout } = await run(file, bpftrace);
        return { layouts: parsePrintfLayouts(stdout) };
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
