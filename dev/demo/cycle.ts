/**
 * One scheduled cycle on the running stack: Cloud Scheduler's calls to the observe functions,
 * then waiting until Pub/Sub pushed every finding to `remediate` and `record` and the API server
 * shows the outcome (each throttle finding answered by a remediation result, each KernelWhisper
 * carrying its decision, each birth a PodBirthCertificate).
 *
 * @module
 */
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Message, Subscription } from '@google-cloud/pubsub';
import { decodeFinding } from '../../shared/findings/codec.ts';
import type { BirthFinding, Finding, RemediationFinding, ThrottleFinding } from '../../shared/findings/types.ts';
import { GROUP, KERNEL_WHISPERS, kernelWhisperName, objectName, POD_BIRTH_CERTIFICATES, VERSION } from '../../shared/kube/records.ts';
import type { Stack } from './stack.ts';
import type { RequestWindow } from './windows.ts';

/** Every finding on the topic, as `kernel-gossip tail` would show it (a pull subscription of its own). */
export interface FindingTail {
  readonly findings: () => readonly Finding[];
  close(): Promise<void>;
}

export const tailFindings = async (stack: Stack, name = 'kg-kernel-findings-demo-tail'): Promise<FindingTail> => {
  const [subscription]: [Subscription, ...unknown[]] = await stack.topology.topic.createSubscription(name, { ackDeadlineSeconds: 30 });
  const seen = new Map<string, Finding>();
  subscription.on('message', (message: Message) => {
    message.ack();
    const finding = decodeFinding(message.data);
    seen.set(`${finding.kind}/${finding.id}`, finding);
  });
  subscription.on('error', () => undefined);
  return { findings: () => [...seen.values()], close: () => subscription.close() };
};

export interface SchedulerCall {
  readonly function: 'observe-throttle' | 'observe-births';
  readonly window: RequestWindow;
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** POSTs a window to an observe function as Cloud Scheduler does (its retry is up to the caller). */
export const schedulerCall = async (stack: Stack, name: SchedulerCall['function'], window: RequestWindow): Promise<SchedulerCall> => {
  const response = await fetch(stack.functions[name].url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'Google-Cloud-Scheduler' },
    body: JSON.stringify(window),
    signal: AbortSignal.timeout(120_000),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) {
    throw new Error(`${name} answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return { function: name, window, status: response.status, body };
};

/** Polls `check` until it returns a value, or fails with `what` after `timeoutMs`. */
export const waitFor = async <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 250): Promise<T> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > until) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
};

export interface CycleOutcome {
  readonly calls: readonly SchedulerCall[];
  readonly throttle: readonly ThrottleFinding[];
  readonly births: readonly BirthFinding[];
  readonly results: readonly RemediationFinding[];
  readonly whispers: readonly Record<string, unknown>[];
  readonly certificates: readonly Record<string, unknown>[];
}

const customObjects = (kubeconfigPath: string): CustomObjectsApi => {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return config.makeApiClient(CustomObjectsApi);
};

/** The KernelWhisper and PodBirthCertificate objects in every namespace. */
export const recordedObjects = async (stack: Stack): Promise<{ whispers: Record<string, unknown>[]; certificates: Record<string, unknown>[] }> => {
  const api = customObjects(stack.kubeconfigs.admin);
  const list = async (plural: string): Promise<Record<string, unknown>[]> =>
    ((await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as { items: Record<string, unknown>[] }).items;
  return { whispers: await list(KERNEL_WHISPERS), certificates: await list(POD_BIRTH_CERTIFICATES) };
};

const nested = (object: Record<string, unknown>, ...keys: string[]): unknown =>
  keys.reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], object);

/**
 * Waits until every throttle finding of `throttle` has its remediation result on the topic and its
 * decision on its KernelWhisper, and every birth its PodBirthCertificate.
 */
export const settle = async (
  stack: Stack,
  tail: FindingTail,
  expected: { readonly throttle: readonly ThrottleFinding[]; readonly births: readonly BirthFinding[] },
  timeoutMs = 90_000,
): Promise<Omit<CycleOutcome, 'calls' | 'throttle' | 'births'>> =>
  waitFor(
    `${expected.throttle.length} remediation decisions and ${expected.births.length} birth certificates`,
    async () => {
      const results = tail.findings().filter((f): f is RemediationFinding => f.kind === 'remediation.result');
      const answered = expected.throttle.every((t) => results.some((r) => r.remediation.findingId === t.id));
      if (!answered) {
        return undefined;
      }
      const { whispers, certificates } = await recordedObjects(stack);
      const decided = expected.throttle.every((t) =>
        whispers.some(
          (w) =>
            nested(w, 'metadata', 'namespace') === t.namespace &&
            nested(w, 'metadata', 'name') === kernelWhisperName(t.workload.name, t.workload.container) &&
            nested(w, 'status', 'lastFindingId') === t.id,
        ),
      );
      const born = expected.births.every((b) =>
        certificates.some((c) => nested(c, 'metadata', 'namespace') === b.namespace && nested(c, 'metadata', 'name') === objectName(b.birth.pod)),
      );
      return decided && born ? { results: results.filter((r) => expected.throttle.some((t) => t.id === r.remediation.findingId)), whispers, certificates } : undefined;
    },
    timeoutMs,
  );

/**
 * Runs the scheduled cycle: births, then throttling (the order Cloud Scheduler's two jobs fire in
 * within a minute is arbitrary), and waits until everything pushed has been acted on and recorded.
 */
export const runCycle = async (
  stack: Stack,
  tail: FindingTail,
  windows: { readonly throttle: RequestWindow; readonly births: RequestWindow },
  progress: (message: string) => void = () => undefined,
): Promise<CycleOutcome> => {
  progress(`Cloud Scheduler -> observe-births ${JSON.stringify(windows.births)}`);
  const births = await schedulerCall(stack, 'observe-births', windows.births);
  progress(`observe-births: ${String(births.body['findings'])} findings published`);
  progress(`Cloud Scheduler -> observe-throttle ${JSON.stringify(windows.throttle)} (and the windows before it)`);
  const throttle = await schedulerCall(stack, 'observe-throttle', windows.throttle);
  progress(`observe-throttle: ${String(throttle.body['containers'])} containers, ${String(throttle.body['findings'])} findings published`);
  const published = await waitFor('the published findings on the topic', () => {
    const all = tail.findings();
    const t = all.filter((f): f is ThrottleFinding => f.kind === 'cpu.throttle');
    const b = all.filter((f): f is BirthFinding => f.kind === 'pod.birth');
    return Promise.resolve(t.length >= Number(throttle.body['findings']) && b.length >= Number(births.body['findings']) ? { t, b } : undefined);
  });
  progress('waiting for the pushes to remediate and record to be acted on');
  const settled = await settle(stack, tail, { throttle: published.t, births: published.b });
  return { calls: [births, throttle], throttle: published.t, births: published.b, ...settled };
};
