/**
 * Which agents a `pxtrace.TraceProgram` goes to, by Pixie's rules (pure).
 *
 * Pixie 44d42f1, src/vizier/services/metadata/controllers/tracepoint/tracepoint.go:
 * - every program of a deployment goes to every agent that matches ALL its selectors (:296-312,
 *   :398-405); there is no "best variant" choice: variants must be written with disjoint selectors
 *   (the shipped tcp_drops script pairs max_kernel='5.18' with min_kernel='5.19');
 * - min_kernel keeps agents whose kernel is >= the value, max_kernel those <= it, comparing
 *   (version, major, minor) (:343-380); a value is `v`, `v.m` or `v.m.n` (missing parts are 0,
 *   so max_kernel='5.18' does NOT keep 5.18.3) (:324-341); an unparsable value keeps no agent;
 *   an agent without a known kernel is kept by no kernel selector;
 * - host_name keeps the agent whose hostname is exactly the value (:314-322).
 * The agent's kernel is `uname -r` read as `^(\d+)\.(\d+)\.(\d+)` with major and minor at most
 * 255 (src/common/system/kernel_version.cc:38-70).
 *
 * @module
 */

export interface KernelVersion {
  readonly version: number;
  readonly major: number;
  readonly minor: number;
}

export type SelectorType = 'min_kernel' | 'max_kernel' | 'host_name';
export const SELECTOR_TYPES: readonly SelectorType[] = ['min_kernel', 'max_kernel', 'host_name'];

export interface TraceSelector {
  readonly type: SelectorType;
  readonly value: string;
}

/** An agent as the selectors see it. */
export interface SelectableAgent {
  readonly hostname: string;
  readonly kernel: KernelVersion | undefined;
}

/** A node's `uname -r` as the PEM reads it, or undefined when it does not parse. */
export const parseKernelRelease = (release: string): KernelVersion | undefined => {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(release);
  if (m === null) {
    return undefined;
  }
  const [version, major, minor] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return version > 0xffff || major > 255 || minor > 255 ? undefined : { version, major, minor };
};

/** A selector value as the metadata service parses it (`v`, `v.m`, `v.m.n`), or undefined. */
export const parseSelectorVersion = (value: string): KernelVersion | undefined => {
  const parts = value.split('.');
  if (parts.length < 1 || parts.length > 3) {
    return undefined;
  }
  // Go's Sscanf("%d") reads a leading integer; a part that does not start with one is an error.
  const nums = parts.map((p) => /^[+-]?\d+/.exec(p)?.[0]);
  if (nums.some((n) => n === undefined)) {
    return undefined;
  }
  const [version = 0, major = 0, minor = 0] = nums.map(Number);
  return { version, major, minor };
};

const compare = (a: KernelVersion, b: KernelVersion): number => a.version - b.version || a.major - b.major || a.minor - b.minor;

const keeps = (agent: SelectableAgent, selector: TraceSelector): boolean => {
  if (selector.type === 'host_name') {
    return agent.hostname === selector.value;
  }
  const bound = parseSelectorVersion(selector.value);
  if (bound === undefined || agent.kernel === undefined) {
    return false;
  }
  return selector.type === 'min_kernel' ? compare(agent.kernel, bound) >= 0 : compare(agent.kernel, bound) <= 0;
};

/** Whether a program with these selectors is sent to `agent`. */
export const selectsAgent = (selectors: readonly TraceSelector[], agent: SelectableAgent): boolean => selectors.every((s) => keeps(agent, s));

/** The indexes of the programs an agent receives (Pixie sends each to every agent it selects). */
export const programsFor = (programs: readonly { readonly selectors: readonly TraceSelector[] }[], agent: SelectableAgent): number[] =>
  programs.flatMap((p, i) => (selectsAgent(p.selectors, agent) ? [i] : []));
