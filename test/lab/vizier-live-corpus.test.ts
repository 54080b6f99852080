/**
 * The PxL corpus (test/fixtures/pxl-corpus, see test/integration/vizier/corpus.ts) against the local
 * Vizier in live mode: real bpftrace probes and /proc samples of the kernel lab's containers. The
 * same scripts and runs as corpus.test.ts (dataset, replay); live expectations pin what Pixie
 * guarantees whatever the machine's processes are: errors exactly, tables by schema (names, data
 * and semantic types), row bounds, and rows where the kernel must produce them: one idle lab pod
 * runs throughout (born by a real node's kubelet), so process_stats has samples of it in every recent window, and the openat probe
 * sees at least the Python client's own start-up. The tracepoint script's mutation run is retried
 * while its probe deploys and gets the data once bpftrace attached (RUNNING), as Pixie's clients
 * and query broker do (api-facts.md §5); a probe bpftrace cannot attach is FAILED as soon as
 * bpftrace gives up, with its error as the status. Needs root, bpftrace, runc, the node's binaries and the pxapi venv: fails
 * (never skips) without them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningVizier } from '../../dev/vizier/server.ts';
import { checkCorpusRun, loadCorpus } from '../integration/vizier/corpus.ts';
import { CLUSTER, canonicalTables, rawExecute, requirePython } from '../integration/vizier/support.ts';
import { type LiveVizier, startLiveVizier } from './live-vizier.ts';
import { enumValues } from '../../dev/vizier/proto.ts';

const CORPUS = loadCorpus();

let live: LiveVizier | undefined;
let vizier: RunningVizier | undefined;

beforeAll(async () => {
  requirePython();
  live = await startLiveVizier();
  vizier = live.vizier;
  // A pod the node's kubelet births; removed by live.close() however the tests end.
  const { kubelet } = live.nodeLab;
  await kubelet.waitBorn(await kubelet.create({
    namespace: 'corpus',
    name: 'idle-0',
    layout: 'cgroupfs',
    qos: 'burstable',
    containers: [{ name: 'idle', workload: { shape: 'idle', durationMs: 600_000 }, cpuQuotaUs: 10_000 }],
  }));
}, 240_000);

afterAll(async () => {
  await live?.close();
}, 180_000);

describe('live: the PxL corpus answers as Pixie guarantees on the real kernel', () => {
  for (const script of CORPUS) {
    it(`${script.name}.pxl`, async () => {
      if (vizier === undefined) {
        throw new Error('the live Vizier did not start');
      }
      for (const run of script.runs) {
        await checkCorpusRun(vizier.address, script, run, 'live');
      }
      expect.hasAssertions();
    }, 120_000);
  }
});

describe('live: a probe bpftrace cannot attach', () => {
  // A kprobe on a function no kernel has: bpftrace compiles it (a warning only), announces its
  // probe, then fails to attach and exits. Pixie's metadata service reports the tracepoint FAILED
  // (its error in GetTracepointStatus) while the broker answers code 14 (api-facts.md §5).
  it('is FAILED once bpftrace exits, with bpftrace\'s attach error as its status', async () => {
    if (vizier === undefined) {
      throw new Error('the live Vizier did not start');
    }
    const program = 'kprobe:kg_no_such_function { printf("time_:%llu pid:%u", nsecs, pid); }';
    const script = `import px\nimport pxtrace\npxtrace.UpsertTracepoint('kg_unattachable', 'kg_unattachable', """${program}""", pxtrace.kprobe(), '5m')\npx.display(px.DataFrame(table='kg_unattachable'), 'out')\n`;
    const states = enumValues('px.api.vizierpb.LifeCycleState');
    const request = { cluster_id: CLUSTER, query_str: script, mutation: true };
    // Poll until bpftrace's verdict (it reaches it in about a second; the deadline is generous).
    const deadline = Date.now() + 60_000;
    let answer = await rawExecute(vizier.address, request);
    const stateOf = (): number | undefined => (answer.messages.find((m) => m['mutation_info'] !== undefined && m['mutation_info'] !== null)?.['mutation_info'] as { states: { state: number }[] } | undefined)?.states[0]?.state;
    while (stateOf() === states['PENDING_STATE'] && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = await rawExecute(vizier.address, request);
    }
    expect({ state: stateOf(), code: answer.status.code, details: answer.status.details }).toEqual({
      state: states['FAILED_STATE'],
      code: 14,
      details: 'rpc error: code = Unavailable desc = probe installation in progress',
    });
    const status = await rawExecute(vizier.address, { cluster_id: CLUSTER, query_str: "import px\npx.display(px.GetTracepointStatus(), 'status')\n" });
    expect(status.status.code).toBe(0);
    // Columns tracepoint_id, name, state, status, output_tables.
    const row = canonicalTables(status.messages).get('status')?.find((r) => r[1] === 'kg_unattachable');
    expect(row?.[2]).toBe('FAILED_STATE');
    expect(String(row?.[3])).toContain('bpftrace exited (255) while attaching its probes');
    expect(String(row?.[3])).toContain("Error attaching probe: 'kprobe:kg_no_such_function'");
  }, 120_000);
});
