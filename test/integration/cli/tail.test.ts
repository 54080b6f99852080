import { PubSub } from '@google-cloud/pubsub';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PubsubEmulator, startPubsubEmulator } from '../../../dev/pubsub/emulator.ts';
import { provisionFindingsTopic } from '../../../dev/pubsub/provision.ts';
import { encodeFinding } from '../../../shared/findings/codec.ts';
import { createFindingPublisher } from '../../../shared/findings/publisher.ts';
import { sampleBirth, sampleRemediation, sampleThrottle } from '../../support/findings.ts';
import { startProcess } from '../../support/process.ts';

const root = path.resolve(import.meta.dirname, '../../..');
/** The source entry and the bundle that ships as the package's bin. */
const ENTRIES = [
  ['source', path.join(root, 'cli/main.ts')],
  ['bundle', path.join(root, 'dist/cli/kernel-gossip.js')],
] as const;
const project = 'kernel-gossip-test';

const waitFor = async (check: () => boolean, timeoutMs = 20_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) {
      throw new Error('timed out waiting');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe.each(ENTRIES)('kernel-gossip tail (%s) against the Pub/Sub emulator', (_entry, cli) => {
  let emulator: PubsubEmulator;
  let pubsub: PubSub;

  beforeAll(async () => {
    emulator = await startPubsubEmulator();
    pubsub = new PubSub({ projectId: project, apiEndpoint: emulator.host, emulatorMode: true });
  });

  afterAll(async () => {
    await pubsub.close();
    await emulator.stop();
  });

  const run = async (topic: string, extra: string[]) =>
    startProcess(process.execPath, [cli, 'tail', '--project', project, '--topic', topic, ...extra], {
      env: { ...process.env, PUBSUB_EMULATOR_HOST: emulator.host },
      ready: /tailing /,
    });

  it('prints findings as they arrive and removes its temporary subscription on Ctrl-C', async () => {
    const topology = await provisionFindingsTopic(pubsub, `tail-${randomUUID().slice(0, 8)}`);
    const topicId = topology.topic.name.split('/').pop()!;
    const child = await run(topicId, []);
    const [subscriptionsDuring] = await topology.topic.getSubscriptions();
    expect(subscriptionsDuring.some((s) => s.name.includes('kernel-gossip-tail-'))).toBe(true);

    const publisher = createFindingPublisher({ pubsub, topicName: topology.topic.name });
    expect((await publisher.publish([sampleThrottle(), sampleBirth(), sampleRemediation()])).failed).toEqual([]);
    await waitFor(() => child.output().includes('remediation shop/cart'));
    expect(child.output()).toContain('cpu.throttle shop/cart (Deployment) container app: metrics-lie');
    expect(child.output()).toContain('pod.birth shop/cart-7d9f8-abcde on gke-pool-1');

    child.child.kill('SIGINT');
    await new Promise((resolve) => child.child.once('exit', resolve));
    expect(child.child.exitCode).toBe(0);
    const [subscriptionsAfter] = await topology.topic.getSubscriptions();
    expect(subscriptionsAfter.some((s) => s.name.includes('kernel-gossip-tail-'))).toBe(false);
  });

  it('--json prints each message exactly as published; --kind filters', async () => {
    const topology = await provisionFindingsTopic(pubsub, `tailj-${randomUUID().slice(0, 8)}`);
    const child = await run(topology.topic.name.split('/').pop()!, ['--json', '--kind', 'pod.birth']);
    const publisher = createFindingPublisher({ pubsub, topicName: topology.topic.name });
    await publisher.publish([sampleThrottle(), sampleBirth()]);
    await waitFor(() => child.output().includes('"pod.birth"'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const lines = child.output().split('\n').filter((line) => line.startsWith('{'));
    expect(lines).toEqual([encodeFinding(sampleBirth()).toString('utf8')]);
    await child.stop();
  });

  it('refuses to run without a project', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PUBSUB_EMULATOR_HOST: emulator.host };
    delete env['GOOGLE_CLOUD_PROJECT'];
    await expect(startProcess(process.execPath, [cli, 'tail'], { env, ready: /never/ })).rejects.toThrow(/needs --project or GOOGLE_CLOUD_PROJECT/);
  });
});
