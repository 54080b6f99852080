/**
 * Starts the local Vizier for other programs and prints ONE line when it is ready:
 *   vizier listening on 127.0.0.1:PORT plaintext|tls ca=<path> cluster=<id> api-key-count=<n>
 *
 * Usage: node dev/vizier/main.ts (--dataset <dir> | --replay <dir|recording.json> [--replay-ends-at ISO-TIME | --replay-follow-clock] | --live [--kubeconfig F] [--node N] [--kubelet-url U]) [--port 0] [--host 127.0.0.1] [--tls [--tls-dir <dir>]]
 *          [--api-key <key>]... [--cluster <uuid>[=<name>]]... [--faults <json-file>] [--batch-rows 1024] [--exit-with-stdin]
 * Defaults: api key and cluster from docs/vizier.md (DEFAULT_API_KEY / DEFAULT_CLUSTER_ID), port 0.
 * Every mode compiles and runs PxL with one engine: `--dataset` over recorded tables (pxl/dataset-backend.ts),
 * `--replay` over lab recordings (pxl/replay.ts), `--live` on this host (root, bpftrace) over every
 * container of the node, naming pods from the API server of `--kubeconfig` (pods of `--node`,
 * default the hostname), else from the kubelet's read-only pod list (`--kubelet-url`, default
 * http://127.0.0.1:10255; see pxl/node.ts).
 * `--replay-follow-clock`: "now" is this process's clock (the twin's simulated one when started
 * on it, dev/twin/clock.ts) and rows after it are not served (pxl/replay.ts).
 * `--faults` is a JSON object of cluster id -> Faults (faults.ts) plus an optional `status`
 * (e.g. "CS_UNHEALTHY"), applied at start; a field that does not fit the model is refused by name.
 *
 * @module
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadDataset } from './dataset.ts';
import { hostname } from 'node:os';
import { checkProbeHost } from '../lab/host.ts';
import { parseKubeletUrl, podListers } from '../node/pod-sources.ts';
import { PxlEngine } from './pxl/engine.ts';
import { type LiveBackend, liveBackend } from './pxl/live.ts';
import { loadRecordings, replayBackend, replayShiftNs, shiftRecording } from './pxl/replay.ts';
import { type Faults, parseFaults } from './faults.ts';
import { CLUSTER_STATUSES, startVizier, type ClusterConfig, type ClusterStatus } from './server.ts';
import { createTlsMaterial } from './tls.ts';

export const DEFAULT_API_KEY = 'px-api-local-vizier-key';
export const DEFAULT_CLUSTER_ID = '6c1a2f3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b';

const usage = 'usage: node dev/vizier/main.ts (--dataset <dir> | --replay <dir|recording.json> [--replay-ends-at ISO-TIME | --replay-follow-clock] | --live [--kubeconfig F] [--node N] [--kubelet-url U]) [--port N] [--host H] [--tls [--tls-dir D]] [--api-key K]... [--cluster UUID[=NAME]]... [--faults FILE] [--batch-rows N]';

type ClusterFaults = Faults & { readonly status?: ClusterStatus };

/** The `--faults` file: cluster id -> faults (+ status), checked against the fault model. */
const readFaults = (file: string): Record<string, ClusterFaults> => {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new Error(`--faults ${file}: expected a JSON object of cluster id -> faults`);
  }
  return Object.fromEntries(
    Object.entries(doc as Record<string, unknown>).map(([id, value]) => {
      const where = `--faults ${file}: cluster ${id}`;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new Error(`${where}: expected an object of faults`);
      }
      const { status, ...faults } = value as Record<string, unknown>;
      if (status !== undefined && !(CLUSTER_STATUSES as readonly unknown[]).includes(status)) {
        throw new Error(`${where}: status must be one of ${CLUSTER_STATUSES.join(', ')}`);
      }
      return [id, { ...parseFaults(faults, where), ...(status === undefined ? {} : { status: status as ClusterStatus }) }];
    }),
  );
};

