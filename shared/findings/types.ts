/**
 * A finding in its natural TypeScript shape (optional values absent rather than null), derived
 * from the Avro schema in `schema.ts` by the compiler (`avro-types.ts`): the schema is the one
 * source. What the schema cannot say is added here: the string fields it documents as
 * enumerations are narrowed to their values, and the kind decides which details a finding has.
 * The codec in `codec.ts` checks every value against the schema at run time.
 *
 * @module
 */
import type { AvroValue, Narrowed } from './avro-types.ts';
import type { FINDING_SCHEMA } from './schema.ts';

export const FINDING_KINDS = ['cpu.throttle', 'pod.birth', 'remediation.result'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const FINDING_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

export const SOURCES = ['pixie', 'local', 'replay'] as const;
export type KernelSource = (typeof SOURCES)[number];

/** A finding as the schema has it: every kind's details optional, enumerations as strings. */
type FindingRecord = AvroValue<typeof FINDING_SCHEMA>;

/** The workload a finding is about; `container` is empty when it is about the whole pod. */
export type WorkloadRef = FindingRecord['workload'];
export type ObservedWindow = FindingRecord['observedWindow'];
export type ThrottleDetails = NonNullable<FindingRecord['throttle']>;
export type PodThrottle = ThrottleDetails['pods'][number];
export type Counters = PodThrottle['counters'];
export type Threshold = ThrottleDetails['thresholds'][number];
/** A pod's birth; `captured` lists the event kinds the probe watched (an empty list of an unwatched kind means "not observed"). */
export type BirthDetails = NonNullable<FindingRecord['birth']>;
export type ContainerBirth = BirthDetails['containers'][number];
export type BirthStep = ContainerBirth['steps'][number];

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

export type RemediationDetails = Narrowed<
  NonNullable<FindingRecord['remediation']>,
  {
    readonly outcome: RemediationOutcome;
    /** Set when the finding was refused before any decision (outcome `skipped`). */
    readonly refusal: Refusal;
    readonly mode: 'off' | 'recommend' | 'apply';
  }
>;

/** Which nodes the run's kernel data covers (observe findings; shared/observe/coverage.ts); absent on remediation results and on findings from before coverage. */
export type ProbeCoverage = NonNullable<FindingRecord['coverage']>;
/** A node whose kernel data a run does not have, and Pixie's reason. */
export type NodeLacking = ProbeCoverage['lacking'][number];

/** What every finding has, whatever its kind. */
type FindingBase = Narrowed<Omit<FindingRecord, 'kind' | 'throttle' | 'birth' | 'remediation'>, { readonly severity: FindingSeverity; readonly source: KernelSource }>;

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
