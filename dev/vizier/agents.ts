/**
 * The agents (one PEM per node) of one local cluster and what each reported about each tracepoint:
 * the rows of Pixie's `probe_status` table and of `px.GetAgentStatus()`, and the per-agent states
 * the metadata service aggregates into a tracepoint's state.
 *
 * The backend's own node (the host, or the replay node) is agent 1 and deploys for real (live) or
 * as the tracepoint registry says (dataset, replay); further nodes are simulated: each receives the
 * programs Pixie's selectors send it (kernel-selectors.ts) and runs them, or fails with the error
 * configured for it, and contributes no data rows.
 *
 * What Pixie records (44d42f1):
 * - a PEM appends one probe_status row when a deployment ends: status OK (0) with info
 *   `{"trace_id":..,"output_table":..}`, or INTERNAL (9) with the error text and info
 *   `{"trace_id":..}` (src/stirling/stirling.cc:929-950, the RETURN_ERROR macro at :483-490
 *   turns every deploy error into INTERNAL; rows as in stirling_error_bpf_test.cc:338-345, :403-410);
 *   "in progress" is not recorded (:642-646 sets it without a row); source_connector is
 *   `dynamic_bpftrace` for bpftrace programs (:610-611), tracepoint is the UpsertTracepoint name;
 *   upid is the PEM's own (stirling_error_connector.cc:69-72);
 * - an agent that receives two programs of one deployment fails: "Only one Tracepoint is currently
 *   supported." (stirling.cc:510-512);
 * - the tracepoint's state over agents: any TERMINATED -> TERMINATED, else any RUNNING -> RUNNING,
 *   else any PENDING or no agent -> PENDING, else FAILED (api-facts.md §5.4);
 * - GetAgentStatus columns (src/vizier/funcs/md_udtfs/md_udtfs_impl.h:287-305); with
 *   include_kelvin=False only data-collecting agents (PEMs) are listed (:337-338).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { makeUpid } from './pxl/backend.ts';
import type { Cell } from './pxl/frame.ts';
import { type KernelVersion, parseKernelRelease, programsFor, type TraceSelector } from './kernel-selectors.ts';
import type { SimulatedNode } from './faults.ts';
import { LIFE_CYCLE, type LifeCycleState } from './tracepoints.ts';

export interface TraceVariant {
  readonly program: string;
  readonly selectors: readonly TraceSelector[];
}

export interface AgentInfo {
  readonly asid: number;
  readonly id: string;
  readonly hostname: string;
  readonly release: string;
  readonly kernel: KernelVersion | undefined;
  readonly createdNs: bigint;
}

/** Pixie's status codes used in probe_status (src/common/base/statuspb/status.proto). */
export const STATUS_CODE = { OK: 0, INTERNAL: 9 } as const;

/** The PEM's own pid in probe_status upids (any fixed pid: it names the PEM process). */
const PEM_PID = 1;
/** The deploy error of an agent that receives two programs of one deployment (stirling.cc:510-512). */
export const ONE_PROGRAM_PER_AGENT = 'Only one Tracepoint is currently supported.';

interface AgentDeploy {
  state: LifeCycleState;
}

export class ClusterAgents {
  readonly host: AgentInfo;
  private readonly simulated: readonly (AgentInfo & { readonly probeErrors: Readonly<Record<string, string>> })[];
  private readonly rows: Record<string, Cell>[] = [];
  /** tracepoint id -> asid -> the state last recorded. */
  private readonly recorded = new Map<string, Map<number, AgentDeploy>>();
  private readonly nowNs: () => bigint;

  constructor(host: { readonly asid: number; readonly hostname: string; readonly release: string }, nodes: readonly SimulatedNode[], nowNs: () => bigint) {
    this.nowNs = nowNs;
    const created = nowNs();
    this.host = { ...host, id: randomUUID(), kernel: parseKernelRelease(host.release), createdNs: created };
    const names = new Set([host.hostname]);
    this.simulated = nodes.map((n, i) => {
      const errors = n.probeErrors ?? {};
      if (n.name === '') {
        throw new Error('a simulated node needs a name');
      }
      if (names.has(n.name)) {
        throw new Error(`simulated node ${n.name} is named like another node of the cluster`);
      }
      names.add(n.name);
      const release = n.kernel ?? host.release;
      return { asid: host.asid + 1 + i, id: randomUUID(), hostname: n.name, release, kernel: parseKernelRelease(release), createdNs: created, probeErrors: errors };
    });
  }

  /** Every agent (PEM), the backend's node first. */
  agents(): readonly AgentInfo[] {
    return [this.host, ...this.simulated];
  }

  /** The variant the backend's own node runs, or why it runs none (undefined: no variant selects it). */
  hostProgram(variants: readonly TraceVariant[]): { readonly program: string } | { readonly error: string } | undefined {
    return this.programOf(this.host, variants);
  }

