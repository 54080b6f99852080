/**
 * The remediation policy: who opted in, and the guardrails in force for one workload.
 *
 * The cluster operator sets the defaults and the limits (function config); a namespace opts in with a
 * label, and namespace annotations, then workload annotations, tighten (never loosen) the
 * guardrails; a workload can also opt in or out on its own:
 *
 * | key | where | meaning |
 * | --- | --- | --- |
 * | `kernel.gossip.io/remediation=enabled` | namespace label or workload annotation | opt in |
 * | `kernel.gossip.io/remediation=disabled` | workload annotation | opt out, even in an opted-in namespace |
 * | `kernel.gossip.io/remediation-mode` | annotation | `off`, `recommend` or `apply`; at most the operator's mode |
 * | `kernel.gossip.io/max-step-factor` | annotation | largest factor one change may apply, at most the operator's |
 * | `kernel.gossip.io/cpu-limit-ceiling` | annotation | highest CPU limit (`1500m`, `2`), at most the operator's |
 * | `kernel.gossip.io/cooldown` | annotation | time between two changes (`30m`, `2h`), at least the operator's |
 * | `kernel.gossip.io/min-consecutive-windows` | annotation | consecutive throttled windows before acting, at least the operator's |
 *
 * Pure: no I/O; callers pass labels and annotations in.
 *
 * @module
 */
// Not re-exported by the package index; the package has no `exports` map, and its version is pinned exactly.
import { quantityToScalar } from '@kubernetes/client-node/dist/util.js';
import { DEFAULT_THROTTLE_CONFIG } from '../analysis/throttle-config.ts';
import { parseDuration } from '../duration.ts';

export const REMEDIATION_MODES = ['off', 'recommend', 'apply'] as const;
export type RemediationMode = (typeof REMEDIATION_MODES)[number];

export const POLICY_KEYS = {
  optIn: 'kernel.gossip.io/remediation',
  mode: 'kernel.gossip.io/remediation-mode',
  maxStep: 'kernel.gossip.io/max-step-factor',
  ceiling: 'kernel.gossip.io/cpu-limit-ceiling',
  cooldown: 'kernel.gossip.io/cooldown',
  minWindows: 'kernel.gossip.io/min-consecutive-windows',
} as const;

/** Namespaces never touched, whatever their labels say. */
export const PROTECTED_NAMESPACES: readonly string[] = ['kube-system'];

/** The operator's policy: defaults and upper bounds for every workload. */
export interface RemediationPolicy {
  readonly mode: RemediationMode;
  /** Largest factor between the new and the current limit (e.g. 2 = at most double). */
  readonly maxStepFactor: number;
  /** Highest limit ever set, in millicores. */
  readonly ceilingMillicores: number;
  /** Least time between two changes of one workload. */
  readonly cooldownMs: number;
  /** Consecutive windows with an actionable verdict before acting. */
  readonly minConsecutiveWindows: number;
  /** Most changes applied for one observe window across the cluster. */
  readonly maxActionsPerRun: number;
  /** Also resize running pods in place (`pods/resize`, Kubernetes 1.33+). */
  readonly resizeInPlace: boolean;
  /** Namespaces never touched in addition to {@link PROTECTED_NAMESPACES}. */
  readonly deniedNamespaces: readonly string[];
}

/** Documented defaults: conservative (recommend only), steps that at most double, 4 CPUs, 1 h cooldown. */
export const DEFAULT_POLICY: RemediationPolicy = {
  mode: 'recommend',
  maxStepFactor: 2,
  ceilingMillicores: 4000,
  cooldownMs: 3_600_000,
  minConsecutiveWindows: 3,
  maxActionsPerRun: 10,
  resizeInPlace: false,
  deniedNamespaces: [],
};

/** The policy in force for one workload, and whether it may be touched at all. */
export interface EffectivePolicy {
  readonly optedIn: boolean;
  /** Why the workload is or is not in scope. */
  readonly scope: string;
  readonly policy: RemediationPolicy;
  /** Annotations that could not be read; they are ignored (the operator's value stays), and reported. */
  readonly problems: readonly string[];
}

const MODE_RANK: Readonly<Record<RemediationMode, number>> = { off: 0, recommend: 1, apply: 2 };

/**
 * A CPU quantity (`250m`, `1.5`, `2`, `1k`) in millicores, rounded up to a whole millicore as
 * Kubernetes rounds CPU; undefined when it is not a positive quantity. Parsed by
 * @kubernetes/client-node's own quantity parser (`quantityToScalar`, `dist/util.js` of the pinned
 * 2.0.1: decimal and binary suffixes, exponents), so a limit the API server wrote in canonical form
 * (`1k` for 1000 cores) reads as the server meant it.
 */
