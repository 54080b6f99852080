/**
 * The remediation planner: given a throttle finding, the workload as the API server shows it and
 * the policy, decide what to do and build the exact change. Pure: the applier does the I/O.
 *
 * Every decision, acted on or not, has an outcome and a reason, and carries the patch a human
 * would commit, so recommend mode, held-back actions and GitOps conflicts all tell the owner what
 * to change in their source of truth.
 *
 * @module
 */
import type { ThrottleFinding } from '../findings/types.ts';
import { effectivePolicy, formatCpu, type RemediationMode, type RemediationPolicy } from './policy.ts';

/** Kinds whose pod template the remediator may change. */
export const PATCHABLE_KINDS = ['Deployment', 'StatefulSet'] as const;
export type PatchableKind = (typeof PATCHABLE_KINDS)[number];

/** Annotations and labels the remediator keeps on a workload it changed. */
export const STATE_KEYS = {
  /** Id of the last finding acted on: a redelivered or concurrent copy of it is recognised. */
  lastFinding: 'kernel.gossip.io/last-finding',
  /** RFC 3339 time of the last change, for the cooldown. */
  lastActionAt: 'kernel.gossip.io/last-action-at',
  /** Label: end of the observe window (Unix seconds) of the last change, to count changes per run server-side. */
  lastWindow: 'kernel.gossip.io/last-window',
  /** Annotation: the owner lets kernel-gossip take over the CPU limit field from another field manager. */
  takeOwnership: 'kernel.gossip.io/take-ownership',
} as const;

export interface ContainerResources {
  readonly name: string;
  readonly cpuLimitMillicores?: number;
  readonly cpuRequestMillicores?: number;
}

/** What the planner needs to know about the workload, read from the API server. */
export interface WorkloadState {
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly namespace: string;
  readonly resourceVersion: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly containers: readonly ContainerResources[];
  /** Whether a HorizontalPodAutoscaler scales this workload on CPU. */
  readonly hpaOnCpu: boolean;
}

export interface PlanInput {
  readonly finding: ThrottleFinding;
  readonly workload: WorkloadState;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  /** Policy annotations on the namespace; the workload's own annotations tighten them further. */
  readonly namespaceAnnotations?: Readonly<Record<string, string>>;
  readonly operator: RemediationPolicy;
  readonly now: Date;
  /** Changes already applied for this finding's observe window, cluster-wide. */
  readonly actionsThisRun: number;
}

/** `apply`: change the workload; `recommend`: publish the patch only; `skip`: nothing to do, with why. */
export type PlanAction = 'apply' | 'recommend' | 'skip';

export interface Plan {
  readonly action: PlanAction;
  readonly reason: string;
  readonly mode: RemediationMode;
  /** True when the decision may change on a later delivery (cooldown, windows, run budget). */
  readonly heldBack: boolean;
  readonly container: string;
  readonly fromLimitMillicores?: number;
  readonly toLimitMillicores?: number;
  /** The patch a human would commit (YAML). */
  readonly patchYaml?: string;
  /** Whether the applier may force ownership of the CPU limit field. */
  readonly forceOwnership: boolean;
  /** Caveats worth telling the owner (HPA, policy annotations that were ignored). */
  readonly notes: readonly string[];
}

/** The YAML a human would commit to raise one container's CPU limit. */
export const limitPatchYaml = (workload: Pick<WorkloadState, 'apiVersion' | 'kind' | 'name' | 'namespace'>, container: string, millicores: number): string =>
  [
    `apiVersion: ${workload.apiVersion}`,
    `kind: ${workload.kind}`,
    'metadata:',
    `  name: ${workload.name}`,
    `  namespace: ${workload.namespace}`,
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    `        - name: ${container}`,
    '          resources:',
    '            limits:',
    `              cpu: ${formatCpu(millicores)}`,
    '',
  ].join('\n');

/**
 * The server-side apply body for the remediator's field manager: only the fields it owns (the
 * container's CPU limit and its state annotations and label), with the resourceVersion read, so a
 * concurrent change makes the apply fail with 409 instead of acting twice.
 */
export const applyBody = (plan: Plan, input: PlanInput): Record<string, unknown> => {
  if (plan.action !== 'apply' || plan.toLimitMillicores === undefined) {
    throw new Error('applyBody needs an apply plan');
  }
  const { workload, finding } = input;
  return {
    apiVersion: workload.apiVersion,
    kind: workload.kind,
    metadata: {
      name: workload.name,
      namespace: workload.namespace,
      resourceVersion: workload.resourceVersion,
      annotations: { [STATE_KEYS.lastFinding]: finding.id, [STATE_KEYS.lastActionAt]: input.now.toISOString() },
      labels: { [STATE_KEYS.lastWindow]: windowLabel(finding) },
    },
    spec: {
      template: {
        spec: { containers: [{ name: plan.container, resources: { limits: { cpu: formatCpu(plan.toLimitMillicores) } } }] },
      },
    },
  };
};

