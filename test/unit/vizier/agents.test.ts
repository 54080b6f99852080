import { describe, expect, it } from 'vitest';
import { aggregateState, ClusterAgents, ONE_PROGRAM_PER_AGENT } from '../../../dev/vizier/agents.ts';
import { LIFE_CYCLE } from '../../../dev/vizier/tracepoints.ts';

const { PENDING_STATE: PENDING, RUNNING_STATE: RUNNING, FAILED_STATE: FAILED, TERMINATED_STATE: TERMINATED } = LIFE_CYCLE;

describe('a local cluster\'s agents', () => {
  it('aggregates per-agent states as Pixie\'s metadata service does (api-facts.md §5.4)', () => {
    expect(aggregateState([FAILED, RUNNING])).toBe(RUNNING);
    expect(aggregateState([FAILED, PENDING])).toBe(PENDING);
    expect(aggregateState([FAILED, FAILED])).toBe(FAILED);
    expect(aggregateState([RUNNING, TERMINATED])).toBe(TERMINATED);
    expect(aggregateState([])).toBe(PENDING);
  });

  it('records one probe_status row per agent when its deployment ends: OK with the table, INTERNAL with the error', () => {
    let now = 100n;
    const agents = new ClusterAgents({ asid: 1, hostname: 'host', release: '6.1.0' }, [
      { name: 'old', kernel: '5.10.0', probeErrors: { tp: 'Could not compile bpftrace script, Semantic pass failed: x' } },
      { name: 'new', kernel: '6.6.0' },
      { name: 'unselected', kernel: '4.19.0' },
    ], () => now);
    const variants = [{ program: 'p', selectors: [{ type: 'min_kernel' as const, value: '5.4' }] }];
    const tp = { id: 'id-1', name: 'tp', table: 't', variants };
    expect(agents.deploy(tp, PENDING, '')).toBe(RUNNING);
    now = 200n;
    expect(agents.deploy(tp, RUNNING, '')).toBe(RUNNING);
    const rows = agents.probeStatusRows().map((r) => ({ time: r['time_'], asid: Number((r['upid'] as bigint) >> 96n), status: r['status'], error: r['error'], info: r['info'] }));
    expect(rows).toEqual([
      { time: 100n, asid: 2, status: 9n, error: 'Could not compile bpftrace script, Semantic pass failed: x', info: '{"trace_id":"id-1"}' },
      { time: 100n, asid: 3, status: 0n, error: '', info: '{"trace_id":"id-1","output_table":"t"}' },
      { time: 200n, asid: 1, status: 0n, error: '', info: '{"trace_id":"id-1","output_table":"t"}' },
    ]);
    expect(agents.agentStatusRows(false).map((r) => r['hostname'])).toEqual(['host', 'old', 'new', 'unselected']);
    expect(agents.agentStatusRows(true)).toHaveLength(5);
  });

  it('fails an agent that two variants select (stirling.cc:510-512), and gives no program to one that none selects', () => {
    const agents = new ClusterAgents({ asid: 1, hostname: 'host', release: '6.1.0' }, [], () => 1n);
    expect(agents.hostProgram([{ program: 'a', selectors: [] }, { program: 'b', selectors: [] }])).toEqual({ error: ONE_PROGRAM_PER_AGENT });
    expect(agents.hostProgram([{ program: 'a', selectors: [{ type: 'max_kernel', value: '5.15.255' }] }])).toBeUndefined();
    expect(agents.hostProgram([{ program: 'a', selectors: [{ type: 'max_kernel', value: '5.15.255' }] }, { program: 'b', selectors: [{ type: 'min_kernel', value: '5.16' }] }])).toEqual({ program: 'b' });
  });
});