export const parseCpuMillicores = (quantity: string): number | undefined => {
  let cores: number | bigint;
  try {
    cores = quantityToScalar(quantity);
  } catch {
    return undefined;
  }
  // The parser divides `m` quantities by 1000 in floating point: round back to a millionth of a
  // millicore before rounding up, so `100m` is 100, not 101.
  const millicores = typeof cores === 'bigint' ? Number(cores) * 1000 : Math.round(cores * 1e9) / 1e6;
  return Number.isFinite(millicores) && millicores > 0 ? Math.ceil(millicores) : undefined;
};

/** Formats millicores the way Kubernetes writes CPU quantities. */
export const formatCpu = (millicores: number): string => (millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`);

/**
 * Combines the operator's policy with the namespace labels and workload annotations. Annotations
 * may only tighten: a lower mode, a smaller step, a lower ceiling, a longer cooldown, more windows.
 */
export const effectivePolicy = (
  operator: RemediationPolicy,
  namespace: string,
  namespaceLabels: Readonly<Record<string, string>>,
  annotations: Readonly<Record<string, string>>,
  namespaceAnnotations: Readonly<Record<string, string>> = {},
): EffectivePolicy => {
  const problems: string[] = [];
  if (PROTECTED_NAMESPACES.includes(namespace) || operator.deniedNamespaces.includes(namespace)) {
    return { optedIn: false, scope: `namespace ${namespace} is never remediated`, policy: operator, problems };
  }
  const workloadChoice = annotations[POLICY_KEYS.optIn];
  const namespaceChoice = namespaceLabels[POLICY_KEYS.optIn];
  let optedIn: boolean;
  let scope: string;
  if (workloadChoice === 'disabled') {
    optedIn = false;
    scope = `workload annotation ${POLICY_KEYS.optIn}=disabled`;
  } else if (workloadChoice === 'enabled') {
    optedIn = true;
    scope = `workload annotation ${POLICY_KEYS.optIn}=enabled`;
  } else if (namespaceChoice === 'enabled') {
    optedIn = true;
    scope = `namespace label ${POLICY_KEYS.optIn}=enabled`;
  } else {
    optedIn = false;
    scope = `not opted in (no ${POLICY_KEYS.optIn}=enabled label on the namespace or annotation on the workload)`;
  }
  if (workloadChoice !== undefined && workloadChoice !== 'enabled' && workloadChoice !== 'disabled') {
    problems.push(`${POLICY_KEYS.optIn}=${workloadChoice.slice(0, 40)} is neither enabled nor disabled`);
  }

  let { mode, maxStepFactor, ceilingMillicores, cooldownMs, minConsecutiveWindows } = operator;
  // Namespace annotations first, then the workload's: each may only tighten what it is given.
  const read = <T>(key: string, parse: (raw: string) => T | undefined, apply: (value: T) => void): void => {
    for (const [where, source] of [['namespace', namespaceAnnotations], ['workload', annotations]] as const) {
      const raw = source[key];
      if (raw === undefined) {
        continue;
      }
      const value = parse(raw);
      if (value === undefined) {
        problems.push(`${where} annotation ${key}=${raw.slice(0, 40)} is not valid; ignored`);
        continue;
      }
      apply(value);
    }
  };
  read(
    POLICY_KEYS.mode,
    (raw) => REMEDIATION_MODES.find((m) => m === raw.trim()),
    (value) => {
      if (MODE_RANK[value] < MODE_RANK[mode]) {
        mode = value;
      }
    },
  );
  read(
    POLICY_KEYS.maxStep,
    (raw) => {
      const value = Number(raw);
      return Number.isFinite(value) && value > 1 ? value : undefined;
    },
    (value) => {
      maxStepFactor = Math.min(maxStepFactor, value);
    },
  );
  read(POLICY_KEYS.ceiling, parseCpuMillicores, (value) => {
    ceilingMillicores = Math.min(ceilingMillicores, value);
  });
  read(POLICY_KEYS.cooldown, parseDuration, (value) => {
    cooldownMs = Math.max(cooldownMs, value);
  });
  read(
    POLICY_KEYS.minWindows,
    // More windows than observe-throttle reads could never be reached: such a value is reported, not a silent "never".
    (raw) => (/^\d+$/.test(raw.trim()) && Number(raw) >= 1 && Number(raw) <= DEFAULT_THROTTLE_CONFIG.consecutiveWindows ? Number(raw) : undefined),
    (value) => {
      minConsecutiveWindows = Math.max(minConsecutiveWindows, value);
    },
  );
  return {
    optedIn,
    scope,
    policy: { ...operator, mode, maxStepFactor, ceilingMillicores, cooldownMs, minConsecutiveWindows },
    problems,
  };
};
