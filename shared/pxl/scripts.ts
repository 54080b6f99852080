/**
 * The PxL scripts of `pxl-scripts/`: loads one, finds the bpftrace program it deploys with
 * `pxtrace.UpsertTracepoint` and the table that program fills. Pure parsing over text supplied by
 * an injected reader, so the same code serves bundled functions (text embedded at build time) and
 * the local tools (text read from the repository).
 *
 * Scripts live as `pxl-scripts/<name>/<name>.pxl` with `pxl-scripts/<name>/vis.json` beside them
 * (the layout of Pixie's own script folders, so `px live` can load the folder).
 *
 * @module
 */
import { type ProgramOutput, programOutput } from './bpftrace-program.ts';

/** The scripts this project ships. */
export const SCRIPT_NAMES = ['cpu_throttle', 'pod_birth', 'pod_birth_lite'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/**
 * The birth scripts: `pod_birth_lite` is the always-on probe (no program on every write or every
 * syscall of the node); `pod_birth` adds cgroup limit writes and the runtime's syscall count at a
 * cost on every syscall (docs/benchmarks.md).
 */
export const BIRTH_SCRIPT_NAMES = ['pod_birth_lite', 'pod_birth'] as const satisfies readonly ScriptName[];
export type BirthScriptName = (typeof BIRTH_SCRIPT_NAMES)[number];

export const isBirthScriptName = (name: string): name is BirthScriptName => (BIRTH_SCRIPT_NAMES as readonly string[]).includes(name);

/** Reads a file of `pxl-scripts/` by its path relative to that folder. */
export type ScriptReader = (relativePath: string) => Promise<string>;

export interface Tracepoint {
  /** Tracepoint name (re-upserting the same name with the same program refreshes the TTL). */
  readonly name: string;
  readonly table: string;
  /** Duration string as Pixie reads it, e.g. `30m`. */
  readonly ttl: string;
  /** Pixie target expression, e.g. `pxtrace.kprobe()`. */
  readonly target: string;
}

export interface PxlScript {
  readonly name: ScriptName;
  /** The PxL text, unchanged. */
  readonly source: string;
  /** The live view spec. */
  readonly vis: unknown;
  readonly tracepoint: Tracepoint;
  /**
   * The bpftrace program exactly as the script deploys it (string escapes decoded); for a script
   * with kernel variants, the one for the newest kernels (no max_kernel), which the lab runs.
   */
  readonly program: string;
  /**
   * Every program the script deploys with its `pxtrace.TraceProgram` selectors (one without
   * selectors for a plain program). Pixie sends each to the nodes that match all its selectors.
   */
  readonly variants: readonly { readonly program: string; readonly selectors: readonly { readonly type: string; readonly value: string }[] }[];
  readonly output: ProgramOutput;
  /** The name of the script function that takes the arguments (windows, filters). */
  readonly entryFunction: string;
  /** The entry function's arguments with their PxL types, in order. */
  readonly parameters: readonly { readonly name: string; readonly type: string }[];
}

/** A script that does not have the shape this module expects. */
export class PxlScriptError extends Error {
  override readonly name = 'PxlScriptError';
}

const STRING = String.raw`(?:'([^'\\\n]*)'|"([^"\\\n]*)")`;
const UPSERT = new RegExp(
  String.raw`pxtrace\.UpsertTracepoint\(\s*(\w+|${STRING})\s*,\s*(\w+|${STRING})\s*,\s*(\w+|\[[^\]]*\])\s*,\s*(pxtrace\.kprobe\(\))\s*,\s*(\w+|${STRING})\s*\)`,
);

/** `pxtrace.TraceProgram(<program constant>, selector='value', ...)` inside a list. */
const TRACE_PROGRAM = new RegExp(String.raw`pxtrace\.TraceProgram\(\s*(\w+)\s*((?:,\s*\w+\s*=\s*${STRING}\s*)*),?\s*\)`, 'g');
const SELECTOR = new RegExp(String.raw`(\w+)\s*=\s*${STRING}`, 'g');
const SELECTOR_NAMES = ['min_kernel', 'max_kernel', 'host_name'];

/** The programs of UpsertTracepoint's probe_fn: a program constant, or a list of TraceProgram calls. */
const variantsOf = (name: string, probeFn: string, programs: ReadonlyMap<string, string>): PxlScript['variants'] => {
  const program = (constant: string): string => {
    const text = programs.get(constant);
    if (text === undefined) {
      throw new PxlScriptError(`${name}: program ${constant} is not a module-level triple-quoted string`);
    }
    return text;
  };
  if (!probeFn.startsWith('[')) {
    return [{ program: program(probeFn), selectors: [] }];
  }
  const variants: { program: string; selectors: { type: string; value: string }[] }[] = [];
  const rest = probeFn.replace(TRACE_PROGRAM, (_m, constant: string, args: string) => {
    const selectors = [...args.matchAll(SELECTOR)].map((m) => ({ type: m[1] ?? '', value: m[2] ?? m[3] ?? '' }));
    const bad = selectors.find((sel) => !SELECTOR_NAMES.includes(sel.type) || sel.value === '');
    if (bad !== undefined) {
      throw new PxlScriptError(`${name}: TraceProgram selector ${bad.type}='${bad.value}' is not one of ${SELECTOR_NAMES.join(', ')} with a value`);
    }
    variants.push({ program: program(constant), selectors });
    return '';
  });
  if (!/^\[[\s,]*\]$/.test(rest) || variants.length === 0) {
    throw new PxlScriptError(`${name}: UpsertTracepoint's program list must hold only pxtrace.TraceProgram(<program constant>, selector='value', ...) calls`);
  }
  return variants;
};

/** Decodes the escapes a Python string literal may hold; rejects ones this project never writes. */
const decodePythonString = (raw: string): string =>
  raw.replace(/\\(.)/gs, (_match, ch: string) => {
    switch (ch) {
      case '\\':
        return '\\';
      case '"':
        return '"';
      case "'":
        return "'";
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case '\n':
        return '';
      default:
        throw new PxlScriptError(`unsupported escape \\${ch} in a PxL string`);
    }
  });

/** Module-level `name = """..."""` (or `'''`) assignments of a script. */
const tripleQuotedConstants = (source: string): Map<string, string> => {
  const out = new Map<string, string>();
  const assignment = /^(\w+)\s*=\s*("""|''')([\s\S]*?)\2/gm;
  for (let match = assignment.exec(source); match !== null; match = assignment.exec(source)) {
    out.set(match[1] ?? '', decodePythonString(match[3] ?? ''));
  }
  return out;
};

/** Module-level `name = 'text'` assignments of a script. */
const stringConstants = (source: string): Map<string, string> => {
  const out = new Map<string, string>();
  const assignment = new RegExp(String.raw`^(\w+)\s*=\s*${STRING}\s*$`, 'gm');
  for (let match = assignment.exec(source); match !== null; match = assignment.exec(source)) {
    out.set(match[1] ?? '', match[2] ?? match[3] ?? '');
  }
  return out;
};

const resolveString = (token: string, constants: Map<string, string>, what: string): string => {
  const literal = new RegExp(`^${STRING}$`).exec(token);
  if (literal !== null) {
    return literal[1] ?? literal[2] ?? '';
  }
  const value = constants.get(token);
  if (value === undefined) {
    throw new PxlScriptError(`${what} ${token} is not a module-level string constant`);
  }
  return value;
};

/** The function that calls UpsertTracepoint, with its typed parameters. */
const entryFunctionOf = (source: string, upsertIndex: number): Pick<PxlScript, 'entryFunction' | 'parameters'> => {
  const defs = [...source.slice(0, upsertIndex).matchAll(/^def\s+(\w+)\s*\(([^)]*)\)\s*:/gm)];
  const def = defs.at(-1);
  if (def === undefined) {
    throw new PxlScriptError('UpsertTracepoint must be called inside a function that takes the script arguments');
  }
  const parameters = (def[2] ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const typed = /^(\w+)\s*:\s*([\w.]+)$/.exec(part);
      if (typed === null) {
        throw new PxlScriptError(`argument "${part}" of ${def[1] ?? ''} needs a type`);
      }
      return { name: typed[1] ?? '', type: typed[2] ?? '' };
    });
  return { entryFunction: def[1] ?? '', parameters };
};

/**
 * Parses a script's text (and its vis.json text). Throws {@link PxlScriptError} or
 * BpftraceProgramError with the reason when the script breaks a rule.
 */
export const parseScript = (name: ScriptName, source: string, visText: string): PxlScript => {
  const upserts = source.match(/pxtrace\.UpsertTracepoint\(/g) ?? [];
  if (upserts.length !== 1) {
    throw new PxlScriptError(`${name}: expected one pxtrace.UpsertTracepoint call, found ${upserts.length}`);
  }
  if (!/^import pxtrace$/m.test(source)) {
    throw new PxlScriptError(`${name}: a mutation script needs a line "import pxtrace" (clients detect mutations by it)`);
  }
  const call = UPSERT.exec(source);
  if (call === null) {
    throw new PxlScriptError(
      `${name}: UpsertTracepoint must read (name, table, program_constant, pxtrace.kprobe(), ttl) with string literals or constants`,
    );
  }
  const constants = stringConstants(source);
  const variants = variantsOf(name, call[7] ?? '', tripleQuotedConstants(source));
  const newest = variants.find((v) => !v.selectors.some((sel) => sel.type === 'max_kernel')) ?? variants[0];
  const program = newest?.program ?? '';
  const output = programOutput(program);
  for (const variant of variants) {
    if (programOutput(variant.program).format !== output.format) {
      throw new PxlScriptError(`${name}: every kernel variant must print the same format (one table schema)`);
    }
  }
  const ttl = resolveString(call[9] ?? '', constants, 'ttl');
  if (!/^-?\d+(ms|m|s|h|d)$/.test(ttl)) {
    throw new PxlScriptError(`${name}: ttl "${ttl}" is not a Pixie duration`);
  }
  let vis: unknown;
  try {
    vis = JSON.parse(visText) as unknown;
  } catch (error) {
    throw new PxlScriptError(`${name}: vis.json is not JSON`, { cause: error });
  }
  return {
    name,
    source,
    vis,
    tracepoint: {
      name: resolveString(call[1] ?? '', constants, 'tracepoint name'),
      table: resolveString(call[4] ?? '', constants, 'table name'),
      ttl,
      target: call[8] ?? '',
    },
    program,
    variants,
    output,
    ...entryFunctionOf(source, call.index),
  };
};

/** Loads and parses one shipped script through `read`. */
export const loadScript = async (name: ScriptName, read: ScriptReader): Promise<PxlScript> => {
  const [source, visText] = await Promise.all([read(`${name}/${name}.pxl`), read(`${name}/vis.json`)]);
  return parseScript(name, source, visText);
};
