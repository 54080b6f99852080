import { describe, expect, it } from 'vitest';
import { decodeFinding, encodeFinding } from '../../../shared/findings/codec.ts';
import type { ThrottleFinding } from '../../../shared/findings/types.ts';
import { describeCoverage, NO_STATUS_REASON, probeCoverage, withCoverage } from '../../../shared/observe/coverage.ts';
import { TableShapeError } from '../../../shared/observe/throttle-table.ts';
import { collectedTable } from '../../support/pixie-table.ts';

const nodes = async (rows: readonly [number, string, string][]) =>
  collectedTable('nodes', {
    asid: { type: 'int', values: rows.map((r) => r[0]) },
    hostname: { type: 'string', values: rows.map((r) => r[1]) },
    agent_state: { type: 'string', values: rows.map((r) => r[2]) },
  });

const statuses = async (rows: readonly [number, number, number, string][]) =>
  collectedTable('status', {
    time_: { type: 'time', values: rows.map((r) => r[0]) },
    asid: { type: 'int', values: rows.map((r) => r[1]) },
    status: { type: 'int', values: rows.map((r) => r[2]) },
    error: { type: 'string', values: rows.map((r) => r[3]) },
    info: { type: 'string', values: rows.map(() => '{}') },
  });

describe('probe coverage per node', () => {
  it('counts a node covered when its latest probe_status row is OK, and lists the others with Pixie\'s reason', async () => {
    const coverage = probeCoverage(
      await nodes([
        [1, 'node-a', 'AGENT_STATE_HEALTHY'],
        [2, 'node-b', 'AGENT_STATE_HEALTHY'],
        [3, 'node-c', 'AGENT_STATE_HEALTHY'],
        [4, 'node-d', 'AGENT_STATE_UNRESPONSIVE'],
        [5, 'node-e', 'AGENT_STATE_HEALTHY'],
      ]),
      await statuses([
        [10, 1, 0, ''],
        // A failure, then a successful redeploy: the latest row decides.
        [10, 2, 9, 'Could not compile bpftrace script, Semantic pass failed: boom\n'],
        [20, 2, 0, ''],
        // A success, then removal in progress.
        [10, 5, 0, ''],
        [30, 5, 11, 'Probe removal in progress.'],
        [10, 4, 0, ''],
      ]),
    );
    expect(coverage).toEqual({
      nodesTotal: 5,
      nodesCovered: 2,
      lacking: [
        { node: 'node-c', reason: NO_STATUS_REASON },
        { node: 'node-d', reason: 'Pixie agent is AGENT_STATE_UNRESPONSIVE' },
        { node: 'node-e', reason: 'RESOURCE_UNAVAILABLE: Probe removal in progress.' },
      ],
    });
    expect(describeCoverage(coverage)).toBe('2 of 5 nodes (lacking: node-c, node-d, node-e)');
  });

  it('refuses coverage tables of another shape, naming the column', async () => {
    const bad = await collectedTable('nodes', { asid: { type: 'int', values: [1] } });
    expect(() => probeCoverage(bad, bad)).toThrow(TableShapeError);
  });

  it('puts coverage on findings through the Avro schema, and says so in the summary of a partial cluster', () => {
    const coverage = { nodesTotal: 2, nodesCovered: 1, lacking: [{ node: 'node-b', reason: 'INTERNAL: no BTF' }] };
    const finding = {
      schemaVersion: '1', kind: 'cpu.throttle', id: 'a'.repeat(64), cluster: 'c', namespace: 'n', workload: { kind: 'Deployment', name: 'w', container: 'app' },
      observedWindow: { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:05:00Z', seconds: 300 }, severity: 'warning', source: 'pixie',
      producedAt: '2026-01-01T00:05:01Z', summary: 'w is throttled',
      throttle: { verdict: 'metrics-lie', reason: 'r', throttledRatio: 0.5, throttledSecondsPerSecond: 0.1, limitMillicores: 100, consecutiveWindows: 1, actionRecommended: false, pods: [], thresholds: [] },
    } as const satisfies ThrottleFinding;
    const [covered] = withCoverage([finding], coverage);
    expect(covered?.summary).toBe('w is throttled [kernel data from 1 of 2 nodes (lacking: node-b)]');
    expect(decodeFinding(encodeFinding(covered!))).toEqual(covered);
    expect(withCoverage([finding], { nodesTotal: 2, nodesCovered: 2, lacking: [] })[0]?.summary).toBe('w is throttled');
    // A message of before coverage (no field) still reads.
    expect(decodeFinding(encodeFinding(finding))).toEqual(finding);
  });
});
