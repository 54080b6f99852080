/**
 * terraform/ against the schemas the real hashicorp/google and hashicorp/archive providers print
 * with `tofu providers schema -json` (test/unit/terraform/fixtures/provider-schemas.json, trimmed
 * by dev/terraform/provider-schema.ts; its header names the versions). A fast check without tofu:
 * it catches misspelled or invented arguments, missing required ones, read-only attributes set,
 * block/argument mix-ups and references to attributes that do not exist. tofu-validate.test.ts
 * runs `tofu validate` itself against stand-ins serving the same schema; neither runs the
 * providers' own value validators.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_SCHEMAS_FILE, trimSchemas, type ProviderSchemaFile } from '../../../dev/terraform/provider-schema.ts';
import { loadModule, only, type TfModule } from '../../support/terraform/hcl.ts';
import { checkAttributeReferences, checkBody, schemaLookup } from '../../support/terraform/schema-check.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const dirs = ['terraform/modules/kernel-gossip', 'terraform/examples/basic'];

describe('terraform/ against the provider schemas', () => {
  let providers: ProviderSchemaFile;
  let modules: TfModule[];
  let lookup: ReturnType<typeof schemaLookup>;

  beforeAll(async () => {
    providers = JSON.parse(await readFile(PROVIDER_SCHEMAS_FILE, 'utf8')) as ProviderSchemaFile;
    modules = await Promise.all(dirs.map((dir) => loadModule(path.join(root, dir))));
    lookup = schemaLookup(providers);
  });

  it('comes from provider releases the version constraints accept', () => {
    const google = providers.generated.providers['registry.opentofu.org/hashicorp/google'];
    const archive = providers.generated.providers['registry.opentofu.org/hashicorp/archive'];
    expect(google?.version).toMatch(/^7\.\d+\.\d+$/);
    expect(archive?.version).toMatch(/^2\.(7|[89]|\d{2,})\.\d+$/);
    expect(Object.keys(providers.provider_schemas).sort()).toEqual(Object.keys(providers.generated.providers).sort());
    const required = only(modules[0]?.files.get('versions.tf')?.['terraform'], 'terraform')['required_providers'];
    expect(only(required, 'required_providers')).toMatchObject({ google: { version: '~> 7.0' }, archive: { version: '~> 2.7' } });
  });

  it('has a schema for every resource and data source type used (else rerun dev/terraform/provider-schema.ts)', () => {
    const missing = modules.flatMap((mod) => [
      ...[...mod.resources.keys()].map((id) => id.split('.')[0] ?? '').filter((type) => !lookup('resources', type)),
      ...[...mod.data.keys()].map((id) => `data.${id.split('.')[0] ?? ''}`).filter((type) => !lookup('data', type.slice(5))),
    ]);
    expect(missing).toEqual([]);
  });

  it('uses only arguments and blocks the providers define, with every required one set', () => {
    const problems: string[] = [];
    for (const mod of modules) {
      for (const [kind, declared] of [['resources', mod.resources], ['data', mod.data]] as const) {
        for (const [id, { body, file }] of declared) {
          const schema = lookup(kind, id.split('.')[0] ?? '');
          if (schema) {
            problems.push(...checkBody(`${kind === 'data' ? 'data.' : ''}${id} (${file})`, body, schema, true));
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('reads only attributes the referenced resources export', () => {
    expect(modules.flatMap((mod) => checkAttributeReferences(mod, lookup))).toEqual([]);
  });

  it('reports invented arguments, missing required ones, block/argument mix-ups and unknown attributes', () => {
    const topic = lookup('resources', 'google_pubsub_topic');
    const subscription = lookup('resources', 'google_pubsub_subscription');
    expect(topic && subscription).toBeTruthy();
    if (!topic || !subscription) {
      return;
    }
    expect(checkBody('t', { name: 'x', retention: '1d' }, topic, true)).toEqual(['t: unknown argument or block "retention"']);
    expect(checkBody('t', { project: 'p' }, topic, true)).toEqual(['t: required argument "name" is missing']);
    expect(checkBody('t', { name: 'x', effective_labels: {} }, topic, true)).toEqual(['t: effective_labels is read-only (computed by the provider) and cannot be set']);
    expect(checkBody('s', { name: 'x', topic: 't', push_config: [{ push_endpoint: 'u' }, { push_endpoint: 'v' }] }, subscription, true)).toEqual([
      's: at most one push_config block',
    ]);
    expect(checkBody('s', { name: 'x', topic: 't', push_config: { push_endpoint: 'u' } }, subscription, true)).toEqual([
      's: push_config is a block; write push_config { ... }, not push_config = ...',
    ]);
    expect(checkBody('s', { name: 'x', topic: 't', dead_letter_policy: [{ dead_letter_topic: 'd', max_attempts: 5 }] }, subscription, true)).toEqual([
      's.dead_letter_policy: unknown argument or block "max_attempts"',
    ]);
    const mod = modules[0];
    expect(mod).toBeDefined();
    if (!mod) {
      return;
    }
    const broken: TfModule = {
      ...mod,
      outputs: new Map([['x', { file: 'x.tf', body: { value: '${google_pubsub_topic.findings.topic_url} ${google_cloudfunctions2_function.function["a"].service_config[0].url}' } }]]),
      locals: new Map(),
      resources: new Map([...mod.resources].filter(([id]) => ['google_pubsub_topic.findings', 'google_cloudfunctions2_function.function'].includes(id))),
      data: new Map(),
    };
    expect(checkAttributeReferences(broken, lookup)).toEqual([
      'x (x.tf): google_pubsub_topic.findings has no attribute "topic_url" (in google_pubsub_topic.findings.topic_url)',
      'x (x.tf): google_cloudfunctions2_function.function has no attribute "url" (in google_cloudfunctions2_function.function["a"].service_config[0].url)',
    ]);
  });
});

describe('trimSchemas (what dev/terraform/provider-schema.ts keeps of tofu providers schema -json)', () => {
  const printed = {
    format_version: '1.0',
    provider_schemas: {
      'registry.opentofu.org/hashicorp/x': {
        provider: { version: 0, block: { attributes: { region: { type: 'string', optional: true, description: 'Region.', description_kind: 'plain' } } } },
        resource_schemas: {
          x_used: {
            version: 1,
            block: {
              description: 'A used type.',
              description_kind: 'markdown',
              attributes: { description: { type: 'string', optional: true, description: 'Its own description argument.' }, id: { type: 'string', computed: true } },
              block_types: { rule: { nesting_mode: 'set' as const, min_items: 1, block: { attributes: { name: { type: 'string', required: true, description: 'Name.' } } } } },
            },
          },
          x_unused: { version: 0, block: {} },
        },
        data_source_schemas: { x_unused: { version: 0, block: {} } },
        functions: { f: {} },
      },
    },
  };

  it('keeps the provider configuration and the wanted types whole, without descriptions or empty maps', () => {
    expect(trimSchemas(printed, { resources: new Set(['x_used']), data: new Set() })).toEqual({
      'registry.opentofu.org/hashicorp/x': {
        provider: { version: 0, block: { attributes: { region: { type: 'string', optional: true } } } },
        resource_schemas: {
          x_used: {
            version: 1,
            block: {
              attributes: { description: { type: 'string', optional: true }, id: { type: 'string', computed: true } },
              block_types: { rule: { nesting_mode: 'set', min_items: 1, block: { attributes: { name: { type: 'string', required: true } } } } },
            },
          },
        },
      },
    });
  });

  it('fails on a type no provider has', () => {
    expect(() => trimSchemas(printed, { resources: new Set(['x_used', 'x_missing']), data: new Set(['x_gone']) })).toThrow(
      'no provider has a schema for data.x_gone, x_missing',
    );
  });
});
