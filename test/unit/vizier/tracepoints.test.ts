/**
 * The local Vizier's model of tracepoint upserts across an upgrade. Pixie fails an upsert into an
 * existing table with a different schema (../shared/pixie/api-facts.md, last section: "Upserting a
 * tracepoint into an existing table with a different schema fails"); the table keeps its schema
 * while the tracepoint that made it lives, i.e. until its TTL runs out (§5: a metadata reaper
 * terminates expired tracepoints).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadRepoScript } from '../../../dev/lab/scripts.ts';
import { LIFE_CYCLE, TracepointRegistry } from '../../../dev/vizier/tracepoints.ts';
import { parseScript } from '../../../shared/pxl/scripts.ts';

const MINUTE_NS = 60_000_000_000n;

describe('tracepoint upserts over a running older release', () => {
  it('the versioned table deploys beside the old probe; the same table name would fail until the old TTL runs out', async () => {
    const old = parseScript('pod_birth_lite', await readFile('test/fixtures/pxl/pod_birth_lite-v1.pxl', 'utf8'), '{}');
    const current = await loadRepoScript('pod_birth_lite');
    let now = 0;
    const registry = new TracepointRegistry(() => now);
    const upsert = (name: string, table: string, program: string) => registry.upsert([{ name, table, program, ttlNs: 30n * MINUTE_NS }], { pendingRequests: 0 })[0];

    // The older release's observe function keeps its probe alive.
    expect(upsert(old.tracepoint.name, old.tracepoint.table, old.program)?.state).toBe(LIFE_CYCLE.RUNNING_STATE);
    expect(old.tracepoint.table).toBe('kg_pod_birth_lite');

    // The new release writes its own table: no conflict while the old probe runs.
    expect(current.tracepoint.table).not.toBe(old.tracepoint.table);
    expect(upsert(current.tracepoint.name, current.tracepoint.table, current.program)?.state).toBe(LIFE_CYCLE.RUNNING_STATE);
    expect(upsert(old.tracepoint.name, old.tracepoint.table, old.program)?.state).toBe(LIFE_CYCLE.RUNNING_STATE);

    // Without the version suffix the new columns would go into the old table and fail...
    now += 29 * 60_000;
    expect(upsert('kg_pod_birth_lite_unversioned', old.tracepoint.table, current.program)?.state).toBe(LIFE_CYCLE.FAILED_STATE);
    expect(registry.failure('kg_pod_birth_lite_unversioned')).toBe(
      'table kg_pod_birth_lite already exists with a different schema (written by tracepoint kg_pod_birth_lite): a changed schema needs a new table name',
    );
    // ...as would the same tracepoint name with the changed program...
    expect(upsert(old.tracepoint.name, old.tracepoint.table, current.program)?.state).toBe(LIFE_CYCLE.FAILED_STATE);
    // ...until the old tracepoint's TTL (30 minutes after its last upsert) has run out.
    now += 2 * 60_000;
    expect(upsert('kg_pod_birth_lite_unversioned', old.tracepoint.table, current.program)?.state).toBe(LIFE_CYCLE.RUNNING_STATE);
    expect(registry.failure('kg_pod_birth_lite_unversioned')).toBeUndefined();
  });

  it('a changed program with the same columns replaces the old one in its table', async () => {
    const current = await loadRepoScript('cpu_throttle');
    const registry = new TracepointRegistry(() => 0);
    const [first] = registry.upsert([{ name: 'tp', table: 't', program: current.program, ttlNs: MINUTE_NS }], { pendingRequests: 0 });
    const [second] = registry.upsert([{ name: 'tp', table: 't', program: current.program.replace('hz:99', 'hz:49'), ttlNs: MINUTE_NS }], { pendingRequests: 0 });
    expect(second?.state).toBe(LIFE_CYCLE.RUNNING_STATE);
    expect(second?.id).not.toBe(first?.id);
  });
});
