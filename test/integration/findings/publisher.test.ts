import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPubsubEmulator, type PubsubEmulator } from '../../../dev/pubsub/emulator.ts';
import { type FindingsTopology, provisionFindingsTopic, pullSubscription } from '../../../dev/pubsub/provision.ts';
import { decodeFinding, orderingKey } from '../../../shared/findings/codec.ts';
import { createFindingPublisher } from '../../../shared/findings/publisher.ts';
import type { BirthFinding, Finding } from '../../../shared/findings/types.ts';
import { sampleBirth, sampleRemediation, sampleThrottle } from '../../support/findings.ts';

/** Pulls until `count` messages arrived (or the time is up), acknowledging each. */
const pull = async (subscription: Subscription, count: number, timeoutMs = 20_000): Promise<Message[]> => {
  const messages: Message[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    subscription.on('message', (message: Message) => {
      message.ack();
      messages.push(message);
      if (messages.length >= count) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await subscription.close();
  return messages;
};

describe('findings on the official Pub/Sub emulator', () => {
  let emulator: PubsubEmulator;
  let pubsub: PubSub;

  beforeAll(async () => {
    emulator = await startPubsubEmulator();
    pubsub = new PubSub({ projectId: 'kernel-gossip-test', apiEndpoint: emulator.host, emulatorMode: true });
  });

  afterAll(async () => {
    await pubsub.close();
    await emulator.stop();
  });

  const topology = async (): Promise<FindingsTopology> => provisionFindingsTopic(pubsub, `t-${randomUUID().slice(0, 8)}`);

  it('publishes every kind through the enforced schema; a subscriber reads them back unchanged, in order per workload', async () => {
    const topo = await topology();
    const subscription = await pullSubscription(topo, `${topo.topic.name.split('/').pop()!}-sub`);
    const publisher = createFindingPublisher({ pubsub, topicName: topo.topic.name });
    const findings: Finding[] = [sampleThrottle(), sampleBirth(), sampleRemediation()];
    const report = await publisher.publish(findings);
    await publisher.close();
    expect(report.failed).toEqual([]);
    expect(report.published.map((p) => p.findingId).sort()).toEqual(findings.map((f) => f.id).sort());

    const messages = await pull(subscription, findings.length);
    const received = messages.map((message) => decodeFinding(message.data));
    expect(received.map((f) => f.id).sort()).toEqual(findings.map((f) => f.id).sort());
    for (const message of messages) {
      const finding = decodeFinding(message.data);
      expect(finding).toEqual(findings.find((f) => f.id === finding.id));
      expect(message.attributes).toMatchObject({ kind: finding.kind, cluster: 'lab', namespace: 'shop', severity: finding.severity });
      expect(message.orderingKey).toBe(orderingKey(finding));
    }
    // Same workload, same key: the emulator delivers them in publish order.
    const order = messages.map((m) => decodeFinding(m.data).kind);
    expect(order).toEqual(['cpu.throttle', 'pod.birth', 'remediation.result']);
  });

  it('the topic itself rejects a message that does not fit the schema', async () => {
    const topo = await topology();
    const wire = JSON.parse(JSON.stringify({ schemaVersion: '1', kind: 'cpu.throttle' })) as object;
    await expect(topo.topic.publishMessage({ json: wire })).rejects.toMatchObject({ code: 3 });
    await expect(topo.topic.publishMessage({ data: Buffer.from('not json') })).rejects.toMatchObject({ code: 3 });
  });

  it('reports (not throws) findings that fail, and resumes the paused ordering key', async () => {
    const topo = await topology();
    const publisher = createFindingPublisher({ pubsub, topicName: topo.topic.name, timeoutMs: 5_000 });
    await topo.topic.delete();
    const failing = await publisher.publish([sampleThrottle()]);
    expect(failing.published).toEqual([]);
    expect(failing.failed).toHaveLength(1);
    expect(failing.failed[0]?.code).toBe(5);
    expect(failing.failed[0]?.message).toMatch(/NOT_FOUND|not found/i);

    // Same topic name recreated: the same publisher and the same ordering key work again.
    const [recreated] = await pubsub.createTopic({ name: topo.topic.name.split('/').pop()!, schemaSettings: { schema: topo.schemaName, encoding: 'JSON' } });
    const subscription = await pullSubscription({ ...topo, topic: recreated }, `${recreated.name.split('/').pop()!}-again`);
    const again = await publisher.publish([sampleThrottle()]);
    expect(again.failed).toEqual([]);
    expect(again.published).toHaveLength(1);
    expect((await pull(subscription, 1)).map((m) => decodeFinding(m.data).id)).toEqual([sampleThrottle().id]);
    await publisher.close();
  });

  it('splits an oversized birth certificate into complete per-container parts instead of cutting it', async () => {
    const topo = await topology();
    const subscription = await pullSubscription(topo, `${topo.topic.name.split('/').pop()!}-sub`);
    const base = sampleBirth();
    const container = base.birth.containers[0]!;
    const steps = Array.from({ length: 400 }, (_, i) => ({ offsetNs: i * 1000, kind: 'mount', detail: `/var/lib/x/${'y'.repeat(40)}/${i}`, pid: 10 + i }));
    const big: BirthFinding = {
      ...base,
      birth: { ...base.birth, containers: [{ ...container, name: 'a', steps }, { ...container, name: 'b', steps: steps.slice(0, 10) }] },
    };
    const publisher = createFindingPublisher({ pubsub, topicName: topo.topic.name, maxMessageBytes: 16_000 });
    const report = await publisher.publish([big]);
    await publisher.close();
    expect(report.failed).toEqual([]);
    expect(report.published).toHaveLength(2);
    const parts = (await pull(subscription, 2)).map((m) => decodeFinding(m.data) as BirthFinding).sort((x, y) => (x.birth.part ?? 0) - (y.birth.part ?? 0));
    expect(parts.map((p) => [p.birth.part, p.birth.parts, p.birth.containers.map((c) => c.name)])).toEqual([
      [1, 2, ['a']],
      [2, 2, ['b']],
    ]);
    const first = parts[0]!.birth.containers[0]!;
    expect(first.steps.length + (first.stepsOmitted ?? 0)).toBe(400);
    expect(first.stepsOmitted).toBeGreaterThan(0);
    expect(parts[1]!.birth.containers[0]!.steps).toHaveLength(10);
    expect(parts[1]!.birth.containers[0]!.stepsOmitted).toBeUndefined();
  });

  it('reports every finding as failed when Pub/Sub is unreachable, within the deadline', async () => {
    const topo = await topology();
    const unreachable = new PubSub({ projectId: 'kernel-gossip-test', apiEndpoint: '127.0.0.1:9', emulatorMode: true });
    const publisher = createFindingPublisher({ pubsub: unreachable, topicName: topo.topic.name, timeoutMs: 3_000 });
    const started = Date.now();
    const report = await publisher.publish([sampleThrottle(), sampleRemediation()], { deadline: new Date(Date.now() + 4_000) });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(report.published).toEqual([]);
    expect(report.failed.map((f) => f.findingId).sort()).toEqual([sampleThrottle().id, sampleRemediation().id].sort());
    await unreachable.close();
  });
});
