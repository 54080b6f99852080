/**
 * Finds the OpenTofu CLI that dev/setup/40-terraform-tools.sh builds and runs it offline, with
 * providers only from the local filesystem mirror.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../../..');

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

/** Runs tofu in `cwd` offline: no color, no prompts, no update checks, providers from the mirror. */
export const runTofu = (install: TofuInstall, args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<TofuResult> =>
  new Promise((resolve, reject) => {
    execFile(
      install.bin,
      [...args],
      {
        cwd,
        timeout: 300_000,
        maxBuffer: 16 * 1024 * 1024,
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
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`tofu ${args.join(' ')} could not run`, { cause: error }));
          return;
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
