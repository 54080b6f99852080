/**
 * The demo's closing summary (plain text): what the kernel said, what averaged metrics would have
 * said, what the remediator did and why, and where to look.
 *
 * @module
 */
import type { BirthFinding, RemediationFinding, ThrottleFinding } from '../../shared/findings/types.ts';
import type { KernelChoice } from './kernel.ts';

export interface SummaryInput {
  readonly kernel: KernelChoice;
  readonly throttle: readonly ThrottleFinding[];
  readonly births: readonly BirthFinding[];
  readonly results: readonly RemediationFinding[];
  /** Containers observe-throttle saw (healthy ones publish nothing). */
  readonly containersSeen: number;
  /** CPU limit of each throttled Deployment before and after, from the API server. */
  readonly limits: ReadonlyMap<string, { readonly before: string | undefined; readonly after: string | undefined }>;
  readonly kubeconfig: string;
  readonly kubectlOutput: string;
  readonly logFile: string;
  readonly reportFile: string | undefined;
  readonly kept: boolean;
  readonly seconds: number;
}

const percent = (value: number | undefined): string => (value === undefined ? 'n/a' : `${(value * 100).toFixed(0)}%`);

export const workloadKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The summary text, one line per fact. */
export const formatSummary = (input: SummaryInput): string => {
  const lines: string[] = [];
  lines.push('', '=== kernel-gossip demo: summary ===', '');
  lines.push(`Kernel data: ${input.kernel.mode === 'live' ? 'LIVE (the kubelet\'s pods on a real one-node cluster, real CFS throttling on this kernel, just now)' : 'REPLAY (recorded by the kernel lab: dev/demo/recordings)'} - ${input.kernel.why}`);
  lines.push('Remediation mode: APPLY (the demo lets remediate change CPU limits where a namespace opted in; the default is recommend)', '');
  lines.push(`What the kernel said (${input.throttle.length} throttled of ${input.containersSeen} containers with a CPU limit; the others are healthy and publish nothing):`);
  for (const t of input.throttle) {
    const th = t.throttle;
    lines.push(
      `  ${t.namespace}/${t.workload.name} ${t.workload.container}: ${th.verdict}, throttled in ${percent(th.throttledRatio)} of periods, ` +
        `${th.throttledSecondsPerSecond.toFixed(2)} s waited per second, ${th.consecutiveWindows} windows in a row`,
    );
    lines.push(
      `    metrics would have said: mean use ${percent(th.meanUseOfLimit)} of its ${th.limitMillicores}m limit${(th.meanUseOfLimit ?? 1) < 0.8 ? ' - below the usual 80% alert, so nobody looks' : ''}`,
    );
  }
  for (const b of input.births) {
    lines.push(`  birth: ${b.summary}`);
  }
  lines.push('', 'What was done:');
  for (const r of input.results) {
    const limits = input.limits.get(workloadKey(r.namespace, r.workload.name));
    const change = limits === undefined ? '' : ` (CPU limit in the API server: ${limits.before ?? 'none'} -> ${limits.after ?? 'none'})`;
    lines.push(`  ${r.namespace}/${r.workload.name}: ${r.remediation.outcome.toUpperCase()}${change}`);
    lines.push(`    ${r.remediation.reason.slice(0, 300)}`);
    if (r.remediation.outcome === 'conflict' && r.remediation.patch !== undefined) {
      lines.push(`    patch to commit in the source of truth:`, ...r.remediation.patch.trimEnd().split('\n').map((l) => `      ${l}`));
    }
  }
  lines.push('', 'Recorded in the cluster (kubectl get kw,pbc -A):', ...input.kubectlOutput.trimEnd().split('\n').map((l) => `  ${l}`));
  lines.push('', 'Where to look:');
  if (input.kept) {
    lines.push(`  kubectl --kubeconfig ${input.kubeconfig} get kw,pbc -A`);
    lines.push(`  kubectl --kubeconfig ${input.kubeconfig} get events.events.k8s.io -A`);
    lines.push(`  kubectl --kubeconfig ${input.kubeconfig} get deploy -A -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name,CPU:.spec.template.spec.containers[0].resources.limits.cpu`);
  } else {
    lines.push(`  (the stack is stopped now; run 'npm run demo -- --keep' to keep it up and use: kubectl --kubeconfig <printed path> get kw,pbc -A)`);
  }
  if (input.reportFile !== undefined) {
    lines.push(`  report: ${input.reportFile}`);
  }
  lines.push(`  log of every process: ${input.logFile}`);
  lines.push('', `Done in ${input.seconds.toFixed(0)} s.`);
  return lines.join('\n');
};
