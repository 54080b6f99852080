/**
 * `pxtrace.TraceProgram` and the `probe_fn` argument of `pxtrace.UpsertTracepoint`, by Pixie's
 * planner (44d42f1 src/carnot/planner/probes/tracing_module.cc):
 * - `TraceProgram(program, **selectors)`: every keyword but `program` names a selector type
 *   (`min_kernel`, `max_kernel`, `host_name`; the enum name upper-cased, :367-393); anything else
 *   is "Unsupported selector argument provided '<name>'" and an empty value "Empty selector value
 *   provided for '<name>'";
 * - `probe_fn` is a program string (no selectors), one TraceProgram, or a list of them; a list item
 *   that is not a TraceProgram is "Expected TraceProgram, got <name>" (:465-500).
 * Which agents get which program is the metadata service's (../kernel-selectors.ts).
 *
 * @module
 */
import { SELECTOR_TYPES, type SelectorType, type TraceSelector } from '../kernel-selectors.ts';

export interface TraceProgramValue {
  readonly t: 'traceprogram';
  readonly program: string;
  readonly selectors: readonly TraceSelector[];
}

export const isTraceProgram = (v: unknown): v is TraceProgramValue => typeof v === 'object' && v !== null && (v as { t?: unknown }).t === 'traceprogram';

/** Builds a TraceProgram from its bound keyword arguments; returns an error text when Pixie would refuse it. */
export const traceProgram = (program: unknown, kwargs: ReadonlyMap<string, unknown>): TraceProgramValue | string => {
  if (typeof program !== 'string') {
    return 'pxtrace.TraceProgram: program must be a string';
  }
  const selectors: TraceSelector[] = [];
  for (const [name, value] of kwargs) {
    if (name === 'program') {
      continue;
    }
    if (!(SELECTOR_TYPES as readonly string[]).includes(name)) {
      return `Unsupported selector argument provided '${name}'`;
    }
    if (typeof value !== 'string') {
      return `pxtrace.TraceProgram: ${name} must be a string`;
    }
    if (value === '') {
      return `Empty selector value provided for '${name}'`;
    }
    selectors.push({ type: name as SelectorType, value });
  }
  return { t: 'traceprogram', program, selectors };
};

/** The programs of a `probe_fn` value with their selectors, or an error text. */
export const probeVariants = (probeFn: unknown): readonly { readonly program: string; readonly selectors: readonly TraceSelector[] }[] | string => {
  if (typeof probeFn === 'string') {
    return [{ program: probeFn, selectors: [] }];
  }
  if (isTraceProgram(probeFn)) {
    return [{ program: probeFn.program, selectors: probeFn.selectors }];
  }
  const list = probeFn as { t?: unknown; items?: unknown } | null;
  if (list !== null && typeof list === 'object' && (list.t === 'list' || list.t === 'tuple') && Array.isArray(list.items)) {
    const out: { program: string; selectors: readonly TraceSelector[] }[] = [];
    for (const item of list.items as unknown[]) {
      if (!isTraceProgram(item)) {
        return `Expected TraceProgram, got ${typeof item === 'string' ? 'str' : typeof item === 'object' && item !== null && 't' in item ? String(item.t) : typeof item}`;
      }
      out.push({ program: item.program, selectors: item.selectors });
    }
    return out.length === 0 ? 'probe_fn: an empty list of TraceProgram deploys nothing' : out;
  }
  return 'probe_fn: expected a bpftrace program string, a pxtrace.TraceProgram or a list of them (@pxtrace.probe functions are not supported by the local Vizier)';
};