/** The recordings to replay, moved so the latest ends at `endsAt` when it is given. */
const replayed = (source: string, endsAt: string | undefined): ReturnType<typeof loadRecordings> => {
  const recordings = loadRecordings(source);
  if (endsAt === undefined) {
    return recordings;
  }
  const endMs = Date.parse(endsAt);
  if (!Number.isFinite(endMs)) {
    throw new Error(`--replay-ends-at must be an ISO time, got ${endsAt}`);
  }
  const shift = replayShiftNs(recordings, BigInt(endMs) * 1_000_000n);
  return recordings.map((recording) => shiftRecording(recording, shift));
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      tls: { type: 'boolean', default: false },
      'tls-dir': { type: 'string' },
      'api-key': { type: 'string', multiple: true },
      cluster: { type: 'string', multiple: true },
      faults: { type: 'string' },
      'batch-rows': { type: 'string', default: '1024' },
      replay: { type: 'string' },
      'replay-ends-at': { type: 'string' },
      'replay-follow-clock': { type: 'boolean', default: false },
      live: { type: 'boolean', default: false },
      kubeconfig: { type: 'string' },
      node: { type: 'string' },
      'kubelet-url': { type: 'string' },
      'exit-with-stdin': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const modes = [values.dataset !== undefined, values.replay !== undefined, values.live].filter(Boolean).length;
  if (values['replay-follow-clock'] && (values.replay === undefined || values['replay-ends-at'] !== undefined)) {
    throw new Error(`--replay-follow-clock goes with --replay and without --replay-ends-at\n${usage}`);
  }
  if (modes !== 1) {
    throw new Error(`choose exactly one of --dataset, --replay, --live\n${usage}`);
  }
  const log = (event: Record<string, unknown>): void => {
    console.error(JSON.stringify({ severity: 'INFO', ...event }));
  };
  let live: { backend: LiveBackend } | undefined;
  if (values.live) {
    const { bpftrace } = await checkProbeHost();
    const listers = podListers({
      node: values.node ?? hostname(),
      ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
      ...(values['kubelet-url'] === undefined ? {} : { kubeletUrl: parseKubeletUrl(values['kubelet-url']) }),
    });
    live = { backend: await liveBackend({ bpftrace, listers }, { log }) };
  }
  const port = Number(values.port);
  const batchRows = Number(values['batch-rows']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be 0-65535, got ${values.port}`);
  }
  if (!Number.isInteger(batchRows) || batchRows < 1) {
    throw new Error(`--batch-rows must be a positive integer, got ${values['batch-rows']}`);
  }
  const faults = values.faults === undefined ? {} : readFaults(values.faults);
  const clusters: ClusterConfig[] = (values.cluster ?? [DEFAULT_CLUSTER_ID]).map((spec, i) => {
    const [id = '', name = `local-vizier-${i}`] = spec.split('=');
    const { status = 'CS_HEALTHY', ...clusterFaults } = faults[id] ?? {};
    return { id, name, status, faults: clusterFaults };
  });
  const tls = values.tls ? createTlsMaterial(values['tls-dir'] ?? mkdtempSync(path.join(tmpdir(), 'vizier-tls-'))) : undefined;
  const running = await startVizier({
    dataset: values.dataset === undefined ? new Map() : loadDataset(values.dataset),
    ...(values.replay === undefined ? {} : { engine: new PxlEngine(replayBackend(replayed(values.replay, values['replay-ends-at']), { followClock: values['replay-follow-clock'] })) }),
    ...(live === undefined ? {} : { engine: new PxlEngine(live.backend) }),
    apiKeys: values['api-key'] ?? [DEFAULT_API_KEY],
    clusters,
    batchRows,
    log,
    host: values.host,
    port,
    ...(tls === undefined ? {} : { tls }),
  });
  const shutdown = (): void => {
    void running
      .stop()
      .then(async () => {
        await live?.backend.close();
      })
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  // The parent's pipe closes when it exits, however it ends: stop with it.
  if (values['exit-with-stdin']) {
    process.stdin.once('end', shutdown).once('close', shutdown).resume();
  }
  console.log(
    `vizier listening on ${running.address} ${tls === undefined ? 'plaintext' : `tls ca=${tls.caPath}`} cluster=${clusters.map((c) => c.id).join(',')} api-keys=${values['api-key']?.length ?? 1}`,
  );
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