/** The label value that marks changes made for one observe window. */
export const windowLabel = (finding: Pick<ThrottleFinding, 'observedWindow'>): string =>
  String(Math.floor(new Date(finding.observedWindow.end).getTime() / 1000));

const ACTIONABLE_VERDICTS = new Set(['metrics-lie', 'saturated']);

/** Decides what to do about one throttle finding. */
export const planRemediation = (input: PlanInput): Plan => {
  const { finding, workload, operator, now } = input;
  const containerName = finding.workload.container;
  const effective = effectivePolicy(operator, workload.namespace, input.namespaceLabels, workload.annotations, input.namespaceAnnotations ?? {});
  const notes = [...effective.problems];
  const mode = effective.policy.mode;
  const container = workload.containers.find((c) => c.name === containerName);
  const current = container?.cpuLimitMillicores;
  const base = { mode, container: containerName, forceOwnership: false, notes } as const;
  const skip = (reason: string, heldBack = false, extra: Partial<Plan> = {}): Plan => ({ ...base, action: 'skip', reason, heldBack, ...extra });

  if (!(PATCHABLE_KINDS as readonly string[]).includes(workload.kind)) {
    return skip(`${workload.kind} is not remediated (only ${PATCHABLE_KINDS.join(' and ')})`);
  }
  if (!effective.optedIn) {
    return skip(effective.scope);
  }
  if (mode === 'off') {
    return skip('remediation mode is off');
  }
  if (workload.annotations[STATE_KEYS.lastFinding] === finding.id) {
    return skip(`finding ${finding.id} was already acted on`);
  }
  if (container === undefined) {
    return skip(`container ${containerName} is not in ${workload.kind} ${workload.name}`);
  }
  if (current === undefined) {
    return skip(`container ${containerName} has no CPU limit, so CFS never throttles it`);
  }
  const { verdict, recommendedLimitMillicores, consecutiveWindows } = finding.throttle;
  if (!ACTIONABLE_VERDICTS.has(verdict)) {
    return skip(`verdict ${verdict} needs no action`);
  }
  if (consecutiveWindows < effective.policy.minConsecutiveWindows) {
    return skip(`held back: throttled in ${consecutiveWindows} of the ${effective.policy.minConsecutiveWindows} consecutive windows the policy needs`, true);
  }
  if (recommendedLimitMillicores === undefined || recommendedLimitMillicores <= current) {
    return skip(`no higher limit recommended (current ${formatCpu(current)})`);
  }
  const stepCap = Math.floor(current * effective.policy.maxStepFactor);
  const target = Math.min(recommendedLimitMillicores, stepCap, effective.policy.ceilingMillicores);
  if (target <= current) {
    return skip(`at the ceiling: ${formatCpu(current)} is already at or above ${formatCpu(effective.policy.ceilingMillicores)}`);
  }
  const bounded =
    target < recommendedLimitMillicores
      ? ` (recommended ${formatCpu(recommendedLimitMillicores)}, bounded by ${target === stepCap ? `the max step ×${effective.policy.maxStepFactor}` : 'the ceiling'})`
      : '';
  const change = { fromLimitMillicores: current, toLimitMillicores: target, patchYaml: limitPatchYaml(workload, containerName, target) };
  if (workload.hpaOnCpu) {
    notes.push('an HPA scales this workload on CPU utilisation, which is measured against requests: raising the limit does not change its scaling');
  }
  const guaranteed = workload.containers.every(
    (c) => c.cpuLimitMillicores !== undefined && c.cpuLimitMillicores === c.cpuRequestMillicores,
  );
  if (guaranteed) {
    return skip(
      `Guaranteed QoS: raising only the limit would move the pods to Burstable; raise request and limit together to ${formatCpu(target)} if that is intended`,
      false,
      change,
    );
  }
  const lastActionAt = Date.parse(workload.annotations[STATE_KEYS.lastActionAt] ?? '');
  if (Number.isFinite(lastActionAt) && now.getTime() - lastActionAt < effective.policy.cooldownMs) {
    const until = new Date(lastActionAt + effective.policy.cooldownMs).toISOString();
    return skip(`held back: cooldown after the change at ${new Date(lastActionAt).toISOString()} lasts until ${until}`, true, change);
  }
  const why = `${verdict}: throttled ratio ${finding.throttle.throttledRatio.toFixed(2)} for ${consecutiveWindows} windows; ${formatCpu(current)} -> ${formatCpu(target)}${bounded}`;
  if (mode === 'recommend') {
    return { ...base, action: 'recommend', reason: `recommend mode: ${why}`, heldBack: false, ...change };
  }
  if (input.actionsThisRun >= effective.policy.maxActionsPerRun) {
    return skip(`held back: ${input.actionsThisRun} changes already made for this window (max ${effective.policy.maxActionsPerRun} per run)`, true, change);
  }
  return {
    ...base,
    action: 'apply',
    reason: why,
    heldBack: false,
    forceOwnership: workload.annotations[STATE_KEYS.takeOwnership] === 'cpu-limit',
    ...change,
  };
};
