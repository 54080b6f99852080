/**
 * One mutation request's deployment across a local cluster's agents: the backend's node runs the
 * variant Pixie's selectors give it (for real in live mode, through the tracepoint registry in
 * dataset and replay), the simulated nodes theirs (agents.ts), and each tracepoint's state is the
 * aggregate over agents that the query broker sees.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { ClusterAgents } from './agents.ts';
import type { Backend } from './pxl/backend.ts';
import type { TracepointDecl } from './pxl/evaluate.ts';
import type { TracepointFaults } from './faults.ts';
import { LIFE_CYCLE, layoutRefusals, type LifeCycleState, type TracepointRegistry, type TracepointState } from './tracepoints.ts';

export interface Deployment {
  /** Per tracepoint, its state over all agents (what mutation_info reports). */
  readonly states: TracepointState[];
  /** The tracepoints as the backend's node runs them (`hostless` when it runs none of the variants). */
  readonly deployed: TracepointDecl[];
  /** Whether the output tables are in the schema (false only when every tracepoint is RUNNING but a table is not yet). */
  readonly schemaReady: boolean;
}

/** Why a FAILED tracepoint failed when only a fault says so. */
const FAULT_FAILED = 'deploy failed (fault injected by the local Vizier)';

/** Ids of tracepoints the backend's node does not run: same definition, same id (as the registry keeps them). */
const hostlessIds = new WeakMap<ClusterAgents, Map<string, { key: string; id: string }>>();

const hostlessId = (agents: ClusterAgents, tp: TracepointDecl): string => {
  let ids = hostlessIds.get(agents);
  if (ids === undefined) {
    ids = new Map();
    hostlessIds.set(agents, ids);
  }
  const key = `${tp.table}\u0000${JSON.stringify(tp.variants)}`;
  const known = ids.get(tp.name);
  if (known?.key === key) {
    return known.id;
  }
  const id = randomUUID();
  ids.set(tp.name, { key, id });
  return id;
};

export const deployAcrossAgents = async (input: {
  readonly tracepoints: readonly TracepointDecl[];
  readonly agents: ClusterAgents;
  readonly registry: TracepointRegistry;
  readonly faults: TracepointFaults;
  /** The live backend, which deploys real probes; absent = the registry simulates the node. */
  readonly live?: Pick<Backend, 'upsertTracepoints' | 'tracepointStatus'>;
  /** The backend's own record of programs' printf structs (a replay's), checked instead of compiling them here. */
  readonly printfLayouts?: Backend['printfLayouts'];
  readonly log?: (event: Record<string, unknown>) => void;
}): Promise<Deployment> => {
  const { agents } = input;
  const host = new Map<string, { readonly id?: string; readonly state: LifeCycleState; readonly error: string }>();
  const runs: TracepointDecl[] = [];
  for (const tp of input.tracepoints) {
    const pick = agents.hostProgram(tp.variants);
    if (pick === undefined) {
      continue;
    }
    if ('error' in pick) {
      host.set(tp.name, { state: LIFE_CYCLE.FAILED_STATE, error: pick.error });
    } else {
      runs.push({ ...tp, program: pick.program });
    }
  }
  if (input.live?.upsertTracepoints !== undefined) {
    const states = input.live.upsertTracepoints(runs);
    const status = input.live.tracepointStatus?.() ?? [];
    for (const s of states) {
      host.set(s.name, { id: s.id, state: s.state, error: status.find((t) => t.id === s.id)?.status ?? '' });
    }
  } else {
    const refused = await layoutRefusals(runs, input.printfLayouts);
    for (const [name, reason] of refused) {
      input.log?.({ event: 'tracepoint_refused', name, reason });
    }
    for (const s of input.registry.upsert(runs, input.faults, refused)) {
      host.set(s.name, { id: s.id, state: s.state, error: input.registry.failure(s.name) ?? (s.state === LIFE_CYCLE.FAILED_STATE ? FAULT_FAILED : '') });
    }
  }
  const states = input.tracepoints.map((tp): TracepointState => {
    const mine = host.get(tp.name);
    const id = mine?.id ?? hostlessId(agents, tp);
    const state = agents.deploy({ id, name: tp.name, table: tp.table, variants: tp.variants }, mine?.state, mine?.error ?? '');
    return { id, name: tp.name, state };
  });
  const deployed = input.tracepoints.map((tp) => runs.find((r) => r.name === tp.name) ?? { ...tp, hostless: true as const });
  // Live, a RUNNING probe's table is in the schema for real; otherwise the registry says (with its fault).
  const running = states.every((s) => s.state === LIFE_CYCLE.RUNNING_STATE);
  const schemaReady = !running || input.live?.upsertTracepoints !== undefined || input.registry.schemaReady(input.tracepoints.map((tp) => tp.table), input.faults);
  return { states, deployed, schemaReady };
};
