/**
 * Which nodes an observe run's kernel data covers (pure).
 *
 * Pixie reports a tracepoint RUNNING when it runs on ANY node (metadata/controllers/server.go:550,
 * api-facts.md §5.4); a node where its deployment failed, or that no program variant selects, just
 * has no rows. The per-node truth is Pixie's `probe_status` table: each PEM appends a row when a
 * deployment ends, status 0 (OK) or 9 (INTERNAL) with the error text (Pixie 44d42f1
 * src/stirling/stirling.cc:929-950). Every script has two coverage functions the observe request
 * calls beside its data: `kg_nodes()` (px.GetAgentStatus, one PEM per node) and
 * `kg_probe_status()` (the probe_status rows of its tracepoint, with the PEM's asid). A node is
 * covered when its latest status row is OK and its agent is healthy; every other node is listed
 * with why.
 *
 * @module
 */
import type { ProbeCoverage } from '../findings/types.ts';
import type { CollectedTable } from '../pixie/collect.ts';
import { DataType } from '../pixie/types.ts';
import { typedColumn } from './throttle-table.ts';

/** The script functions that report coverage (pxl-scripts/*: defined in every script). */
export const COVERAGE_FUNCTIONS = { nodes: 'kg_nodes', status: 'kg_probe_status' } as const;

/** Pixie's status codes (src/common/base/statuspb/status.proto) that probe_status rows carry. */
const STATUS_NAMES: Readonly<Record<number, string>> = { 0: 'OK', 3: 'INVALID_ARGUMENT', 5: 'NOT_FOUND', 9: 'INTERNAL', 11: 'RESOURCE_UNAVAILABLE', 13: 'FAILED_PRECONDITION' };

const HEALTHY = 'AGENT_STATE_HEALTHY';

/** Why a node without any probe_status row for the tracepoint has none. */
export const NO_STATUS_REASON =
  'no probe status from this node: no program variant selects its kernel, or its Pixie agent has not finished deploying the probe';

interface StatusRow {
  readonly timeNs: bigint;
  readonly status: number;
  readonly error: string;
}

/** Coverage from the two coverage tables of one request. */
export const probeCoverage = (nodes: CollectedTable, statuses: CollectedTable): ProbeCoverage => {
  const asidOf = typedColumn(nodes, 'asid', [DataType.INT64]) as unknown as { number(row: number): number };
  const hostOf = typedColumn(nodes, 'hostname', [DataType.STRING]) as unknown as { get(row: number): string };
  const stateOf = typedColumn(nodes, 'agent_state', [DataType.STRING]) as unknown as { get(row: number): string };
  const time = typedColumn(statuses, 'time_', [DataType.TIME64NS]) as unknown as { get(row: number): bigint };
  const asid = typedColumn(statuses, 'asid', [DataType.INT64]) as unknown as { number(row: number): number };
  const status = typedColumn(statuses, 'status', [DataType.INT64]) as unknown as { number(row: number): number };
  const error = typedColumn(statuses, 'error', [DataType.STRING]) as unknown as { get(row: number): string };
  // The latest row per PEM decides (a redeploy after a failure, or a removal, appends a newer one).
  const latest = new Map<number, StatusRow>();
  for (let row = 0; row < statuses.rows; row += 1) {
    const candidate = { timeNs: time.get(row), status: status.number(row), error: error.get(row) };
    const known = latest.get(asid.number(row));
    if (known === undefined || candidate.timeNs >= known.timeNs) {
      latest.set(asid.number(row), candidate);
    }
  }
  const lacking: { node: string; reason: string }[] = [];
  let covered = 0;
  for (let row = 0; row < nodes.rows; row += 1) {
    const node = hostOf.get(row);
    const state = stateOf.get(row);
    const last = latest.get(asidOf.number(row));
    if (state !== HEALTHY) {
      lacking.push({ node, reason: `Pixie agent is ${state}` });
    } else if (last === undefined) {
      lacking.push({ node, reason: NO_STATUS_REASON });
    } else if (last.status !== 0) {
      lacking.push({ node, reason: `${STATUS_NAMES[last.status] ?? `status ${last.status}`}: ${last.error.trim()}` });
    } else {
      covered += 1;
    }
  }
  lacking.sort((a, b) => a.node.localeCompare(b.node));
  return { nodesTotal: nodes.rows, nodesCovered: covered, lacking };
};

/** One line for logs and summaries: `2 of 3 nodes (lacking: node-b)`. */
export const describeCoverage = (coverage: ProbeCoverage): string =>
  coverage.lacking.length === 0
    ? `all ${coverage.nodesTotal} nodes`
    : `${coverage.nodesCovered} of ${coverage.nodesTotal} nodes (lacking: ${coverage.lacking.map((l) => l.node).join(', ')})`;

/**
 * The findings of a run, each carrying the run's coverage; a summary of a partial cluster says so,
 * so no reader takes it for the whole.
 */
export const withCoverage = <F extends { readonly summary: string }>(findings: readonly F[], coverage: ProbeCoverage): F[] =>
  findings.map((f) => ({
    ...f,
    coverage,
    summary: coverage.lacking.length === 0 ? f.summary : `${f.summary} [kernel data from ${describeCoverage(coverage)}]`,
  }));
