/**
 * Real validation of terraform/ against the provider binaries: `tofu init` offline from the
 * filesystem mirror, `tofu validate` of the module and the example, and `tofu test` (mocked
 * google and archive providers, tests/*.tftest.hcl) in the module. Unlike the stand-ins, the real
 * providers run their own value validators here (e.g. service_account_id's format).
 *
 *   bash dev/setup/40-terraform-tools.sh   # with KG_TF_PROVIDER_BINS to put providers in the mirror
 *   node test/integration/terraform/validate-with-providers.ts
 *
 * Not part of `npm test`: the real binaries are built from the providers' public source beside the
 * project (the Go module proxy serves their dependencies but not the provider modules; about 16
 * minutes for google on 2 cores), and never committed. docs/deployment.md ("Running against the
 * real providers") has the recipe and what it printed. Without the providers this exits 1 with the
 * reason; it never reports success without having run every step.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModule } from '../../support/terraform/hcl.ts';
import { findTofu, prepareWorkCopy, runTofu, type TofuInstall } from '../../../dev/terraform/cli.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const REQUIRED_PROVIDERS = ['google', 'archive'];

const providersInMirror = async (mirror: string): Promise<Set<string>> => {
  const found = new Set<string>();
  for (const host of ['registry.opentofu.org', 'registry.terraform.io']) {
    const dir = path.join(mirror, host, 'hashicorp');
    for (const name of await readdir(dir).catch(() => [])) {
      found.add(name);
    }
  }
  return found;
};

const step = async (tofu: TofuInstall, title: string, args: string[], cwd: string, dataDir: string): Promise<void> => {
  process.stdout.write(`-- ${title}: tofu ${args.join(' ')} (in ${cwd})\n`);
  const result = await runTofu(tofu, args, cwd, { TF_DATA_DIR: dataDir });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.code !== 0) {
    throw new Error(`${title} failed (exit ${result.code})`);
  }
};

const main = async (): Promise<void> => {
  const tofu = await findTofu();
  const present = await providersInMirror(tofu.mirror);
  const missing = REQUIRED_PROVIDERS.filter((p) => !present.has(p));
  if (missing.length > 0) {
    throw new Error(
      `provider binaries missing from ${tofu.mirror}: ${missing.map((p) => `hashicorp/${p}`).join(', ')}. ` +
        'Put them there with KG_TF_PROVIDER_BINS (see dev/setup/40-terraform-tools.sh).',
    );
  }
  const mod = await loadModule(path.join(root, 'terraform', 'modules', 'kernel-gossip'));
  const work = await prepareWorkCopy(Object.keys(mod.locals.get('function_contract')?.body['value'] as Record<string, unknown>));
  const scratch = await mkdtemp(path.join(tmpdir(), 'kg-tofu-data-'));
  try {
    for (const dir of ['terraform/modules/kernel-gossip', 'terraform/examples/basic']) {
      const cwd = path.join(work, dir);
      const dataDir = path.join(scratch, dir.replaceAll('/', '_'));
      // In the scratch copy: the lock file init writes for these binaries never reaches the repository.
      await step(tofu, 'init from the mirror', ['init', '-backend=false', '-input=false', '-no-color'], cwd, dataDir);
      await step(tofu, 'validate', ['validate', '-no-color'], cwd, dataDir);
      if (dir.endsWith('kernel-gossip')) {
        await step(tofu, 'test with mocked providers', ['test', '-no-color'], cwd, dataDir);
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
  process.stdout.write('terraform validated against the provider schemas: init, validate, test passed\n');
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
