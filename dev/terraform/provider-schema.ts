/**
 * Extracts the argument schema of the resources and data sources terraform/ uses from the
 * providers' published CDK bindings, whose jsii assemblies are generated from each provider's own
 * schema (`terraform providers schema -json`): which arguments and nested blocks a resource takes,
 * which are required, and which attributes it exports. The provider binaries themselves cannot be
 * built here (docs/deployment.md), so this is the closest real schema available offline.
 *
 *   pip download --no-deps cdktn-provider-google==20.3.1 -d /tmp/kg-schema    # hashicorp/google 7.46.1
 *   unzip -p /tmp/kg-schema/cdktn_provider_google-20.3.1-py3-none-any.whl \
 *     'cdktn_provider_google/_jsii/provider-google@20.3.1.jsii.tgz' | tar xzO package/.jsii > /tmp/kg-schema/google.jsii
 *   npm pack @cdktf/provider-archive@11.0.1 --pack-destination /tmp/kg-schema                # hashicorp/archive 2.7.1
 *   tar xzO -f /tmp/kg-schema/cdktf-provider-archive-11.0.1.tgz package/.jsii > /tmp/kg-schema/archive.jsii
 *   node dev/terraform/provider-schema.ts /tmp/kg-schema/google.jsii /tmp/kg-schema/archive.jsii
 *
 * writes `test/unit/terraform/fixtures/provider-schemas.json`, limited to the types terraform/ uses.
 *
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

/** Where the extracted schemas are kept for the tests. */
export const PROVIDER_SCHEMAS_FILE = path.join(root, 'test', 'unit', 'terraform', 'fixtures', 'provider-schemas.json');

/** An argument: its value kind and whether it must be set. */
export interface ArgumentSchema {
  readonly required: boolean;
  readonly type: string;
}

/** A nested block: whether at least one is required, whether several are allowed, and its schema. */
export interface NestedBlockSchema {
  readonly required: boolean;
  readonly list: boolean;
  readonly block: BlockSchema;
}

/** The schema of a resource, data source or nested block. */
export interface BlockSchema {
  readonly arguments: Readonly<Record<string, ArgumentSchema>>;
  readonly blocks: Readonly<Record<string, NestedBlockSchema>>;
  /** Attributes that can be read but not set (computed only), with their value kind. */
  readonly exported?: Readonly<Record<string, string>>;
}

/** Schemas of one provider. */
export interface ProviderSchemas {
  readonly provider: string;
  readonly version: string;
  readonly from: string;
  /** The provider block's own arguments. */
  readonly config: BlockSchema;
  readonly resources: Readonly<Record<string, BlockSchema>>;
  readonly data: Readonly<Record<string, BlockSchema>>;
}

interface TypeRef {
  readonly primitive?: string;
  readonly fqn?: string;
  readonly collection?: { readonly kind: string; readonly elementtype: TypeRef };
  readonly union?: { readonly types: readonly TypeRef[] };
}

interface JsiiProperty {
  readonly name: string;
  readonly optional?: boolean;
  readonly immutable?: boolean;
  readonly type: TypeRef;
  readonly docs?: { readonly summary?: string; readonly remarks?: string };
}

interface JsiiType {
  readonly kind: string;
  readonly datatype?: boolean;
  readonly properties?: readonly JsiiProperty[];
  readonly docs?: { readonly summary?: string };
  readonly initializer?: { readonly parameters?: readonly { readonly name: string; readonly type: TypeRef }[] };
}

interface Jsii {
  readonly name: string;
  readonly version: string;
  readonly readme?: { readonly markdown?: string };
  readonly types: Readonly<Record<string, JsiiType>>;
}

/** cdk's camelCase back to Terraform's snake_case (`outputSha256` -> `output_sha256`). */
export const snakeCase = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([a-z])([0-9]+)$/, '$1$2').toLowerCase();

/** The Terraform name of a property: the anchor of its registry link, else its snake_case name. */
const terraformName = (property: JsiiProperty): string => {
  const anchor = /#([a-z0-9_]+) [A-Za-z0-9]+#\1\}/.exec(property.docs?.remarks ?? '');
  return anchor?.[1] ?? snakeCase(property.name);
};

/** The struct a property refers to when it is a nested block (one, or a list of them). */
const blockRef = (type: TypeRef, types: Jsii['types']): { fqn: string; list: boolean } | undefined => {
  const isStruct = (fqn: string | undefined): fqn is string => fqn !== undefined && types[fqn]?.datatype === true;
  if (isStruct(type.fqn)) {
    return { fqn: type.fqn, list: false };
  }
  for (const branch of type.union?.types ?? []) {
    const element = branch.collection?.kind === 'array' ? branch.collection.elementtype.fqn : undefined;
    if (isStruct(element)) {
      return { fqn: element, list: true };
    }
  }
  return undefined;
};

