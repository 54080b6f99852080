/**
 * Admission of evidence: whether a throttle finding may be decided on at all, before the
 * remediator reads or changes anything. A finding is admitted only when it is about this cluster,
 * its window has ended (within a small clock-skew allowance) and ended recently enough to still
 * describe the workload, and every name in it is a name Kubernetes itself would accept. Anything
 * else is refused with a reason, and no request reaches the API server.
 *
 * Pure: the caller passes the clock and the bounds in.
 *
 * @module
 */
import type { Refusal, ThrottleFinding } from '../findings/types.ts';

/**
 * How far in the future a window may end and still be admitted. The observe functions and
 * `remediate` read clocks kept by NTP on Google's infrastructure, so their difference is well
 * under a second; a minute absorbs that and a slow local clock in development, while a window
 * that ends further ahead was not observed by any probe.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 60_000;

export interface AdmissionBounds {
  /** `KG_CLUSTER_NAME`: the only cluster whose findings this remediator acts on. */
  readonly cluster: string;
  /** Oldest window end still admitted, as an age in milliseconds. */
  readonly maxEvidenceAgeMs: number;
  readonly now: Date;
}

export type Admission = { readonly admitted: true } | { readonly admitted: false; readonly refusal: Refusal; readonly reason: string };

// Kubernetes' own name rules (k8s.io/apimachinery/pkg/util/validation/validation.go):
// IsDNS1123Label: at most 63 characters of [a-z0-9-], alphanumeric at both ends;
// IsDNS1123Subdomain: at most 253 characters, such labels joined by dots.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const isDns1123Label = (value: string): boolean => value.length <= 63 && DNS1123_LABEL.test(value);
export const isDns1123Subdomain = (value: string): boolean => value.length <= 253 && DNS1123_SUBDOMAIN.test(value);

/** A value for a reason text: quoted, bounded, control characters escaped by JSON. */
const quote = (value: string): string => JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);

/**
 * Names that Kubernetes would refuse: a namespace is a DNS-1123 label (ValidateNamespaceName);
 * Pods, ReplicaSets, Deployments and StatefulSets are named by DNS-1123 subdomains
 * (ValidatePodName, ValidateReplicaSetName, ValidateDeploymentName, ValidateStatefulSetName); a
 * container name is a DNS-1123 label (validateContainers). A throttle finding is always about
 * one container, so its container name may not be empty.
 */
export const invalidNames = (finding: Pick<ThrottleFinding, 'namespace' | 'workload'>): string[] => {
  const problems: string[] = [];
  if (!isDns1123Label(finding.namespace)) {
    problems.push(`namespace ${quote(finding.namespace)} is not a DNS-1123 label`);
  }
  if (!isDns1123Subdomain(finding.workload.name)) {
    problems.push(`workload name ${quote(finding.workload.name)} is not a DNS-1123 subdomain`);
  }
  if (!isDns1123Label(finding.workload.container)) {
    problems.push(`container name ${quote(finding.workload.container)} is not a DNS-1123 label`);
  }
  return problems;
};

const parseTime = (value: string): number | undefined => {
  // RFC 3339 only: Date.parse also reads forms such as "2030" or "March 7" that no producer writes.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    return undefined;
  }
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
};

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

/** Decides whether the evidence may be acted on; the first failed rule is the refusal. */
export const admitFinding = (finding: ThrottleFinding, bounds: AdmissionBounds): Admission => {
  if (finding.cluster !== bounds.cluster) {
    return { admitted: false, refusal: 'foreign-cluster', reason: `the finding is about cluster ${quote(finding.cluster)}; this remediator acts only on ${quote(bounds.cluster)}` };
  }
  const names = invalidNames(finding);
  if (names.length > 0) {
    return { admitted: false, refusal: 'invalid-name', reason: names.join('; ') };
  }
  const start = parseTime(finding.observedWindow.start);
  const end = parseTime(finding.observedWindow.end);
  const now = bounds.now.getTime();
  if (start === undefined || end === undefined || start > end) {
    // Evidence that cannot be placed in time cannot be shown to be fresh.
    return { admitted: false, refusal: 'stale', reason: `the observed window ${quote(finding.observedWindow.start)} to ${quote(finding.observedWindow.end)} is not a span of RFC 3339 times` };
  }
  if (end > now + CLOCK_SKEW_ALLOWANCE_MS) {
    return { admitted: false, refusal: 'future', reason: `the observed window ends ${seconds(end - now)} after now (${new Date(now).toISOString()}); at most ${seconds(CLOCK_SKEW_ALLOWANCE_MS)} of clock skew is allowed` };
  }
  if (end < now - bounds.maxEvidenceAgeMs) {
    return {
      admitted: false,
      refusal: 'stale',
      reason: `the observed window ended ${seconds(now - end)} ago, more than the ${seconds(bounds.maxEvidenceAgeMs)} evidence may age (REMEDIATION_MAX_EVIDENCE_AGE); newer runs describe the workload`,
    };
  }
  return { admitted: true };
};
