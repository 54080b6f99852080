import { PubSub, type Message } from '@google-cloud/pubsub';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayEnd } from '../../../cli/scan.ts';
import { type PubsubEmulator, startPubsubEmulator } from '../../../dev/pubsub/emulator.ts';
import { provisionFindingsTopic, pullSubscription } from '../../../dev/pubsub/provision.ts';
import { decodeFinding } from '../../../shared/findings/codec.ts';
import type { BirthFinding } from '../../../shared/findings/types.ts';
import { post, startFunction } from '../../support/functions.ts';
import { startProcess } from '../../support/process.ts';

const root = path.resolve(import.meta.dirname, '../../..');
/** Each birth probe over a recording of its own program; KG_BIRTH_PROBE unset runs the default. */
const CASES = [
  { probe: 'pod_birth_lite', fixture: path.join(root, 'test/fixtures/lab-lite/birth-lite.json'), env: {} },
  { probe: 'pod_birth', fixture: path.join(root, 'test/fixtures/lab/birth.json'), env: { KG_BIRTH_PROBE: 'pod_birth' } },
] as const;
const API_KEY = 'px-api-births-test-key';
const CLUSTER = '6c1a2f3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b';

describe.each(CASES)('observe-births (built bundle, $probe) with the local Vizier replaying a real pod birth', ({ probe, fixture: FIXTURE, env }) => {
  const cleanups: (() => Promise<void>)[] = [];
  const received: BirthFinding[] = [];
  let url: string;
  let body: { start: string; end: string };

  beforeAll(async () => {
    const end = await replayEnd(FIXTURE);
    body = { start: new Date(end.getTime() - 30_000).toISOString(), end: end.toISOString() };
    const vizier = await startProcess(process.execPath, [path.join(root, 'dev/vizier/main.ts'), '--replay', FIXTURE, '--port', '0', '--api-key', API_KEY, '--cluster', CLUSTER], {
      ready: /vizier listening on (\S+)/,
    });
    cleanups.push(() => vizier.stop());
    const emulator: PubsubEmulator = await startPubsubEmulator();
    cleanups.push(() => emulator.stop());
    const pubsub = new PubSub({ projectId: 'kernel-gossip-test', apiEndpoint: emulator.host, emulatorMode: true });
    cleanups.push(() => pubsub.close());
    const topology = await provisionFindingsTopic(pubsub, `births-${randomUUID().slice(0, 8)}`);
    const topicId = topology.topic.name.split('/').pop()!;
    const subscription = await pullSubscription(topology, `${topicId}-sub`);
    cleanups.push(() => subscription.close());
    subscription.on('message', (message: Message) => {
      message.ack();
      received.push(decodeFinding(message.data) as BirthFinding);
    });
    const fn = await startFunction('observe-births', {
      PIXIE_API_KEY: API_KEY,
      PIXIE_CLUSTER_ID: CLUSTER,
      PIXIE_CLOUD_ADDR: /vizier listening on (\S+)/.exec(vizier.output())![1]!,
      PIXIE_INSECURE: 'true',
      PUBSUB_EMULATOR_HOST: emulator.host,
      GOOGLE_CLOUD_PROJECT: 'kernel-gossip-test',
      FINDINGS_TOPIC: topicId,
      KG_CLUSTER_NAME: 'lab',
      KG_KERNEL_SOURCE: 'replay',
      ...env,
    });
    cleanups.push(() => fn.stop());
    url = fn.url;
  });

  afterAll(async () => {
    for (const stop of cleanups.reverse()) {
      await stop();
    }
  });

  it('publishes one birth certificate per pod the lab started, matching its OCI configs', async () => {
    const recording = JSON.parse(await readFile(FIXTURE, 'utf8')) as {
      containers: { pod: string; podUid: string; containerId: string; ociConfig: { process: { args: string[] } } }[];
    };
    const pods = [...new Set(recording.containers.map((c) => c.pod))].sort();
    const response = await post(url, body);
    expect(response).toMatchObject({ status: 200, body: { findings: pods.length, published: pods.length, failed: 0 } });
    const until = Date.now() + 15_000;
    while (received.length < pods.length && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(received.map((f) => f.birth.pod).sort()).toEqual(pods);
    for (const truth of recording.containers) {
      const finding = received.find((f) => f.birth.podUid === truth.podUid)!;
      const born = finding.birth.containers.find((c) => c.containerId === truth.containerId.slice(0, 32));
      expect(born?.entrypoint).toBe(truth.ociConfig.process.args[0]);
      expect(born?.timeToEntrypointNs).toBeGreaterThan(0);
      // What the probe watched decides what an empty list means.
      const full = probe === 'pod_birth';
      expect({
        watchesWrites: finding.birth.captured.includes('cgroup_write'),
        watchesSyscalls: finding.birth.captured.includes('syscall'),
        countedSyscalls: (born?.runtimeSyscalls ?? 0) > 100,
        noWritesUnlessWatched: full || born?.limitWrites.length === 0,
        createdNamespaces: (born?.namespacesCreated.length ?? 0) > 0,
      }).toEqual({ watchesWrites: full, watchesSyscalls: full, countedSyscalls: full, noWritesUnlessWatched: true, createdNamespaces: true });
    }
  });
});