const valueKind = (type: TypeRef): string => {
  if (type.fqn !== undefined && /(String|Number|Boolean|Any)Map$/.test(type.fqn)) {
    return 'map';
  }
  if (type.primitive !== undefined) {
    return type.primitive === 'boolean' ? 'bool' : type.primitive;
  }
  if (type.collection) {
    return type.collection.kind === 'map' ? 'map' : 'list';
  }
  const primitive = type.union?.types.find((t) => t.primitive !== undefined);
  return primitive ? valueKind(primitive) : 'any';
};

const blockSchema = (fqn: string, types: Jsii['types'], depth = 0): BlockSchema => {
  const struct = types[fqn];
  if (!struct || depth > 12) {
    throw new Error(`no struct ${fqn} in the assembly`);
  }
  const args: Record<string, ArgumentSchema> = {};
  const blocks: Record<string, NestedBlockSchema> = {};
  for (const property of struct.properties ?? []) {
    const name = terraformName(property);
    const nested = blockRef(property.type, types);
    if (nested) {
      blocks[name] = { required: property.optional !== true, list: nested.list, block: blockSchema(nested.fqn, types, depth + 1) };
    } else {
      args[name] = { required: property.optional !== true, type: valueKind(property.type) };
    }
  }
  // The block's read-only attributes are the getters of its generated OutputReference class.
  const reference = types[`${fqn}OutputReference`];
  const exported = exportedOf(reference, new Set([...Object.keys(args), ...Object.keys(blocks)]));
  return { arguments: args, blocks, ...(Object.keys(exported).length > 0 ? { exported } : {}) };
};

/** Read-only attributes of a generated class: getters that are not `...Input` and not settable. */
const exportedOf = (type: JsiiType | undefined, settable: ReadonlySet<string>): Record<string, string> =>
  Object.fromEntries(
    (type?.properties ?? [])
      .filter((p) => p.immutable === true && !p.name.endsWith('Input') && !p.name.startsWith('tf') && p.name !== 'internalValue')
      .map((p) => [snakeCase(p.name), valueKind(p.type)] as const)
      .filter(([n]) => !settable.has(n))
      .sort(([a], [b]) => a.localeCompare(b)),
  );

/** Top-level schemas of every resource and data source the assembly represents. */
export const extractSchemas = (jsii: Jsii, wanted: { resources: ReadonlySet<string>; data: ReadonlySet<string> }): ProviderSchemas => {
  const providerMatch = /bindings for (hashicorp\/[a-z0-9-]+) provider version ([0-9.]+)/.exec(jsii.readme?.markdown ?? '');
  const resources: Record<string, BlockSchema> = {};
  const data: Record<string, BlockSchema> = {};
  let config: BlockSchema | undefined;
  for (const type of Object.values(jsii.types)) {
    if (type.kind === 'class' && /^Represents a \{@link https:\/\/registry\.terraform\.io\/providers\/[^ ]+\/docs [a-z0-9]+\}/.test(type.docs?.summary ?? '')) {
      const providerConfig = type.initializer?.parameters?.find((p) => p.name === 'config')?.type.fqn;
      if (providerConfig !== undefined) {
        config = blockSchema(providerConfig, jsii.types);
      }
      continue;
    }
    const represents = /^Represents a \{@link https:\/\/registry\.terraform\.io\/providers\/[^ ]+\/docs\/(resources|data-sources)\/[a-z0-9_]+ ([a-z0-9_]+)\}/.exec(
      type.docs?.summary ?? '',
    );
    if (type.kind !== 'class' || !represents?.[1] || !represents[2]) {
      continue;
    }
    const [, kind, name] = represents;
    const isData = kind === 'data-sources';
    if (!(isData ? wanted.data : wanted.resources).has(name)) {
      continue;
    }
    const configFqn = type.initializer?.parameters?.find((p) => p.name === 'config')?.type.fqn;
    if (configFqn === undefined) {
      throw new Error(`${name}: no config struct`);
    }
    const schema = blockSchema(configFqn, jsii.types);
    const exported = exportedOf(type, new Set([...Object.keys(schema.arguments), ...Object.keys(schema.blocks)]));
    (isData ? data : resources)[name] = { ...schema, exported };
  }
  if (!config) {
    throw new Error(`${jsii.name}: no provider class`);
  }
  return {
    provider: providerMatch?.[1] ?? jsii.name,
    version: providerMatch?.[2] ?? 'unknown',
    from: `${jsii.name}@${jsii.version}`,
    config,
    resources,
    data,
  };
};

if (import.meta.main) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    throw new Error('usage: node dev/terraform/provider-schema.ts <provider .jsii>... (see the header of this file)');
  }
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
  const out: ProviderSchemas[] = [];
  for (const file of files) {
    out.push(extractSchemas(JSON.parse(await readFile(file, 'utf8')) as Jsii, { resources, data }));
  }
  await writeFile(PROVIDER_SCHEMAS_FILE, `${JSON.stringify(out, null, 1)}\n`);
  for (const p of out) {
    console.log(`${p.provider} ${p.version} (${p.from}): ${Object.keys(p.resources).length} resources, ${Object.keys(p.data).length} data sources`);
  }
  console.log(`wrote ${path.relative(process.cwd(), PROVIDER_SCHEMAS_FILE)}`);
}