  private programOf(agent: AgentInfo, variants: readonly TraceVariant[]): { readonly program: string } | { readonly error: string } | undefined {
    const picked = programsFor(variants, agent);
    if (picked.length === 0) {
      return undefined;
    }
    const first = variants[picked[0] ?? 0];
    return picked.length > 1 || first === undefined ? { error: ONE_PROGRAM_PER_AGENT } : { program: first.program };
  }

  /**
   * Records a deployment's per-agent outcome and returns the tracepoint's aggregated state. The
   * backend's node reports `hostState` (with `hostError` when FAILED); simulated nodes run what
   * their selectors give them, or fail with their configured error. A state is recorded in
   * probe_status once, when the agent's deployment ends (RUNNING or FAILED).
   */
  deploy(
    tracepoint: { readonly id: string; readonly name: string; readonly table: string; readonly variants: readonly TraceVariant[] },
    hostState: LifeCycleState | undefined,
    hostError: string,
  ): LifeCycleState {
    let byAgent = this.recorded.get(tracepoint.id);
    if (byAgent === undefined) {
      byAgent = new Map();
      this.recorded.set(tracepoint.id, byAgent);
    }
    const states: LifeCycleState[] = [];
    const note = (agent: AgentInfo, state: LifeCycleState, error: string): void => {
      states.push(state);
      const before = byAgent.get(agent.asid);
      if (before?.state === state) {
        return;
      }
      byAgent.set(agent.asid, { state });
      if (state === LIFE_CYCLE.RUNNING_STATE || state === LIFE_CYCLE.FAILED_STATE) {
        const ok = state === LIFE_CYCLE.RUNNING_STATE;
        this.rows.push({
          time_: this.nowNs(),
          upid: makeUpid(agent.asid, PEM_PID, agent.createdNs),
          source_connector: 'dynamic_bpftrace',
          tracepoint: tracepoint.name,
          status: BigInt(ok ? STATUS_CODE.OK : STATUS_CODE.INTERNAL),
          error: ok ? '' : error,
          info: JSON.stringify(ok ? { trace_id: tracepoint.id, output_table: tracepoint.table } : { trace_id: tracepoint.id }),
        });
      }
    };
    if (hostState !== undefined) {
      note(this.host, hostState, hostError);
    }
    for (const agent of this.simulated) {
      const got = this.programOf(agent, tracepoint.variants);
      if (got === undefined) {
        continue;
      }
      const error = 'error' in got ? got.error : agent.probeErrors[tracepoint.name];
      note(agent, error === undefined ? LIFE_CYCLE.RUNNING_STATE : LIFE_CYCLE.FAILED_STATE, error ?? '');
    }
    return aggregateState(states);
  }

  /** Rows of the `probe_status` table. */
  probeStatusRows(): readonly Readonly<Record<string, Cell>>[] {
    return this.rows;
  }

  /** Rows of `px.GetAgentStatus(include_kelvin)`: the PEMs, plus one Kelvin when asked. */
  agentStatusRows(includeKelvin: boolean): readonly Readonly<Record<string, Cell>>[] {
    const pems = this.agents().map((a) => agentRow(a.id, a.asid, a.hostname, a.createdNs, true));
    if (!includeKelvin) {
      return pems;
    }
    // The Kelvin runs on one of the nodes; its agent collects no data.
    return [...pems, agentRow(KELVIN_ID, 0, this.host.hostname, this.host.createdNs, false)];
  }
}

const KELVIN_ID = '00000000-0000-4000-8000-00000000000b';

const uuidBits = (id: string): bigint => BigInt(`0x${id.replace(/-/g, '')}`);

const agentRow = (id: string, asid: number, hostname: string, createdNs: bigint, pem: boolean): Record<string, Cell> => ({
  agent_id: uuidBits(id),
  asid: BigInt(asid),
  hostname,
  ip_address: pem ? `10.0.0.${asid}` : '10.0.0.254',
  agent_state: 'AGENT_STATE_HEALTHY',
  create_time: createdNs,
  last_heartbeat_ns: 1_000_000_000n,
  kernel_headers_installed: true,
});

/** The tracepoint's state over agents (api-facts.md §5.4). */
export const aggregateState = (states: readonly LifeCycleState[]): LifeCycleState => {
  if (states.includes(LIFE_CYCLE.TERMINATED_STATE)) {
    return LIFE_CYCLE.TERMINATED_STATE;
  }
  if (states.includes(LIFE_CYCLE.RUNNING_STATE)) {
    return LIFE_CYCLE.RUNNING_STATE;
  }
  if (states.length === 0 || states.includes(LIFE_CYCLE.PENDING_STATE)) {
    return LIFE_CYCLE.PENDING_STATE;
  }
  return LIFE_CYCLE.FAILED_STATE;
};
