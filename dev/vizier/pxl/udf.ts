/**
 * The `px.*` scalar functions and aggregates the evaluator implements, with the semantics Pixie
 * documents (pxl-functions.txt). A name in Pixie's list but not here is reported by the evaluator as
 * valid-but-unsupported PxL. Metadata functions answer from a {@link Metadata} registry.
 *
 * @module
 */
import type { DataTypeName } from '../dataset.ts';
import type { Cell } from './frame.ts';

/** What the local Vizier knows about a pod. */
export interface PodInfo {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly owners: readonly { readonly kind: string; readonly name: string; readonly uid: string }[];
  /** The owning Deployment's name (a ReplicaSet `<deployment>-<hash>` implies one), or ''. */
  readonly deployment: string;
  readonly startTimeNs: bigint;
}

/** What the local Vizier knows about a process, keyed by UPID. */
export interface ProcessInfo {
  readonly pid: number;
  readonly podUid: string;
  readonly containerId: string;
  readonly containerName: string;
  readonly cmdline: string;
}

/** The metadata registry the metadata functions and `df.ctx[...]` read. */
export interface Metadata {
  readonly asid: number;
  readonly hostname: string;
  pod(uid: string): PodInfo | undefined;
  process(upid: bigint): ProcessInfo | undefined;
}

export interface ScalarFn {
  readonly arity: number;
  readonly argTypes: readonly (DataTypeName | 'ANY')[];
  /** The result type, given the argument types. */
  readonly out: (types: readonly DataTypeName[]) => DataTypeName;
  readonly fn: (args: readonly Cell[], md: Metadata) => Cell;
}

const s = (v: Cell | undefined): string => (typeof v === 'string' ? v : '');
const i = (v: Cell | undefined): bigint => (typeof v === 'bigint' ? v : 0n);

/** RE2 patterns used by the scripts are also valid JS patterns; compiled once per pattern. */
const regexCache = new Map<string, RegExp>();
const regex = (pattern: string, flags: string): RegExp => {
  const key = `${flags}/${pattern}`;
  let re = regexCache.get(key);
  if (re === undefined) {
    re = new RegExp(pattern, flags);
    regexCache.set(key, re);
  }
  return re;
};

const fixed = (type: DataTypeName) => (): DataTypeName => type;
const pod = (md: Metadata, uid: Cell | undefined): PodInfo | undefined => md.pod(s(uid));
const upidPod = (md: Metadata, upid: Cell | undefined): PodInfo | undefined => {
  const p = md.process(i(upid));
  return p === undefined ? undefined : md.pod(p.podUid);
};
const qualified = (p: PodInfo | undefined, name: string | undefined): string => (p === undefined || name === undefined || name === '' ? '' : `${p.namespace}/${name}`);
const ownersJson = (p: PodInfo | undefined): string =>
  p === undefined ? '' : JSON.stringify(p.owners.map((o) => ({ kind: o.kind, name: o.name, uid: o.uid })));

