/**
 * The request Terraform renders is the one the observe function serves: the twin plans
 * terraform/examples/basic (tofu, schema stand-in providers, mocks), runs observe-throttle from the
 * folder Terraform zips with exactly Terraform's environment (only endpoints and the secret put in
 * by the twin), creates the topic and schema as declared on the official Pub/Sub emulator, and its
 * local Cloud Scheduler fires Terraform's job (body, headers, deadline, retry) at its due time on a
 * compressed clock over the kernel lab's recording replayed by the local Vizier. The run must answer
 * 200 and cover exactly the interval since the job's previous due time, and its finding must say so.
 */
import { type Message, PubSub } from '@google-cloud/pubsub';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { replayEnd } from '../../../cli/scan.ts';
import { kernelThrottled } from '../../../dev/lab/compare.ts';
import type { Recording } from '../../../dev/lab/scenarios.ts';
import { type PubsubEmulator, startPubsubEmulator } from '../../../dev/pubsub/emulator.ts';
import { type Deployment, renderDeployment } from '../../../dev/terraform/deployment.ts';
import { provisionTwinPubsub, startTwinFunction, twinEnvironment } from '../../../dev/twin/deploy.ts';
import { PUSH_FILTERS } from '../../../dev/pubsub/provision.ts';
import { compressedClock, runLocalScheduler } from '../../../dev/twin/scheduler.ts';
import { decodeFinding } from '../../../shared/findings/codec.ts';
import type { Finding } from '../../../shared/findings/types.ts';
import { type StartedProcess, startProcess } from '../../support/process.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const FIXTURE = path.join(root, 'test/fixtures/lab/throttle.json');
const API_KEY = 'px-api-twin-test-key';
const CLUSTER = '6c1a2f3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b';
const PROJECT = 'kernel-gossip-twin';

describe('twin: Terraform’s Scheduler job runs observe-throttle as deployed', () => {
  let deployment: Deployment;
  let vizier: StartedProcess;
  let emulator: PubsubEmulator;
  let pubsub: PubSub;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    deployment = await renderDeployment({
      distDir: path.join(root, 'dist', 'functions'),
      variables: { project_id: PROJECT, region: 'europe-west1', cluster_name: 'lab', cluster_location: 'europe-west1', pixie_cluster_id: CLUSTER, pixie_api_key: API_KEY },
    });
    vizier = await startProcess(process.execPath, [path.join(root, 'dev/vizier/main.ts'), '--replay', FIXTURE, '--port', '0', '--api-key', API_KEY, '--cluster', CLUSTER], {
      ready: /vizier listening on (\S+)/,
    });
    cleanups.push(() => vizier.stop());
    emulator = await startPubsubEmulator();
    cleanups.push(() => emulator.stop());
    pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host, emulatorMode: true });
    cleanups.push(() => pubsub.close());
  }, 240_000);

  afterAll(async () => {
    for (const stop of cleanups.reverse()) {
      await stop();
    }
  });

  it('answers 200 to the job’s request at its due time and publishes the finding of exactly the interval since the previous due time', async () => {
    const fn = deployment.functions['observe-throttle'];
    const job = deployment.jobs['observe-throttle'];
    expect(fn).toBeDefined();
    expect(job).toMatchObject({ target: 'observe-throttle', audience: 'observe-throttle' });
    const address = /vizier listening on (\S+)/.exec(vizier.output())?.[1] ?? '';
    const env = twinEnvironment(fn!, { pubsubEmulatorHost: emulator.host, pixieAddress: address, secrets: { PIXIE_API_KEY: API_KEY }, kernelSource: 'replay' });
    // Exactly Terraform's environment but for the twin's endpoints and secret.
    expect(Object.keys(env).sort()).toEqual([...Object.keys(fn!.env), ...fn!.secretEnv, 'PUBSUB_EMULATOR_HOST', 'PIXIE_INSECURE', 'KG_KERNEL_SOURCE'].sort());
    expect(env['OBSERVE_SCHEDULE']).toBe(job!.schedule);
    expect(env['NODE_OPTIONS']).toMatch(/--max-old-space-size=/);
    const started = await startTwinFunction(fn!, env);
    cleanups.push(() => started.process.stop());

    const twinPubsub = await provisionTwinPubsub(pubsub, deployment, { 'observe-throttle': started.url });
    cleanups.push(() => twinPubsub.close());
    // The plan's push filters are the ones the local stack applies (dev/pubsub/provision.ts PUSH_FILTERS).
    expect(Object.fromEntries(deployment.subscriptions.filter((s) => s.push !== undefined).map((s) => [s.push!.target, s.filter === '' ? undefined : s.filter]))).toEqual(PUSH_FILTERS);
    expect(twinPubsub.notCreated.map((s) => s.name).sort()).toEqual(deployment.subscriptions.filter((s) => s.bigquery !== undefined || s.push !== undefined).map((s) => s.name).sort());
    const findings: Finding[] = [];
    const [reader] = await pubsub.topic(fn!.env['FINDINGS_TOPIC'] ?? '').createSubscription('twin-reader');
    cleanups.push(() => reader.close());
    reader.on('message', (message: Message) => {
      message.ack();
      findings.push(decodeFinding(message.data));
    });

    // The due time after the recording's end: its window (one schedule interval) must hold the recorded rows.
    const end = await replayEnd(FIXTURE);
    const stepMs = 5 * 60_000;
    const due = new Date(Math.ceil(end.getTime() / stepMs) * stepMs);
    expect(job!.schedule).toBe('*/5 * * * *');
    const events = await runLocalScheduler([{ job: job!, url: started.url, audience: started.url }], {
      clock: compressedClock(new Date(due.getTime() - 1_000), 10),
      from: new Date(due.getTime() - 1_000),
      until: due,
    });
    expect(events.attempts.map((a) => [a.scheduleTime, a.attempt, a.outcome])).toEqual([[due.toISOString(), 1, 200]]);
    const answer = JSON.parse(events.attempts[0]?.body ?? '{}') as { window: { start: string; end: string }; findings: number };
    expect(answer.window).toEqual({ start: new Date(due.getTime() - stepMs).toISOString(), end: due.toISOString() });
    // One finding per container the kernel throttled in the recording (its cpu.stat).
    const throttled = kernelThrottled(JSON.parse(readFileSync(FIXTURE, 'utf8')) as Recording).throttled.length;
    expect(throttled).toBeGreaterThan(0);
    expect(answer.findings).toBe(throttled);
    const until = Date.now() + 15_000;
    while (findings.length < throttled && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const each: unknown = expect.objectContaining({
      kind: 'cpu.throttle',
      cluster: 'lab',
      observedWindow: { start: answer.window.start, end: answer.window.end, seconds: 300 },
      summary: expect.stringMatching(/1 consecutive 5-minute window$/) as unknown,
    });
    expect(findings).toEqual(Array.from({ length: throttled }, () => each));
    const logged = started.process.output();
    expect(logged).toContain('"event":"observe.completed"');
  }, 120_000);
});
