/**
 * The real OpenTofu CLI validates terraform/ and runs its `tofu test` suite (mocked google and
 * archive providers) against schema-only stand-ins of hashicorp/google and hashicorp/archive
 * (dev/terraform/schema-provider), which serve the schema the real providers print with
 * `tofu providers schema -json` (test/unit/terraform/fixtures/provider-schemas.json; its header
 * names the versions). This type-checks every expression, argument and block (set, list and single
 * nesting as the real providers have them), the tests' assertions and the variables' validations,
 * fully offline. What it cannot check without the real provider binaries: the providers' own value
 * validators (node test/integration/terraform/validate-with-providers.ts runs those).
 *
 * Fails, never skips, when tofu or the stand-ins are missing (bash dev/setup/40-terraform-tools.sh).
 */
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModule } from '../../support/terraform/hcl.ts';
import { PROVIDER_SCHEMAS_FILE, trimSchemas, type ProviderSchemaFile } from '../../../dev/terraform/provider-schema.ts';
import { findTofuWithStandIns, prepareWorkCopy, runTofu, type TofuInstall, type TofuResult } from '../../../dev/terraform/cli.ts';

const root = path.resolve(import.meta.dirname, '../../..');

/** Output worth reading when a step fails. */
const summary = (result: TofuResult): { code: number; output: string } => ({ code: result.code, output: `${result.stdout}\n${result.stderr}`.trim() });

/** Exit code and, on failure, everything tofu printed (so a failing test shows why). */
const outcome = (result: TofuResult): { code: number; output: string } => ({ code: result.code, output: result.code === 0 ? '' : summary(result).output });

describe('tofu validate and tofu test on terraform/ (schema stand-in providers)', () => {
  let tofu: TofuInstall;
  let work = '';
  const dirOf = (relative: string): string => path.join(work, relative);

  beforeAll(async () => {
    tofu = await findTofuWithStandIns();
    const mod = await loadModule(path.join(root, 'terraform', 'modules', 'kernel-gossip'));
    work = await prepareWorkCopy(Object.keys(mod.locals.get('function_contract')?.body['value'] as Record<string, unknown>));
    for (const dir of ['terraform/modules/kernel-gossip', 'terraform/examples/basic']) {
      const init = await runTofu(tofu, ['init', '-backend=false', '-input=false', '-no-color'], dirOf(dir));
      if (init.code !== 0) {
        throw new Error(`tofu init in ${dir} failed: ${summary(init).output}`);
      }
    }
  }, 180_000);

  afterAll(async () => {
    if (work !== '') {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('initialises offline from the stand-in mirror', async () => {
    const installed = await readdir(path.join(dirOf('terraform/modules/kernel-gossip'), '.terraform', 'providers', 'registry.opentofu.org', 'hashicorp'));
    expect(installed.sort()).toEqual(['archive', 'google']);
  });

  it('serves exactly the schema the real providers printed (descriptions aside)', async () => {
    const file = JSON.parse(await readFile(PROVIDER_SCHEMAS_FILE, 'utf8')) as ProviderSchemaFile;
    const result = await runTofu(tofu, ['providers', 'schema', '-json'], dirOf('terraform/modules/kernel-gossip'));
    expect(outcome(result)).toEqual({ code: 0, output: '' });
    const kinds = Object.values(file.provider_schemas);
    const wanted = {
      resources: new Set(kinds.flatMap((p) => Object.keys(p.resource_schemas ?? {}))),
      data: new Set(kinds.flatMap((p) => Object.keys(p.data_source_schemas ?? {}))),
    };
    // The same trimming as the committed file's: it only drops descriptions and sorts keys.
    expect(trimSchemas(JSON.parse(result.stdout) as Parameters<typeof trimSchemas>[0], wanted)).toEqual(file.provider_schemas);
  });

  it('validates the module', async () => {
    const result = await runTofu(tofu, ['validate', '-json'], dirOf('terraform/modules/kernel-gossip'));
    expect(outcome(result)).toEqual({ code: 0, output: '' });
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: true, error_count: 0 });
  });

  it('validates the example root that calls it', async () => {
    const result = await runTofu(tofu, ['validate', '-json'], dirOf('terraform/examples/basic'));
    expect(outcome(result)).toEqual({ code: 0, output: '' });
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: true, error_count: 0 });
  });

  it('passes tofu test with mocked providers (ingress, OIDC audiences, dead letters, schema, IAM, RBAC)', async () => {
    const result = await runTofu(tofu, ['test', '-no-color'], dirOf('terraform/modules/kernel-gossip'));
    expect(outcome(result)).toEqual({ code: 0, output: '' });
    expect(result.stdout).toMatch(/Success! 16 passed, 0 failed\./);
  }, 180_000);

  it('fails validate on an argument the provider does not have, so the checks above can fail', async () => {
    // A sibling of the module, so that its relative paths (shared/findings/finding.avsc) still resolve.
    const copy = dirOf('terraform/modules/broken');
    await cp(dirOf('terraform/modules/kernel-gossip'), copy, { recursive: true });
    const file = path.join(copy, 'pubsub.tf');
    await writeFile(file, (await readFile(file, 'utf8')).replace('ack_deadline_seconds = local', 'ack_deadline = local'));
    const result = await runTofu(tofu, ['validate', '-json'], copy, { TF_DATA_DIR: path.join(dirOf('terraform/modules/kernel-gossip'), '.terraform') });
    expect(result.code).not.toBe(0);
    const { diagnostics } = JSON.parse(result.stdout) as { diagnostics: { summary: string; detail: string }[] };
    expect(diagnostics).toEqual([expect.objectContaining({ summary: 'Unsupported argument', detail: expect.stringContaining('"ack_deadline"') as unknown })]);
  });
});