/** Scalar UDFs by their `px.` name. */
export const SCALAR_FNS: Readonly<Record<string, ScalarFn>> = {
  // Replace all matches of pattern (arg1) in arg2 with arg3.
  replace: { arity: 3, argTypes: ['STRING', 'STRING', 'STRING'], out: fixed('STRING'), fn: (a) => s(a[1]).replace(regex(s(a[0]), 'g'), () => s(a[2])) },
  // (string, pos, length)
  substring: {
    arity: 3,
    argTypes: ['STRING', 'INT64', 'INT64'],
    out: fixed('STRING'),
    fn: (a) => {
      const text = s(a[0]);
      const pos = Number(i(a[1]));
      const len = Number(i(a[2]));
      return pos < 0 || pos > text.length || len < 0 ? '' : text.slice(pos, pos + len);
    },
  },
  contains: { arity: 2, argTypes: ['STRING', 'STRING'], out: fixed('BOOLEAN'), fn: (a) => s(a[0]).includes(s(a[1])) },
  // Full match of pattern (arg1) against arg2, as RE2::FullMatch.
  regex_match: { arity: 2, argTypes: ['STRING', 'STRING'], out: fixed('BOOLEAN'), fn: (a) => regex(`^(?:${s(a[0])})$`, '').test(s(a[1])) },
  find: { arity: 2, argTypes: ['STRING', 'STRING'], out: fixed('INT64'), fn: (a) => BigInt(s(a[0]).indexOf(s(a[1]))) },
  length: { arity: 1, argTypes: ['STRING'], out: fixed('INT64'), fn: (a) => BigInt(Buffer.byteLength(s(a[0]))) },
  tolower: { arity: 1, argTypes: ['STRING'], out: fixed('STRING'), fn: (a) => s(a[0]).toLowerCase() },
  toupper: { arity: 1, argTypes: ['STRING'], out: fixed('STRING'), fn: (a) => s(a[0]).toUpperCase() },
  trim: { arity: 1, argTypes: ['STRING'], out: fixed('STRING'), fn: (a) => s(a[0]).trim() },
  select: { arity: 3, argTypes: ['BOOLEAN', 'ANY', 'ANY'], out: (t) => t[1] ?? 'STRING', fn: (a) => (a[0] === true ? (a[1] as Cell) : (a[2] as Cell)) },
  asid: { arity: 0, argTypes: [], out: fixed('INT64'), fn: (_a, md) => BigInt(md.asid) },
  _exec_hostname: { arity: 0, argTypes: [], out: fixed('STRING'), fn: (_a, md) => md.hostname },
  upid_to_pid: { arity: 1, argTypes: ['UINT128'], out: fixed('INT64'), fn: (a) => (i(a[0]) >> 64n) & 0xffffffffn },
  upid_to_asid: { arity: 1, argTypes: ['UINT128'], out: fixed('INT64'), fn: (a) => i(a[0]) >> 96n },
  upid_to_start_ts: { arity: 1, argTypes: ['UINT128'], out: fixed('INT64'), fn: (a) => i(a[0]) & 0xffffffffffffffffn },
  upid_to_string: {
    arity: 1,
    argTypes: ['UINT128'],
    out: fixed('STRING'),
    fn: (a) => `${i(a[0]) >> 96n}:${(i(a[0]) >> 64n) & 0xffffffffn}:${i(a[0]) & 0xffffffffffffffffn}`,
  },
  upid_to_pod_id: { arity: 1, argTypes: ['UINT128'], out: fixed('STRING'), fn: (a, md) => upidPod(md, a[0])?.uid ?? '' },
  upid_to_pod_name: { arity: 1, argTypes: ['UINT128'], out: fixed('STRING'), fn: (a, md) => { const p = upidPod(md, a[0]); return qualified(p, p?.name); } },
  upid_to_namespace: { arity: 1, argTypes: ['UINT128'], out: fixed('STRING'), fn: (a, md) => upidPod(md, a[0])?.namespace ?? '' },
  upid_to_node_name: { arity: 1, argTypes: ['UINT128'], out: fixed('STRING'), fn: (a, md) => upidPod(md, a[0])?.node ?? '' },
  upid_to_container_id: { arity: 1, argTypes: ['UINT128'], out: fixed('STRING'), fn: (a, md) => md.process(i(a[0]))?.containerId ?? '' },
  upid_to_container_name: { arity: 1, argTypes: ['UINT128'], out: fixed('STRING'), fn: (a, md) => md.process(i(a[0]))?.containerName ?? '' },
  upid_to_cmdline: { arity: 1, argTypes: ['UINT128'], out: fixed('STRING'), fn: (a, md) => md.process(i(a[0]))?.cmdline ?? '' },
  upid_to_deployment_name: { arity: 1, argTypes: ['UINT128'], out: fixed('STRING'), fn: (a, md) => { const p = upidPod(md, a[0]); return qualified(p, p?.deployment); } },
  pod_id_to_pod_name: { arity: 1, argTypes: ['STRING'], out: fixed('STRING'), fn: (a, md) => { const p = pod(md, a[0]); return qualified(p, p?.name); } },
  pod_id_to_namespace: { arity: 1, argTypes: ['STRING'], out: fixed('STRING'), fn: (a, md) => pod(md, a[0])?.namespace ?? '' },
  pod_id_to_node_name: { arity: 1, argTypes: ['STRING'], out: fixed('STRING'), fn: (a, md) => pod(md, a[0])?.node ?? '' },
  pod_id_to_owner_references: { arity: 1, argTypes: ['STRING'], out: fixed('STRING'), fn: (a, md) => ownersJson(pod(md, a[0])) },
  pod_id_to_deployment_name: { arity: 1, argTypes: ['STRING'], out: fixed('STRING'), fn: (a, md) => { const p = pod(md, a[0]); return qualified(p, p?.deployment); } },
  pod_id_to_start_time: { arity: 1, argTypes: ['STRING'], out: fixed('TIME64NS'), fn: (a, md) => pod(md, a[0])?.startTimeNs ?? 0n },
  pod_name_to_namespace: { arity: 1, argTypes: ['STRING'], out: fixed('STRING'), fn: (a) => (s(a[0]).includes('/') ? s(a[0]).split('/')[0] ?? '' : '') },
};

