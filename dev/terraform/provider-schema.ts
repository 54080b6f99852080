/**
 * The schema the stand-in providers serve (dev/terraform/schema-provider), taken from the real
 * providers' own `tofu providers schema -json`. With the real hashicorp/google and
 * hashicorp/archive binaries in the mirror ($KG_CACHE/tf-mirror; docs/deployment.md, "Running
 * against the real providers", says how to build them and put them there):
 *
 *   node dev/terraform/provider-schema.ts \
 *     --built-from 'google=github.com/hashicorp/terraform-provider-google v7.45.0 (6f756229ab21)' \
 *     --built-from 'archive=github.com/hashicorp/terraform-provider-archive v2.7.1 (7096ab68f450)'
 *
 * It runs `tofu init` and `tofu providers schema -json` in a scratch copy of terraform/examples/basic
 * (which calls the module, so every type terraform/ uses is there), keeps each provider's own
 * configuration schema and the whole schemas of the resource and data source types terraform/
 * declares, drops the descriptions, and writes test/unit/terraform/fixtures/provider-schemas.json:
 * tofu's own format under `provider_schemas`, with a `generated` header naming the OpenTofu version,
 * each provider's version, the sha256 of its binary, where it was built from, and the command.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findTofu, prepareWorkCopy, runTofu } from './cli.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** Where the trimmed schemas are kept, for the unit tests and the stand-in providers. */
export const PROVIDER_SCHEMAS_FILE = path.join(root, 'test', 'unit', 'terraform', 'fixtures', 'provider-schemas.json');

/** An attribute as `tofu providers schema -json` prints it (cty's JSON type encoding in `type`). */
export interface AttributeSchema {
  readonly type?: unknown;
  readonly nested_type?: unknown;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly sensitive?: boolean;
  readonly write_only?: boolean;
  readonly deprecated?: boolean;
}

/** How a nested block repeats: at most one (`single`, `group`), or many. */
export type NestingMode = 'single' | 'group' | 'list' | 'set' | 'map';

/** A nested block type. */
export interface BlockTypeSchema {
  readonly nesting_mode: NestingMode;
  readonly block: BlockSchema;
  readonly min_items?: number;
  readonly max_items?: number;
}

/** The schema of a resource, data source, provider configuration or nested block. */
export interface BlockSchema {
  readonly attributes?: Readonly<Record<string, AttributeSchema>>;
  readonly block_types?: Readonly<Record<string, BlockTypeSchema>>;
  readonly deprecated?: boolean;
}

/** A top-level schema with its version (the state format version). */
export interface VersionedSchema {
  readonly version: number;
  readonly block: BlockSchema;
}

/** One provider's schemas, as tofu prints them (kept parts only). */
export interface ProviderSchema {
  readonly provider: VersionedSchema;
  readonly resource_schemas?: Readonly<Record<string, VersionedSchema>>;
  readonly data_source_schemas?: Readonly<Record<string, VersionedSchema>>;
}

/** Where a provider's schema came from. */
export interface ProviderOrigin {
  readonly version: string;
  readonly binary_sha256: string;
  readonly built_from: string;
}

/** The committed file. */
export interface ProviderSchemaFile {
  readonly generated: {
    readonly by: string;
    readonly command: string;
    readonly opentofu: string;
    readonly kept: string;
    readonly providers: Readonly<Record<string, ProviderOrigin>>;
  };
  readonly format_version: string;
  readonly provider_schemas: Readonly<Record<string, ProviderSchema>>;
}

/** What `tofu providers schema -json` prints (the parts read here). */
interface TofuSchemas {
  readonly format_version: string;
  readonly provider_schemas: Readonly<Record<string, ProviderSchema & Record<string, unknown>>>;
}

/** Descriptions are documentation, not schema: dropping them keeps the file small. */
const DESCRIPTION_KEYS = new Set(['description', 'description_kind']);

/** An object's entries sorted by key, so the file is stable from run to run. */
const sortedEntries = (value: object): [string, unknown][] => Object.entries(value).sort(([a], [b]) => a.localeCompare(b));

/** An attribute without its description (its `type` is kept as tofu printed it). */
const trimAttribute = (attribute: AttributeSchema): AttributeSchema =>
  Object.fromEntries(sortedEntries(attribute).filter(([key]) => !DESCRIPTION_KEYS.has(key)));

/** A block without the descriptions of itself, its attributes and its nested blocks. */
const trimBlock = (block: BlockSchema): BlockSchema => {
  const out: Record<string, unknown> = {};
  for (const [key, value] of sortedEntries(block)) {
    if (key === 'attributes') {
      out[key] = Object.fromEntries(sortedEntries(value as object).map(([name, a]) => [name, trimAttribute(a as AttributeSchema)]));
    } else if (key === 'block_types') {
      out[key] = Object.fromEntries(
        sortedEntries(value as object).map(([name, nested]) => {
          const { block, ...rest } = nested as BlockTypeSchema;
          return [name, { ...rest, block: trimBlock(block) }];
        }),
      );
    } else if (!DESCRIPTION_KEYS.has(key)) {
      out[key] = value;
    }
  }
  return out;
};

const trimSchema = (schema: VersionedSchema): VersionedSchema => ({ version: schema.version, block: trimBlock(schema.block) });

