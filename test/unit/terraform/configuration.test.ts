/**
 * The Terraform configuration, read with HashiCorp's HCL parser: every file parses, every
 * reference resolves, every variable is typed, documented and used, and the Pixie key only
 * ever reaches a write-only argument.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { danglingReferences, listFiles, loadModule, only, parseHclFile, referencesOf, type TfModule, usedNames } from '../../support/terraform/hcl.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const terraformDir = path.join(root, 'terraform');
const moduleDir = path.join(terraformDir, 'modules', 'kernel-gossip');
const exampleDir = path.join(terraformDir, 'examples', 'basic');

/** Module variables without a validation block, each with the reason none is sensible. */
const UNVALIDATED = new Map([
  ['labels', 'any string map is a valid label set; the API checks label syntax'],
  ['enable_apis', 'a bool has no invalid values'],
  ['functions_dist_dir', 'checked by the precondition on the bundles, with a better message'],
]);

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

const outputsOf = async (fromDir: string, source: string): Promise<ReadonlySet<string>> => {
  if (!source.startsWith('./') && !source.startsWith('../')) {
    throw new Error(`module source ${source} is not a local path`);
  }
  return new Set((await loadModule(path.resolve(fromDir, source))).outputs.keys());
};

describe('terraform/ configuration', () => {
  let mod: TfModule;
  let example: TfModule;

  beforeAll(async () => {
    mod = await loadModule(moduleDir);
    example = await loadModule(exampleDir);
  });

  it('parses every .tf and .tftest.hcl file with the HCL parser', async () => {
    const files = await listFiles(terraformDir, ['.tf', '.tftest.hcl']);
    const relative = files.map((f) => path.relative(terraformDir, f));
    expect(relative).toContain('modules/kernel-gossip/functions.tf');
    expect(relative).toContain('examples/basic/main.tf');
    expect(relative.some((f) => f.endsWith('.tftest.hcl'))).toBe(true);
    const failures: string[] = [];
    for (const file of files) {
      await parseHclFile(file).catch((error: unknown) => failures.push(`${file}: ${String(error)}`));
    }
    expect(failures).toEqual([]);
  });

  it('reports a syntax error with the file and position', async () => {
    const { parse } = await import('@cdktf/hcl2json');
    await expect(parse('broken.tf', 'resource "a" "b" {\n  x = \n')).rejects.toThrow(/broken\.tf:2/);
  });

  it('resolves every reference of the module', async () => {
    expect(await danglingReferences(mod, (source) => outputsOf(moduleDir, source))).toEqual([]);
  });

  it('resolves every reference of the example, including the module outputs it reads', async () => {
    expect(example.modules.has('kernel_gossip')).toBe(true);
    expect(await danglingReferences(example, (source) => outputsOf(exampleDir, source))).toEqual([]);
  });

  it('finds a dangling reference when there is one', async () => {
    const broken: TfModule = {
      ...mod,
      variables: new Map([...mod.variables].filter(([name]) => name !== 'region')),
      resources: new Map([...mod.resources].filter(([id]) => id !== 'google_pubsub_topic.dead_letter')),
    };
    const found = await danglingReferences(broken, (source) => outputsOf(moduleDir, source));
    const references = found.map((d) => d.reference);
    expect(references).toContain('var.region');
    expect(references.filter((r) => r.startsWith('google_pubsub_topic.dead_letter.'))).not.toEqual([]);
    expect(found.every((d) => d.reference.startsWith('var.region') || d.reference.startsWith('google_pubsub_topic.dead_letter.'))).toBe(true);
  });

  it('finds references inside for expressions, index brackets and nested interpolations, but not in comments or literals', async () => {
    const body = {
      value:
        '${{ for name, f in local.contract : name => merge(local.values, { T = f.timeout, K = var.keys[each.key] }) # see local.not_a_ref\n }}',
      label: 'x-${google_service_account.sa["a"].email}-"literal.text"',
    };
    const refs = (await referencesOf('t', body)).map((r) => r.reference);
    expect(refs).toEqual(expect.arrayContaining(['local.contract', 'local.values', 'var.keys', 'each.key']));
    expect(refs.filter((r) => r.startsWith('google_service_account.sa.'))).toHaveLength(1);
    expect(refs).not.toContain('local.not_a_ref');
    expect(refs.some((r) => r.startsWith('f.') || r.startsWith('name.') || r.startsWith('literal.'))).toBe(false);
  });

  it('gives every variable a type and a description, in the module and the example', () => {
    const problems: string[] = [];
    for (const m of [mod, example]) {
      expect(m.variables.size).toBeGreaterThan(0);
      for (const [name, { body }] of m.variables) {
        if (!/^\$\{.+\}$/s.test(text(body['type']))) {
          problems.push(`${m.dir}: variable ${name} has no type`);
        }
        if (text(body['description']).length < 20) {
          problems.push(`${m.dir}: variable ${name} has no real description`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('validates every module variable where a value can be wrong', () => {
    const validated = [...mod.variables].filter(([, { body }]) => Array.isArray(body['validation']) && body['validation'].length > 0).map(([n]) => n);
    const expected = [...mod.variables.keys()].filter((name) => !UNVALIDATED.has(name));
    expect(validated.sort()).toEqual(expected.sort());
  });

  it('uses every variable and every local it declares', async () => {
    const unused: string[] = [];
    for (const m of [mod, example]) {
      const used = await usedNames(m);
      unused.push(...[...m.variables.keys()].filter((v) => !used.variables.has(v)).map((v) => `${m.dir}: var.${v}`));
      unused.push(...[...m.locals.keys()].filter((l) => !used.locals.has(l)).map((l) => `${m.dir}: local.${l}`));
    }
    expect(unused).toEqual([]);
  });

  it('documents every output', () => {
    const undocumented = [mod, example].flatMap((m) =>
      [...m.outputs].filter(([, { body }]) => text(body['description']).length < 10).map(([name]) => `${m.dir}: output ${name}`),
    );
    expect(undocumented).toEqual([]);
    expect([...mod.outputs.keys()]).toEqual(
      expect.arrayContaining(['findings_topic', 'dead_letter_topic', 'subscriptions', 'function_urls', 'dashboard_url', 'function_service_accounts']),
    );
  });

  it('takes the Pixie API key as an ephemeral, sensitive input that only a write-only argument reads', async () => {
    for (const m of [mod, example]) {
      expect(m.variables.get('pixie_api_key')?.body).toMatchObject({ ephemeral: true, sensitive: true });
    }
    const readers: string[] = [];
    for (const [id, { body }] of mod.resources) {
      for (const { reference } of await referencesOf(id, body)) {
        if (reference === 'var.pixie_api_key') {
          readers.push(id);
        }
      }
    }
    expect(readers).toEqual(['google_secret_manager_secret_version.pixie_api_key']);
    const version = mod.resources.get('google_secret_manager_secret_version.pixie_api_key')?.body;
    expect(version).toMatchObject({ secret_data_wo: '${var.pixie_api_key}', secret_data_wo_version: '${var.pixie_api_key_version}' });
    expect(version).not.toHaveProperty('secret_data');
    const leaks: string[] = [];
    for (const [id, { body }] of [...mod.outputs, ...mod.locals]) {
      if ((await referencesOf(id, body)).some((r) => r.reference === 'var.pixie_api_key')) {
        leaks.push(id);
      }
    }
    expect(leaks).toEqual([]);
  });

  it('pins the Terraform/OpenTofu and provider versions it relies on', () => {
    for (const m of [mod, example]) {
      const versions = only(m.files.get('versions.tf')?.['terraform'], 'terraform block');
      expect(versions['required_version']).toBe('>= 1.11');
      const providers = only(versions['required_providers'], 'required_providers');
      expect(providers).toMatchObject({
        google: { source: 'hashicorp/google', version: '~> 7.0' },
        archive: { source: 'hashicorp/archive', version: '~> 2.7' },
      });
    }
  });
});
