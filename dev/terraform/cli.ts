/**
 * Finds the OpenTofu CLI that dev/setup/40-terraform-tools.sh builds and runs it offline, with
 * providers only from the local filesystem mirror.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

/** Where the setup script caches its builds. */
export const kgCache = (): string => process.env['KG_CACHE'] ?? path.join(homedir(), '.cache', 'kernel-gossip');

/** The OpenTofu version the wrapper module pins, e.g. `v1.12.6`. */
export const tofuVersion = async (): Promise<string> => {
  const goMod = await readFile(path.join(root, 'dev', 'terraform', 'tofu', 'go.mod'), 'utf8');
  const match = /^require github\.com\/opentofu\/opentofu (v\d+\.\d+\.\d+)$/m.exec(goMod);
  if (!match?.[1]) {
    throw new Error('dev/terraform/tofu/go.mod does not pin github.com/opentofu/opentofu');
  }
  return match[1];
};

/** Paths of the cached CLI, its CLI config and the provider mirror. */
export interface TofuInstall {
  readonly bin: string;
  readonly cliConfig: string;
  readonly mirror: string;
  readonly version: string;
}

/**
 * The key of the stand-in mirror for this checkout: the stand-in's source and the schema it serves,
 * hashed as dev/setup/40-terraform-tools.sh does (`cat go.mod go.sum main.go schemas | sha256sum`).
 */
const standInKey = async (): Promise<string> => {
  const files = [
    ...['go.mod', 'go.sum', 'main.go'].map((name) => path.join(root, 'dev', 'terraform', 'schema-provider', name)),
    path.join(root, 'test', 'unit', 'terraform', 'fixtures', 'provider-schemas.json'),
  ];
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 16);
};

/**
 * The same CLI pointed at the mirror of schema-only stand-in providers
 * (dev/terraform/schema-provider) that serve this checkout's schema; rejects with what to run when
 * they are missing.
 */
export const findTofuWithStandIns = async (): Promise<TofuInstall> => {
  const tofu = await findTofu();
  const dir = path.join(kgCache(), 'schema-standin', await standInKey());
  const cliConfig = path.join(dir, 'tofurc');
  const mirror = path.join(dir, 'mirror');
  for (const file of [cliConfig, path.join(mirror, 'registry.opentofu.org', 'hashicorp', 'google')]) {
    await access(file, constants.R_OK).catch((cause: unknown) => {
      throw new Error(`the schema stand-in providers for this checkout are not installed (${file} is missing): run \`bash dev/setup/40-terraform-tools.sh\``, { cause });
    });
  }
  return { ...tofu, cliConfig, mirror };
};

/** The cached OpenTofu install; rejects with what to run when it is missing. */
export const findTofu = async (): Promise<TofuInstall> => {
  const version = await tofuVersion();
  const bin = path.join(kgCache(), 'tofu', version, 'tofu');
  const cliConfig = path.join(kgCache(), 'tofu', 'tofurc');
  for (const file of [bin, cliConfig]) {
    await access(file, constants.R_OK).catch((cause: unknown) => {
      throw new Error(`OpenTofu ${version} is not installed (${file} is missing): run \`bash dev/setup/40-terraform-tools.sh\` (KG_CACHE=${kgCache()})`, { cause });
    });
  }
  return { bin, cliConfig, mirror: path.join(kgCache(), 'tf-mirror'), version };
};

/** What one tofu run printed and how it ended. */
export interface TofuResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How long tofu may take to stop after SIGTERM (it finishes its current step) before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** A run that takes longer than this is stopped and reported as failed. */
const RUN_TIMEOUT_MS = 300_000;
/** Output kept per stream; a plan's JSON of the whole example stays well below. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * Runs tofu in `cwd` offline: no color, no prompts, no update checks, providers from the mirror.
 * It settles only once tofu has exited: an abort (or the run timeout) sends SIGTERM, then SIGKILL
 * after a grace period, and rejects after the exit, so a caller that stops never leaves a tofu
 * running behind it.
 */
export const runTofu = (install: TofuInstall, args: readonly string[], cwd: string, env: Record<string, string> = {}, signal?: AbortSignal): Promise<TofuResult> =>
  new Promise((resolve, reject) => {
    const what = `tofu ${args.join(' ')}`;
    if (signal?.aborted === true) {
      reject(new Error(`${what} was not started: stopped before`, { cause: signal.reason }));
      return;
    }
    const child = spawn(install.bin, [...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: process.env['HOME'] ?? homedir(),
        TF_CLI_CONFIG_FILE: install.cliConfig,
        TF_IN_AUTOMATION: '1',
        TF_INPUT: '0',
        CHECKPOINT_DISABLE: '1',
        NO_COLOR: '1',
        ...env,
      },
    });
    const collect = (stream: NodeJS.ReadableStream): (() => string) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        if (size < MAX_OUTPUT_BYTES) {
          chunks.push(chunk);
          size += chunk.length;
        }
      });
      return () => Buffer.concat(chunks).toString('utf8');
    };
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    let stoppedBecause: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (reason: Error): void => {
      if (stoppedBecause !== undefined) {
        return;
      }
      stoppedBecause = reason;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    };
    const onAbort = (): void => {
      stop(new Error(`${what} was stopped`, { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const runTimer = setTimeout(() => {
      stop(new Error(`${what} took longer than ${RUN_TIMEOUT_MS / 1000} s`));
    }, RUN_TIMEOUT_MS);
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    child.once('close', (code) => {
      clearTimeout(runTimer);
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      if (spawnError !== undefined) {
        reject(new Error(`${what} could not run`, { cause: spawnError }));
      } else if (stoppedBecause !== undefined) {
        reject(stoppedBecause);
      } else {
        resolve({ code: code ?? 1, stdout: stdout(), stderr: stderr() });
      }
    });
  });

/**
 * A scratch copy of what the Terraform configuration reads (terraform/, the findings schema and
 * k8s/rbac/), so
 * that `tofu init` lock files and zips never land in the repository, with small stand-in bundles
 * in terraform/modules/kernel-gossip/tests/fixtures/dist/<function>/ for the `tofu test` suite.
 * Returns the copy's root.
 */
export const prepareWorkCopy = async (functions: readonly string[]): Promise<string> => {
  const work = await mkdtemp(path.join(tmpdir(), 'kg-tofu-'));
  await cp(path.join(root, 'terraform'), path.join(work, 'terraform'), {
    recursive: true,
    filter: (src) => !src.split(path.sep).includes('.terraform') && !src.endsWith('.terraform.lock.hcl'),
  });
  await mkdir(path.join(work, 'shared', 'findings'), { recursive: true });
  await cp(path.join(root, 'shared', 'findings', 'finding.avsc'), path.join(work, 'shared', 'findings', 'finding.avsc'));
  await cp(path.join(root, 'k8s', 'rbac'), path.join(work, 'k8s', 'rbac'), { recursive: true });
  for (const name of functions) {
    const dir = path.join(work, 'terraform', 'modules', 'kernel-gossip', 'tests', 'fixtures', 'dist', name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'index.js'), '// Stand-in bundle for tofu test: only zipped and hashed, never run.\n');
    await writeFile(path.join(dir, 'package.json'), `${JSON.stringify({ name: `kernel-gossip-${name}-fixture`, private: true, main: 'index.js' })}\n`);
  }
  return work;
};
