/**
 * `npm run demo` as a function, so the end-to-end tests run exactly what the demo runs:
 * kernel data (live or replay) -> stack -> seeded workloads -> one scheduled cycle -> summary.
 *
 * @module
 */
import { reportMetaOf, windowOf, writeReport } from '../../cli/report/index.ts';
import { kubectl } from '../kube/manifests.ts';
import { type CycleOutcome, runCycle, tailFindings, type FindingTail } from './cycle.ts';
import { chooseKernelMode, type KernelChoice, type KernelFeed, type KernelMode, replayFeed } from './kernel.ts';
import { nodeFeed } from './node-feed.ts';
import { cpuLimitOf, createWorkload, ensureNamespace, objectsOf, seedClients } from './seed.ts';
import { DEMO_CLUSTER, type Stack, startStack, type StackOptions } from './stack.ts';
import { formatSummary, workloadKey } from './summary.ts';
import type { RequestWindow } from './windows.ts';
import { DEMO_BIRTHS, DEMO_WORKLOADS } from './workloads.ts';

export interface PreparedDemo {
  readonly kernel: KernelChoice;
  readonly stack: Stack;
  readonly tail: FindingTail;
  readonly windows: { readonly throttle: RequestWindow; readonly births: RequestWindow };
  /** CPU limits of the demo's Deployments right after seeding. */
  readonly limitsBefore: ReadonlyMap<string, string | undefined>;
}

export interface PrepareOptions {
  readonly kernel: KernelMode | 'auto';
  readonly logFile: string;
  readonly progress: (message: string) => void;
  readonly registerStop: (stop: () => Promise<void>) => void;
  readonly terraformVariables?: StackOptions['terraformVariables'];
  readonly remediateEnv?: StackOptions['remediateEnv'];
  readonly signal?: AbortSignal;
}

/** Everything up to the scheduled cycle: kernel data, the stack, the workloads, a tail on the topic. */
export const prepareDemo = async (options: PrepareOptions): Promise<PreparedDemo> => {
  const { progress } = options;
  const kernel = await chooseKernelMode(options.kernel);
  progress(
    `kernel data: ${kernel.mode} (${kernel.why}): ${kernel.mode === 'live' ? 'a real one-node cluster (kubelet, containerd) runs the workloads; the local Vizier runs live in this process' : 'the local Vizier replays dev/demo/recordings'}`,
  );
  // The node and the in-process live Vizier write into the stack's log once the stack exists.
  const nodeLog = bufferedLog();
  const node = kernel.mode === 'live' ? nodeFeed(kernel, nodeLog.write) : undefined;
  const feed: KernelFeed = node ?? replayFeed(kernel);
  const stack = await startStack({
    startVizier: () => feed.startVizier(),
    ...(node === undefined ? {} : { startKube: () => node.startKube() }),
    kernelMode: kernel.mode,
    logFile: options.logFile,
    progress,
    registerStop: options.registerStop,
    ...(options.remediateEnv === undefined ? {} : { remediateEnv: options.remediateEnv }),
    ...(options.terraformVariables === undefined ? {} : { terraformVariables: options.terraformVariables }),
  });
  nodeLog.to(stack);
  const clients = seedClients(stack.kubeconfigs.admin);
  const limitsBefore = new Map<string, string | undefined>();
  if (node === undefined) {
    progress('seeding the workloads the kernel data names (Deployment -> ReplicaSet -> Pod, as the controllers would)');
    for (const workload of DEMO_WORKLOADS) {
      await ensureNamespace(clients, workload.namespace);
      await createWorkload(clients, objectsOf(workload, DEMO_BIRTHS));
    }
  } else {
    progress('creating the workloads as Deployments on the node: the controllers roll them out, the kubelet births their pods');
    await node.seed(clients, progress);
  }
  for (const workload of DEMO_WORKLOADS) {
    const limit = await cpuLimitOf(clients, workload.namespace, workload.deployment, workload.container);
    limitsBefore.set(workloadKey(workload.namespace, workload.deployment), limit);
    const policy = Object.entries(workload.annotations).map(([k, v]) => `${k}=${v}`);
    progress(`  ${workload.namespace}/${workload.deployment}: ${workload.role}, CPU limit ${limit ?? 'none'}, created by ${workload.fieldManager}${policy.length > 0 ? `, ${policy.join(', ')}` : ''}`);
  }
  const tail = await tailFindings(stack);
  const running = stack;
  const windows = await feed.produce(async (name, body) => {
    const response = await fetch(running.functions[name].url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await response.arrayBuffer();
    return response.status;
  }, progress);
  return { kernel, stack, tail, windows, limitsBefore };
};

/** Log lines kept until the stack's log exists, then written there (the node starts before it). */
const bufferedLog = (): { write: (name: string, line: string) => void; to: (stack: Stack) => void } => {
  let target: Stack | undefined;
  const pending: [string, string][] = [];
  return {
    write: (name, line) => {
      if (target === undefined) {
        pending.push([name, line]);
      } else {
        target.log(name, line);
      }
    },
    to: (stack) => {
      target = stack;
      for (const [name, line] of pending.splice(0)) {
        stack.log(name, line);
      }
    },
  };
};

export interface DemoResult {
  readonly prepared: PreparedDemo;
  readonly cycle: CycleOutcome;
  readonly summary: string;
  readonly reportFile: string;
}

/** Runs the cycle on a prepared demo and builds the summary. */
export const runDemoCycle = async (
  prepared: PreparedDemo,
  options: { readonly progress: (message: string) => void; readonly keep: boolean; readonly reportFile: string; readonly startedAt: number },
): Promise<DemoResult> => {
  const { stack } = prepared;
  const cycle = await runCycle(stack, prepared.tail, prepared.windows, options.progress);
  const clients = seedClients(stack.kubeconfigs.admin);
  const limits = new Map<string, { before: string | undefined; after: string | undefined }>();
  for (const workload of DEMO_WORKLOADS) {
    const key = workloadKey(workload.namespace, workload.deployment);
    limits.set(key, { before: prepared.limitsBefore.get(key), after: await cpuLimitOf(clients, workload.namespace, workload.deployment, workload.container) });
  }
  const kubectlOutput = await kubectl(stack.kubeconfigs.admin, ['get', 'kw,pbc', '-A']);
  const findings = [...cycle.births, ...cycle.throttle, ...cycle.results];
  const window = windowOf(new Date(prepared.windows.throttle.start), new Date(prepared.windows.throttle.end));
  const report = await writeReport(
    options.reportFile,
    findings,
    reportMetaOf(findings, new Date().toISOString(), {
      cluster: DEMO_CLUSTER,
      window,
      source: prepared.kernel.mode === 'live' ? 'local' : 'replay',
      title: 'kernel-gossip demo',
    }),
  );
  options.progress(`report written: ${report.file} (${report.bytes} bytes)`);
  const summary = formatSummary({
    kernel: prepared.kernel,
    throttle: cycle.throttle,
    births: cycle.births,
    results: cycle.results,
    containersSeen: Number(cycle.calls[1]?.body['containers'] ?? 0),
    limits,
    kubeconfig: stack.kubeconfigs.admin,
    kubectlOutput,
    logFile: stack.logFile,
    reportFile: report.file,
    kept: options.keep,
    seconds: (Date.now() - options.startedAt) / 1000,
  });
  return { prepared, cycle, summary, reportFile: report.file };
};
