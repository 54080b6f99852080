/**
 * Reads Terraform configuration with HashiCorp's own HCL parser (`@cdktf/hcl2json` runs the Go
 * parser as WebAssembly) and answers questions about it: what a module declares and which
 * references each expression makes. Syntax only: provider schemas are not known here.
 *
 * @module
 */
import { getReferencesInExpression, parse } from '@cdktf/hcl2json';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The JSON form hcl2json gives a file: block type -> labels -> list of bodies. */
export type HclJson = Record<string, unknown>;

/** A body of a block, as hcl2json renders it. */
export type Body = Record<string, unknown>;

/** One declared block with where it came from. */
export interface Declared {
  readonly file: string;
  readonly body: Body;
}

/** Everything one Terraform module (a folder of .tf files) declares. */
export interface TfModule {
  readonly dir: string;
  readonly files: ReadonlyMap<string, HclJson>;
  readonly variables: ReadonlyMap<string, Declared>;
  readonly locals: ReadonlyMap<string, Declared>;
  readonly outputs: ReadonlyMap<string, Declared>;
  /** Keyed `type.name`. */
  readonly resources: ReadonlyMap<string, Declared>;
  /** Keyed `type.name`, without the `data.` prefix. */
  readonly data: ReadonlyMap<string, Declared>;
  readonly modules: ReadonlyMap<string, Declared>;
}

const isBody = (value: unknown): value is Body => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The bodies under `labels...`: hcl2json nests one object level per label and ends in a list. */
const bodiesOf = (value: unknown): Body[] => (Array.isArray(value) ? value.filter(isBody) : []);

/** Parses one HCL file; a syntax error rejects with the parser's message, file and position. */
export const parseHclFile = async (file: string): Promise<HclJson> => {
  const text = await readFile(file, 'utf8');
  return (await parse(path.basename(file), text)) as HclJson;
};

/** Every file under `dir` (recursively) whose name ends with one of `suffixes`, skipping .terraform. */
export const listFiles = async (dir: string, suffixes: readonly string[]): Promise<string[]> => {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && suffixes.some((s) => e.name.endsWith(s)))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((file) => !file.split(path.sep).includes('.terraform'))
    .sort();
};

const labelled = (json: HclJson, key: string, file: string, into: Map<string, Declared>): void => {
  const byName = json[key];
  if (!isBody(byName)) {
    return;
  }
  for (const [name, value] of Object.entries(byName)) {
    for (const body of bodiesOf(value)) {
      if (into.has(name)) {
        throw new Error(`${key} "${name}" is declared twice (${into.get(name)?.file ?? '?'} and ${file})`);
      }
      into.set(name, { file, body });
    }
  }
};

const typedLabelled = (json: HclJson, key: string, file: string, into: Map<string, Declared>): void => {
  const byType = json[key];
  if (!isBody(byType)) {
    return;
  }
  for (const [type, byName] of Object.entries(byType)) {
    if (!isBody(byName)) {
      continue;
    }
    for (const [name, value] of Object.entries(byName)) {
      for (const body of bodiesOf(value)) {
        const id = `${type}.${name}`;
        if (into.has(id)) {
          throw new Error(`${key} ${id} is declared twice`);
        }
        into.set(id, { file, body });
      }
    }
  }
};

/** Parses every .tf file directly in `dir` into one module. */
export const loadModule = async (dir: string): Promise<TfModule> => {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = new Map<string, HclJson>();
  for (const entry of entries.filter((e) => e.isFile() && e.name.endsWith('.tf')).sort((a, b) => a.name.localeCompare(b.name))) {
    files.set(entry.name, await parseHclFile(path.join(dir, entry.name)));
  }
  const variables = new Map<string, Declared>();
  const locals = new Map<string, Declared>();
  const outputs = new Map<string, Declared>();
  const resources = new Map<string, Declared>();
  const data = new Map<string, Declared>();
  const modules = new Map<string, Declared>();
  for (const [file, json] of files) {
    labelled(json, 'variable', file, variables);
    labelled(json, 'output', file, outputs);
    labelled(json, 'module', file, modules);
    typedLabelled(json, 'resource', file, resources);
    typedLabelled(json, 'data', file, data);
    for (const body of bodiesOf(json['locals'])) {
      for (const [name, value] of Object.entries(body)) {
        if (locals.has(name)) {
          throw new Error(`local.${name} is declared twice`);
        }
        locals.set(name, { file, body: { value } });
      }
    }
  }
  return { dir, files, variables, locals, outputs, resources, data, modules };
};

