/**
 * The command other programs use to start the local Vizier: it prints one ready line with its
 * address, serves plaintext or TLS with a CA it generates (checked with Pixie's Python client
 * dialling with that CA), and refuses bad arguments and datasets with a clear message.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPixieClient, MutationFailedError, type ExecuteEvent } from '../../../shared/pixie/index.ts';
import { startProcess } from '../../support/process.ts';
import { API_KEY, CLUSTER, pxapiTables, rawExecute, requirePython, runPxapi, writeDataset } from './support.ts';

const READY = /vizier listening on (127\.0\.0\.1:\d+) (plaintext|tls ca=(\S+)) cluster=(\S+)/;
const args = (dir: string, extra: string[]): string[] => ['dev/vizier/main.ts', '--dataset', dir, '--api-key', API_KEY, '--cluster', `${CLUSTER}=cli-test`, ...extra];

describe('node dev/vizier/main.ts', () => {
  it('starts over TLS with its own CA and serves Pixie\'s Python client dialling with that CA', async () => {
    requirePython();
    const dir = writeDataset(50);
    const vizier = await startProcess(process.execPath, args(dir, ['--tls', '--port', '0']), { ready: READY });
    try {
      const match = READY.exec(vizier.output());
      expect(vizier.output().trim().split('\n')).toHaveLength(1);
      const [, address = '', , ca = ''] = match ?? [];
      const py = await runPxapi(address, "import px\npx.display(px.DataFrame('seq'), 'seq')\n", ['--tls-ca', ca]);
      expect({ exit: py.exitCode, stderr: py.stderr }).toMatchObject({ exit: 0 });
      expect(pxapiTables(py.lines).get('seq')).toHaveLength(50);
      const plaintext = await runPxapi(address, "import px\npx.display(px.DataFrame('seq'), 'seq')\n");
      expect(plaintext.exitCode).not.toBe(0);
    } finally {
      await vizier.stop();
    }
  });

  it('starts plaintext with the checked-in demo dataset, which pxapi can read', async () => {
    const vizier = await startProcess(process.execPath, args('dev/vizier/datasets/demo', ['--port', '0']), { ready: READY });
    try {
      const match = READY.exec(vizier.output());
      expect(match?.[2]).toBe('plaintext');
      expect(match?.[4]).toBe(CLUSTER);
      const py = await runPxapi(match?.[1] ?? '', "import px\npx.display(px.DataFrame('process_stats'), 'ps')\npx.display(px.DataFrame('pod_cpu'), 'pod_cpu')\n", ['--mode', 'count']);
      expect(py.lines).toContainEqual({ table: 'ps', count: 20 });
      expect(py.lines).toContainEqual({ table: 'pod_cpu', count: 100 });
    } finally {
      await vizier.stop();
    }
  });

  it('applies a --faults file (per-cluster faults and status) at start', async () => {
    const dir = writeDataset(3000);
    const faults = path.join(mkdtempSync(path.join(tmpdir(), 'vizier-faults-')), 'faults.json');
    const sick = '22222222-2222-4333-8444-555555555555';
    writeFileSync(faults, JSON.stringify({ [CLUSTER]: { largeBatchRejectedAfter: 1 }, [sick]: { status: 'CS_UNHEALTHY' } }));
    const vizier = await startProcess(process.execPath, [...args(dir, ['--faults', faults]), '--cluster', sick], { ready: READY });
    try {
      const address = READY.exec(vizier.output())?.[1] ?? '';
      const py = await runPxapi(address, "import px\npx.display(px.DataFrame('seq'), 'seq')\n", ['--mode', 'count']);
      expect(py.lines.at(-1)?.['error']).toMatchObject({ grpc_code: 'INTERNAL', grpc_details: expect.stringMatching(/^Large data batch rejected/) as unknown });
      const raw = await rawExecute(address, { cluster_id: sick, query_str: "import px\npx.display(px.DataFrame('seq'), 'seq')\n" });
      expect(raw.status).toEqual({ code: 14, details: 'cluster is not in a healthy state' });
    } finally {
      await vizier.stop();
    }
  });

  // A fresh machine's first demo replays the recordings while dev/setup is still installing
  // bpftrace: the deployment's printf-struct check (a PEM decodes every event with the first
  // printf's struct, api-facts.md last section) uses the dry run each recording carries.
  it('replays recordings where bpftrace is not installed: a recorded program deploys with its recorded printf structs, any other is refused saying why', async () => {
    const noBpftrace = { ...process.env, PATH: path.dirname(process.execPath), KG_CACHE: mkdtempSync(path.join(tmpdir(), 'vizier-cache-')) };
    const ready = /vizier listening on (127\.0\.0\.1:\d+)/;
    const vizier = await startProcess(process.execPath, ['dev/vizier/main.ts', '--replay', 'test/fixtures/lab-lite', '--api-key', API_KEY, '--cluster', CLUSTER, '--port', '0'], { ready, env: noBpftrace });
    const client = createPixieClient({
      address: ready.exec(vizier.output())?.[1] ?? '',
      security: { kind: 'plaintext' },
      apiKey: API_KEY,
      clusterId: CLUSTER,
      encryption: false,
      retry: { mutationRetryDelayMs: 50, resumeDelayMs: 50, defaultTimeoutMs: 30_000 },
    });
    const rowsOf = async (events: AsyncIterable<ExecuteEvent>): Promise<number> => {
      let rows = 0;
      for await (const event of events) {
        rows += event.kind === 'batch' ? event.batch.numRows : 0;
      }
      return rows;
    };
    try {
      const lite = readFileSync('pxl-scripts/pod_birth_lite/pod_birth_lite.pxl', 'utf8');
      const recorded = `${lite}\npx.display(pod_birth_lite('-1000d', '2100-01-01T00:00:00.000Z', ''), 'births')\n`;
      expect(await rowsOf(client.executeScript({ script: recorded }))).toBeGreaterThan(0);
      const full = readFileSync('pxl-scripts/pod_birth/pod_birth.pxl', 'utf8');
      const unrecorded = `${full}\npx.display(pod_birth('-1000d', '2100-01-01T00:00:00.000Z', ''), 'births')\n`;
      const refused = await rowsOf(client.executeScript({ script: unrecorded })).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(MutationFailedError);
      const why = vizier.output();
      expect(why).toContain('bpftrace not found: the printf layouts of a program need bpftrace');
    } finally {
      client.close();
      await vizier.stop();
    }
  });

  it('refuses a --faults file with a field the fault model does not have, naming it', async () => {
    const faults = path.join(mkdtempSync(path.join(tmpdir(), 'vizier-faults-')), 'faults.json');
    writeFileSync(faults, JSON.stringify({ [CLUSTER]: { cut: { afterBatches: 1, mode: 'rst' }, largeBatchRejectAfter: 1 } }));
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, args('dev/vizier/datasets/demo', ['--faults', faults]), (error, _stdout, stderr) => {
        resolve({ code: error === null ? 0 : (error.code as number), stderr });
      });
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cluster ${CLUSTER}.largeBatchRejectAfter is not a fault`);
  });

  it('refuses a malformed dataset with the file and column in the message', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vizier-bad-'));
    writeFileSync(path.join(dir, 'broken.json'), JSON.stringify({ relation: [{ name: 'time_', type: 'TIME64NS' }, { name: 'n', type: 'INT64' }], columns: { time_: ['1'], n: ['x'] } }));
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, args(dir, []), (error, _stdout, stderr) => {
        resolve({ code: error === null ? 0 : (error.code as number), stderr });
      });
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/broken\.json: columns\.n\[0\]: expected an integer/);
  });
});
