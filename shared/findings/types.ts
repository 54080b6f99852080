/**
 * A finding in its natural TypeScript shape (optional values absent rather than null), mirroring
 * `schema.ts` field for field. The codec in `codec.ts` checks every value against the schema, so a
 * drift between these types and the schema fails the unit tests.
 *
 * @module
 */

export const FINDING_KINDS = ['cpu.throttle', 'pod.birth', 'remediation.result'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const FINDING_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

export const SOURCES = ['pixie', 'local', 'replay'] as const;
export type KernelSource = (typeof SOURCES)[number];

export interface WorkloadRef {
  readonly kind: string;
  readonly name: string;
  /** Container the finding is about; empty when it is about the whole pod. */
  readonly container: string;
}

export interface ObservedWindow {
  readonly start: string;
  readonly end: string;
  readonly seconds: number;
}

export interface Counters {
  readonly periods: number;
  readonly throttledPeriods: number;
  readonly throttledTimeNs: number;
  readonly bursts?: number;
  readonly burstTimeNs?: number;
  readonly quotaUs: number;
  readonly periodUs: number;
  readonly burstUs?: number;
}

export interface PodThrottle {
  readonly pod: string;
  readonly node: string;
  readonly counters: Counters;
  readonly throttledRatio: number;
  readonly throttledSecondsPerSecond: number;
  readonly meanUseOfLimit?: number;
  readonly cpuSeconds?: number;
  readonly counterReset: boolean;
}

export interface Threshold {
  readonly name: string;
  readonly value: number;
}

export interface ThrottleDetails {
  readonly verdict: string;
  readonly reason: string;
  readonly throttledRatio: number;
  readonly throttledSecondsPerSecond: number;
  readonly meanUseOfLimit?: number;
  readonly limitMillicores: number;
  readonly recommendedLimitMillicores?: number;
  readonly expectedThrottledRatio?: number;
  readonly consecutiveWindows: number;
  readonly actionRecommended: boolean;
  readonly pods: readonly PodThrottle[];
  readonly thresholds: readonly Threshold[];
}

export interface BirthStep {
  readonly offsetNs: number;
  readonly kind: string;
  readonly detail: string;
  readonly pid: number;
}

export interface ContainerBirth {
  readonly name: string;
  readonly containerId: string;
  readonly sandbox: boolean;
  readonly firstEventAt: string;
  readonly entrypointExecAt?: string;
  readonly timeToEntrypointNs?: number;
  readonly entrypoint?: string;
  readonly cgroupsCreated: readonly string[];
  readonly limitWrites: readonly { readonly file: string; readonly value: string }[];
  readonly namespacesCreated: readonly string[];
  readonly namespacesJoined: readonly string[];
  readonly mounts: readonly { readonly source: string; readonly target: string; readonly fstype: string }[];
  readonly pivotRoot?: string;
  readonly execs: readonly string[];
  readonly runtimeSyscalls?: number;
  readonly syscalls: readonly { readonly name: string; readonly count: number }[];
  readonly steps: readonly BirthStep[];
  readonly stepsOmitted?: number;
}

export interface BirthDetails {
  readonly pod: string;
  readonly podUid: string;
  readonly node: string;
  /** Event kinds the probe watched (the analysis' kinds); empty lists of an unwatched kind mean "not observed". */
  readonly captured: readonly string[];
  readonly containers: readonly ContainerBirth[];
  readonly part?: number;
  readonly parts?: number;
}

export const REMEDIATION_OUTCOMES = ['applied', 'recommended', 'skipped', 'conflict', 'failed'] as const;
export type RemediationOutcome = (typeof REMEDIATION_OUTCOMES)[number];

/**
 * Why `remediate` refused to decide on a finding at all (the evidence was not admitted): it names
 * another cluster, its window ended too long ago or lies in the future, or a name in it is not a
 * valid Kubernetes name. A refused finding is `skipped`, so readers older than this field still
 * read a true outcome.
 */
export const REFUSALS = ['foreign-cluster', 'stale', 'future', 'invalid-name'] as const;
export type Refusal = (typeof REFUSALS)[number];

export interface RemediationDetails {
  readonly findingId: string;
  readonly outcome: RemediationOutcome;
  /** Set when the finding was refused before any decision (outcome `skipped`). */
  readonly refusal?: Refusal;
  readonly reason: string;
  readonly mode: 'off' | 'recommend' | 'apply';
  readonly fromLimitMillicores?: number;
  readonly toLimitMillicores?: number;
  readonly patch?: string;
  readonly conflictingManager?: string;
  readonly podsResized: number;
}

/** A node whose kernel data a run does not have, and Pixie's reason. */
export interface NodeLacking {
  readonly node: string;
  readonly reason: string;
}

/** Which nodes the run's kernel data covers (observe findings; shared/observe/coverage.ts). */
export interface ProbeCoverage {
  readonly nodesTotal: number;
  readonly nodesCovered: number;
  readonly lacking: readonly NodeLacking[];
}

interface FindingBase {
  readonly schemaVersion: string;
  readonly id: string;
  readonly cluster: string;
  readonly namespace: string;
  readonly workload: WorkloadRef;
  readonly observedWindow: ObservedWindow;
  readonly severity: FindingSeverity;
  readonly source: KernelSource;
  readonly producedAt: string;
  readonly summary: string;
  /** Nodes the kernel data covers; absent on remediation results and on findings from before coverage. */
  readonly coverage?: ProbeCoverage;
}

export interface ThrottleFinding extends FindingBase {
  readonly kind: 'cpu.throttle';
  readonly throttle: ThrottleDetails;
}

export interface BirthFinding extends FindingBase {
  readonly kind: 'pod.birth';
  readonly birth: BirthDetails;
}

export interface RemediationFinding extends FindingBase {
  readonly kind: 'remediation.result';
  readonly remediation: RemediationDetails;
}

export type Finding = ThrottleFinding | BirthFinding | RemediationFinding;