/** Every interpolated string in a body, with the dynamic-block iterator names in scope. */
const expressionsOf = (value: unknown, iterators: readonly string[], out: { expr: string; iterators: readonly string[] }[]): void => {
  if (typeof value === 'string') {
    if (value.includes('${')) {
      out.push({ expr: value, iterators });
    }
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      expressionsOf(item, iterators, out);
    }
    return;
  }
  if (!isBody(value)) {
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === 'dynamic' && isBody(child)) {
      for (const [blockName, blocks] of Object.entries(child)) {
        for (const block of bodiesOf(blocks)) {
          const iterator = typeof block['iterator'] === 'string' ? block['iterator'] : blockName;
          expressionsOf(block, [...iterators, iterator], out);
        }
      }
    } else {
      expressionsOf(child, iterators, out);
    }
  }
};

/** A reference that names nothing the module declares. */
export interface Dangling {
  readonly where: string;
  readonly reference: string;
  readonly reason: string;
}

/**
 * The `${...}` interpolations of a string as hcl2json renders it: the literal text between them is
 * unescaped (so the whole string is no longer valid HCL), while each interpolation keeps its
 * source text. Brace depth and quoted strings (with their own nested interpolations) are tracked
 * so that a `}` inside a string literal does not end the interpolation.
 */
export const interpolations = (text: string): string[] => {
  const found: string[] = [];
  let i = 0;
  while ((i = text.indexOf('${', i)) !== -1) {
    const end = interpolationEnd(text, i + 2);
    found.push(text.slice(i + 2, end));
    i = end + 1;
  }
  return found;
};

/** Index of the `}` that closes the interpolation whose expression starts at `start`. */
const interpolationEnd = (text: string, start: number): number => {
  // Stack of contexts: an expression counts its own braces; a string literal may hold
  // interpolations of its own.
  const stack: { kind: 'expr' | 'string'; depth: number }[] = [{ kind: 'expr', depth: 0 }];
  for (let j = start; j < text.length; j += 1) {
    const c = text[j];
    const top = stack[stack.length - 1];
    if (top === undefined) {
      break;
    }
    if (top.kind === 'string') {
      if (c === '\\') {
        j += 1;
      } else if (c === '"') {
        stack.pop();
      } else if (c === '$' && text[j + 1] === '{') {
        stack.push({ kind: 'expr', depth: 0 });
        j += 1;
      }
    } else if (c === '"') {
      stack.push({ kind: 'string', depth: 0 });
    } else if (c === '{') {
      top.depth += 1;
    } else if (c === '}') {
      if (top.depth > 0) {
        top.depth -= 1;
      } else {
        stack.pop();
        if (stack.length === 0) {
          return j;
        }
      }
    }
  }
  throw new Error(`unterminated interpolation in ${JSON.stringify(text)}`);
};

const NAMED_HEADS = new Set(['var', 'local', 'data', 'module', 'each', 'count', 'path', 'terraform', 'self']);

/**
 * References found by scanning an expression's source text: `head.name...` traversals in code (not
 * in string literals or comments, but inside `${...}` within string literals), whose head is a
 * named value (`var`, `local`, `data`, `module`, `each`, `count`, ...), a dynamic-block iterator
 * or a resource type (`provider_type`). cdktf's reference finder skips the bodies of `for`
 * expressions; this scan does not.
 */