/** Context keys of `df.ctx[...]` the evaluator answers from the UPID column. */
export const CTX_KEYS: Readonly<Record<string, string>> = {
  container_id: 'upid_to_container_id',
  container: 'upid_to_container_name',
  container_name: 'upid_to_container_name',
  pod_id: 'upid_to_pod_id',
  pod: 'upid_to_pod_name',
  pod_name: 'upid_to_pod_name',
  namespace: 'upid_to_namespace',
  node: 'upid_to_node_name',
  node_name: 'upid_to_node_name',
  deployment: 'upid_to_deployment_name',
  deployment_name: 'upid_to_deployment_name',
  cmd: 'upid_to_cmdline',
  cmdline: 'upid_to_cmdline',
  pid: 'upid_to_pid',
  asid: 'upid_to_asid',
};

export const AGGREGATES = ['min', 'max', 'count', 'sum', 'mean', 'any'] as const;
export type AggregateName = (typeof AGGREGATES)[number];

/** The output type of an aggregate over a column of `type`, or an error text (any other string). */
export const aggregateType = (agg: AggregateName, type: DataTypeName): string => {
  switch (agg) {
    case 'count':
      return 'INT64';
    case 'mean':
      return type === 'INT64' || type === 'FLOAT64' || type === 'TIME64NS' ? 'FLOAT64' : `px.mean does not take ${type}`;
    case 'sum':
      return type === 'INT64' || type === 'FLOAT64' || type === 'BOOLEAN' ? (type === 'FLOAT64' ? 'FLOAT64' : 'INT64') : `px.sum does not take ${type}`;
    case 'min':
    case 'max':
      return type === 'STRING' || type === 'UINT128' ? `px.${agg} does not take ${type}` : type;
    case 'any':
      return type;
  }
};

/** Applies an aggregate to one group's values (never empty). */
export const aggregate = (agg: AggregateName, values: readonly Cell[]): Cell => {
  const first = values[0] as Cell;
  switch (agg) {
    case 'count':
      return BigInt(values.length);
    case 'any':
      return first;
    case 'min':
      return values.reduce((a, b) => (b < a ? b : a));
    case 'max':
      return values.reduce((a, b) => (b > a ? b : a));
    case 'sum':
      if (typeof first === 'number') {
        return values.reduce<number>((a, b) => a + (b as number), 0);
      }
      return values.reduce<bigint>((a, b) => a + (typeof b === 'boolean' ? (b ? 1n : 0n) : (b as bigint)), 0n);
    case 'mean':
      return values.reduce<number>((a, b) => a + Number(b), 0) / values.length;
  }
};