const pick = (all: Readonly<Record<string, VersionedSchema>> | undefined, wanted: ReadonlySet<string>): Record<string, VersionedSchema> =>
  Object.fromEntries(
    Object.entries(all ?? {})
      .filter(([name]) => wanted.has(name))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, schema]) => [name, trimSchema(schema)]),
  );

/**
 * Keeps, of each provider, its configuration schema and the schemas of the wanted types; fails
 * when a wanted type is in no provider (the configuration would not validate either).
 */
export const trimSchemas = (all: TofuSchemas, wanted: { resources: ReadonlySet<string>; data: ReadonlySet<string> }): Record<string, ProviderSchema> => {
  const out: Record<string, ProviderSchema> = {};
  for (const [address, provider] of Object.entries(all.provider_schemas).sort(([a], [b]) => a.localeCompare(b))) {
    // Empty maps are left out, as tofu itself prints them.
    const resources = pick(provider.resource_schemas, wanted.resources);
    const data = pick(provider.data_source_schemas, wanted.data);
    out[address] = {
      provider: trimSchema(provider.provider),
      ...(Object.keys(resources).length > 0 ? { resource_schemas: resources } : {}),
      ...(Object.keys(data).length > 0 ? { data_source_schemas: data } : {}),
    };
  }
  const kept = Object.values(out);
  const missing = [
    ...[...wanted.resources].filter((t) => !kept.some((p) => p.resource_schemas?.[t])),
    ...[...wanted.data].filter((t) => !kept.some((p) => p.data_source_schemas?.[t])).map((t) => `data.${t}`),
  ];
  if (missing.length > 0) {
    throw new Error(`no provider has a schema for ${missing.sort().join(', ')}`);
  }
  return out;
};

/** `--built-from type=text` flags as a map from provider type to text. */
const builtFromFlags = (values: readonly string[]): Map<string, string> =>
  new Map(
    values.map((value) => {
      const eq = value.indexOf('=');
      if (eq <= 0) {
        throw new Error(`--built-from ${value}: expected <provider type>=<where the binary was built from>`);
      }
      return [value.slice(0, eq), value.slice(eq + 1)];
    }),
  );

const sha256 = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');

if (import.meta.main) {
  const { values } = parseArgs({ options: { 'built-from': { type: 'string', multiple: true, default: [] } } });
  const builtFrom = builtFromFlags(values['built-from']);
  const { loadModule } = await import('../../test/support/terraform/hcl.ts');
  const resources = new Set<string>();
  const data = new Set<string>();
  for (const dir of ['terraform/modules/kernel-gossip', 'terraform/examples/basic']) {
    const mod = await loadModule(path.join(root, dir));
    for (const id of mod.resources.keys()) {
      resources.add(id.split('.')[0] ?? '');
    }
    for (const id of mod.data.keys()) {
      data.add(id.split('.')[0] ?? '');
    }
  }
  const tofu = await findTofu();
  const work = await prepareWorkCopy([]);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kg-tofu-data-'));
  try {
    const cwd = path.join(work, 'terraform', 'examples', 'basic');
    const run = async (args: string[]): Promise<string> => {
      const result = await runTofu(tofu, args, cwd, { TF_DATA_DIR: dataDir });
      if (result.code !== 0) {
        throw new Error(`tofu ${args.join(' ')} failed (exit ${result.code}): ${result.stderr}${result.stdout}`);
      }
      return result.stdout;
    };
    await run(['init', '-backend=false', '-input=false', '-no-color']);
    const version = JSON.parse(await run(['version', '-json'])) as { terraform_version: string; provider_selections: Record<string, string> };
    const schemas = JSON.parse(await run(['providers', 'schema', '-json'])) as TofuSchemas;
    const providers: Record<string, ProviderOrigin> = {};
    for (const [address, providerVersion] of Object.entries(version.provider_selections).sort(([a], [b]) => a.localeCompare(b))) {
      const type = address.split('/').at(-1) ?? '';
      const binary = path.join(dataDir, 'providers', address, providerVersion, 'linux_amd64', `terraform-provider-${type}_v${providerVersion}`);
      providers[address] = { version: providerVersion, binary_sha256: await sha256(binary), built_from: builtFrom.get(type) ?? 'not recorded (pass --built-from)' };
    }
    const file: ProviderSchemaFile = {
      generated: {
        by: 'node dev/terraform/provider-schema.ts (see its header)',
        command: 'tofu providers schema -json, in terraform/examples/basic initialised from the real providers',
        opentofu: version.terraform_version,
        kept: 'each provider configuration schema and the whole schemas of the resource and data source types terraform/ declares; descriptions dropped',
        providers,
      },
      format_version: schemas.format_version,
      provider_schemas: trimSchemas(schemas, { resources, data }),
    };
    await writeFile(PROVIDER_SCHEMAS_FILE, `${JSON.stringify(file, null, 1)}\n`);
    for (const [address, origin] of Object.entries(providers)) {
      const kept = file.provider_schemas[address];
      console.log(
        `${address} ${origin.version}: ${Object.keys(kept?.resource_schemas ?? {}).length} resource and ${Object.keys(kept?.data_source_schemas ?? {}).length} data source schemas kept`,
      );
    }
    console.log(`wrote ${path.relative(process.cwd(), PROVIDER_SCHEMAS_FILE)}`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
}