export const scanReferences = (expr: string, iterators: readonly string[] = []): string[] => {
  let code = '';
  const nested: string[] = [];
  for (let i = 0; i < expr.length; i += 1) {
    const c = expr[i];
    if (c === '#' || (c === '/' && expr[i + 1] === '/')) {
      while (i < expr.length && expr[i] !== '\n') {
        i += 1;
      }
      code += '\n';
    } else if (c === '/' && expr[i + 1] === '*') {
      const end = expr.indexOf('*/', i + 2);
      i = end === -1 ? expr.length : end + 1;
      code += ' ';
    } else if (c === '"') {
      // A string literal: keep only its interpolations, scanned on their own.
      let j = i + 1;
      let literal = '';
      for (; j < expr.length && expr[j] !== '"'; j += 1) {
        if (expr[j] === '\\') {
          literal += expr.slice(j, j + 2);
          j += 1;
        } else if (expr[j] === '$' && expr[j + 1] === '{') {
          // An interpolation may hold quotes of its own: copy it whole.
          const end = interpolationEnd(expr, j + 2);
          literal += expr.slice(j, end + 1);
          j = end;
        } else {
          literal += expr.charAt(j);
        }
      }
      nested.push(...interpolations(literal));
      i = j;
      code += ' "" ';
    } else {
      code += expr.charAt(i);
    }
  }
  const bound = new Set([...code.matchAll(/\bfor\s+([A-Za-z_][\w-]*)\s*(?:,\s*([A-Za-z_][\w-]*))?\s+in\b/g)].flatMap((m) => [m[1], m[2]]));
  const found: string[] = [];
  for (const match of code.matchAll(/(?<![\w.\]])([A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*|\[[^\]]*\]|\.\*)+)/g)) {
    const [, head = '', rest = ''] = match;
    if (bound.has(head)) {
      continue;
    }
    for (const index of rest.matchAll(/\[([^\]]*)\]/g)) {
      found.push(...scanReferences(index[1] ?? '', iterators).filter((r) => !bound.has(r.split('.')[0] ?? '')));
    }
    const names = rest.replace(/\[[^\]]*\]|\.\*/g, ' ').split(/[ .]+/).filter((n) => n !== '');
    if (NAMED_HEADS.has(head) || iterators.includes(head) || (head.includes('_') && names.length > 0)) {
      const depth = head === 'data' || head === 'module' ? 2 : 1;
      found.push([head, ...names.slice(0, depth)].join('.'));
    }
  }
  for (const inner of nested) {
    found.push(...scanReferences(inner, iterators));
  }
  return found;
};

/** Which names each expression of one block refers to, e.g. `var.x`, `google_x.y`, `each.key`. */
export const referencesOf = async (where: string, body: Body): Promise<{ reference: string; iterators: readonly string[] }[]> => {
  const found: { expr: string; iterators: readonly string[] }[] = [];
  expressionsOf(body, [], found);
  const refs: { reference: string; iterators: readonly string[] }[] = [];
  for (const { expr, iterators } of found) {
    for (const inner of interpolations(expr)) {
      const seen = new Set<string>();
      for (const ref of await getReferencesInExpression(where, `\${${inner}}`)) {
        seen.add(ref.value);
        refs.push({ reference: ref.value, iterators });
      }
      // cdktf's finder misses references in `for` bodies: add what the source scan finds.
      for (const reference of scanReferences(inner, iterators)) {
        if (![...seen].some((s) => s === reference || s.startsWith(`${reference}.`) || reference.startsWith(`${s}.`))) {
          seen.add(reference);
          refs.push({ reference, iterators });
        }
      }
    }
  }
  return refs;
};

