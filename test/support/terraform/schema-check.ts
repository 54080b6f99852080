/**
 * Checks Terraform blocks against the providers' schemas as `tofu providers schema -json` prints
 * them (dev/terraform/provider-schema.ts): unknown arguments and blocks, missing required ones,
 * read-only (computed) attributes set, too many of a block that nests at most one, block syntax
 * used for an argument or the other way round, and references to attributes a resource does not
 * have.
 *
 * @module
 */
import type { BlockSchema, BlockTypeSchema, ProviderSchemaFile } from '../../../dev/terraform/provider-schema.ts';
import { interpolations, type Body, type TfModule } from './hcl.ts';

/** Arguments Terraform itself handles on every resource and data block. */
const META_ARGUMENTS = new Set(['count', 'for_each', 'depends_on', 'lifecycle', 'provider', 'provisioner', 'connection']);

const isBody = (value: unknown): value is Body => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a nested block type admits at most one block. */
const atMostOne = (nested: BlockTypeSchema): boolean => nested.nesting_mode === 'single' || nested.nesting_mode === 'group' || nested.max_items === 1;

/** Whether an attribute's value may be written as blocks: a list or set of objects, or any type. */
const takesObjects = (type: unknown): boolean =>
  type === 'dynamic' || (Array.isArray(type) && (type[0] === 'list' || type[0] === 'set') && Array.isArray(type[1]) && type[1][0] === 'object');

/** Problems of one block body against its schema, each prefixed with `where`. */
export const checkBody = (where: string, body: Body, schema: BlockSchema, topLevel: boolean): string[] => {
  const problems: string[] = [];
  const given = new Set<string>();
  for (const [key, value] of Object.entries(body)) {
    if (topLevel && META_ARGUMENTS.has(key)) {
      continue;
    }
    if (key === 'dynamic' && isBody(value)) {
      for (const [name, dynamics] of Object.entries(value)) {
        const nested = schema.block_types?.[name];
        if (!nested) {
          problems.push(`${where}: dynamic "${name}" is not a block of this type`);
          continue;
        }
        given.add(name);
        for (const dynamic of Array.isArray(dynamics) ? dynamics : []) {
          const content = isBody(dynamic) && Array.isArray(dynamic['content']) ? (dynamic['content'] as unknown[]) : [];
          for (const inner of content) {
            problems.push(...(isBody(inner) ? checkBody(`${where}.${name}`, inner, nested.block, false) : [`${where}.${name}: bad content`]));
          }
        }
      }
      continue;
    }
    given.add(key);
    const nested = schema.block_types?.[key];
    if (nested) {
      if (!Array.isArray(value)) {
        problems.push(`${where}: ${key} is a block; write ${key} { ... }, not ${key} = ...`);
        continue;
      }
      if (atMostOne(nested) && value.length > 1) {
        problems.push(`${where}: at most one ${key} block`);
      }
      for (const inner of value) {
        problems.push(...(isBody(inner) ? checkBody(`${where}.${key}`, inner, nested.block, false) : [`${where}.${key}: not a block`]));
      }
      continue;
    }
    const argument = schema.attributes?.[key];
    if (!argument) {
      problems.push(`${where}: unknown argument or block "${key}"`);
      continue;
    }
    if (argument.required !== true && argument.optional !== true) {
      problems.push(`${where}: ${key} is read-only (computed by the provider) and cannot be set`);
    }
    if (Array.isArray(value) && value.some(isBody) && !takesObjects(argument.type)) {
      problems.push(`${where}: ${key} is an argument; write ${key} = ..., not a ${key} { ... } block`);
    }
  }
  for (const [name, argument] of Object.entries(schema.attributes ?? {})) {
    if (argument.required === true && !given.has(name)) {
      problems.push(`${where}: required argument "${name}" is missing`);
    }
  }
  for (const [name, nested] of Object.entries(schema.block_types ?? {})) {
    if ((nested.min_items ?? 0) > 0 && !given.has(name)) {
      problems.push(`${where}: required block "${name}" is missing`);
    }
  }
  return problems;
};

/** Whether `name` can be read from a block of this schema, and the nested schema if it is a block. */
const readable = (schema: BlockSchema, name: string): { ok: boolean; nested?: BlockSchema } => {
  const nested = schema.block_types?.[name];
  if (nested) {
    return { ok: true, nested: nested.block };
  }
  return { ok: name in (schema.attributes ?? {}) };
};

/** `type.name` or `data.type.name` traversals with their attribute path, indexes dropped. */
const TRAVERSAL = /(?<![\w.])(data\.)?([a-z][a-z0-9]*_[a-z0-9_]+)\.([a-z0-9_]+)((?:\[[^\]]*\]|\.[a-z_][a-z0-9_]*)*)/g;

/** References to attributes that the referenced resource or data source does not have. */
export const checkAttributeReferences = (mod: TfModule, lookup: (kind: 'resources' | 'data', type: string) => BlockSchema | undefined): string[] => {
  const problems: string[] = [];
  const visit = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      for (const expr of interpolations(value)) {
        for (const match of expr.matchAll(TRAVERSAL)) {
          const [, dataPrefix, type = '', name = '', rest = ''] = match;
          const kind = dataPrefix ? 'data' : 'resources';
          const declared = kind === 'data' ? mod.data.has(`${type}.${name}`) : mod.resources.has(`${type}.${name}`);
          const schema = lookup(kind, type);
          if (!declared || !schema) {
            continue;
          }
          let current: BlockSchema | undefined = schema;
          const path = rest.replace(/\[[^\]]*\]/g, '').split('.').filter((p) => p !== '');
          for (const attribute of path) {
            if (!current) {
              break;
            }
            const found = readable(current, attribute);
            if (!found.ok) {
              problems.push(`${where}: ${dataPrefix ?? ''}${type}.${name} has no attribute "${attribute}" (in ${match[0]})`);
              break;
            }
            current = found.nested;
          }
        }
      }
    } else if (Array.isArray(value)) {
      value.forEach((v) => {
        visit(v, where);
      });
    } else if (isBody(value)) {
      Object.values(value).forEach((v) => {
        visit(v, where);
      });
    }
  };
  for (const [id, d] of [...mod.resources, ...mod.data, ...mod.outputs, ...mod.locals]) {
    visit(d.body, `${id} (${d.file})`);
  }
  return problems;
};

/** Finds a resource or data source schema across providers. */
export const schemaLookup =
  (file: ProviderSchemaFile) =>
  (kind: 'resources' | 'data', type: string): BlockSchema | undefined =>
    Object.values(file.provider_schemas)
      .map((p) => (kind === 'data' ? p.data_source_schemas : p.resource_schemas)?.[type]?.block)
      .find((s) => s !== undefined);