/** Blocks of a module to check, with what they may refer to beyond the module's declarations. */
const blocksOf = (mod: TfModule): { where: string; body: Body }[] => [
  ...[...mod.resources].map(([id, d]) => ({ where: `resource ${id} (${d.file})`, body: d.body })),
  ...[...mod.data].map(([id, d]) => ({ where: `data ${id} (${d.file})`, body: d.body })),
  ...[...mod.modules].map(([id, d]) => ({ where: `module ${id} (${d.file})`, body: d.body })),
  ...[...mod.outputs].map(([id, d]) => ({ where: `output ${id} (${d.file})`, body: d.body })),
  ...[...mod.locals].map(([id, d]) => ({ where: `local ${id} (${d.file})`, body: d.body })),
  // A variable's type is a type constraint (`string`, `object({...})`), not a reference.
  ...[...mod.variables].map(([id, d]) => ({ where: `variable ${id} (${d.file})`, body: { ...d.body, type: undefined } })),
  ...[...mod.files].flatMap(([file, json]) =>
    bodiesOf(json['provider'] && isBody(json['provider']) ? Object.values(json['provider']).flat() : []).map((body) => ({
      where: `provider (${file})`,
      body,
    })),
  ),
];

/**
 * Every reference in the module that does not resolve: to an undeclared variable, local,
 * resource, data source, module or module output, or to `each`/`count`/an iterator out of scope.
 * `outputsOfModule` gives the outputs of a called module (by its `source`).
 */
export const danglingReferences = async (
  mod: TfModule,
  outputsOfModule: (source: string) => Promise<ReadonlySet<string>>,
): Promise<Dangling[]> => {
  const dangling: Dangling[] = [];
  for (const { where, body } of blocksOf(mod)) {
    const hasForEach = 'for_each' in body;
    const hasCount = 'count' in body;
    for (const { reference, iterators } of await referencesOf(where, body)) {
      const parts = reference.split('.');
      const [head = '', second = '', third] = parts;
      const fail = (reason: string): void => {
        dangling.push({ where, reference, reason });
      };
      switch (head) {
        case 'var':
          if (!mod.variables.has(second)) {
            fail('no such variable');
          }
          break;
        case 'local':
          if (!mod.locals.has(second)) {
            fail('no such local');
          }
          break;
        case 'data':
          if (!mod.data.has(`${second}.${third ?? ''}`)) {
            fail('no such data source');
          }
          break;
        case 'module': {
          const called = mod.modules.get(second);
          if (!called) {
            fail('no such module');
          } else if (third !== undefined) {
            const source = called.body['source'];
            const outputs = typeof source === 'string' ? await outputsOfModule(source) : new Set<string>();
            if (!outputs.has(third)) {
              fail(`module ${second} has no output ${third}`);
            }
          }
          break;
        }
        case 'each':
          if (!hasForEach) {
            fail('each.* used in a block without for_each');
          }
          break;
        case 'count':
          if (!hasCount) {
            fail('count.* used in a block without count');
          }
          break;
        case 'path':
        case 'terraform':
        case 'self':
          break;
        default:
          if (iterators.includes(head)) {
            break;
          }
          if (!mod.resources.has(`${head}.${second}`)) {
            fail('no such resource');
          }
      }
    }
  }
  return dangling;
};

/** Every `var.*`, `local.*` name referred to anywhere in the module. */
export const usedNames = async (mod: TfModule): Promise<{ variables: Set<string>; locals: Set<string> }> => {
  const variables = new Set<string>();
  const locals = new Set<string>();
  // A variable's own validation refers to it; that is not a use.
  for (const { where, body } of blocksOf(mod).filter((b) => !b.where.startsWith('variable '))) {
    for (const { reference } of await referencesOf(where, body)) {
      const [head, name = ''] = reference.split('.');
      if (head === 'var') {
        variables.add(name);
      } else if (head === 'local') {
        locals.add(name);
      }
    }
  }
  return { variables, locals };
};

/** The single body of a block list, failing clearly when there is not exactly one. */
export const only = (value: unknown, what: string): Body => {
  const bodies = bodiesOf(value);
  if (bodies.length !== 1 || bodies[0] === undefined) {
    throw new Error(`expected exactly one ${what}, found ${bodies.length}`);
  }
  return bodies[0];
};
