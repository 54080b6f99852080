/**
 * Environment of the functions that talk to the cluster (`remediate`, `record`).
 *
 * @module
 */
import { boolean, ConfigError, type ConfigOf, duration, type Env, type Field, FieldError, integer, list, number, oneOf, optional, parseConfig, string } from '../config.ts';
import { DURATION_SETTINGS, EVIDENCE_AGE_SCHEDULE_INTERVALS, NUMBER_SETTINGS, SCHEDULE_DEFAULTS, scheduleStepMinutes } from '../settings.ts';
import { DEFAULT_POLICY, REMEDIATION_MODES, type RemediationPolicy } from './policy.ts';

/** Where the cluster is: GKE (name + location, optional DNS endpoint) or a kubeconfig file for local use. */
export const clusterSpec = {
  /** Cluster name in findings and objects. */
  KG_CLUSTER_NAME: string(),
  GKE_CLUSTER_NAME: optional(string()),
  GKE_CLUSTER_LOCATION: optional(string()),
  /** DNS endpoint of the control plane (`gke-….gke.goog`); skips the Container API lookup. */
  GKE_ENDPOINT: optional(string({ pattern: /^[A-Za-z0-9.-]+(:\d+)?$/, expected: 'a host name such as gke-123.us-central1.gke.goog' })),
  GKE_USE_PRIVATE_ENDPOINT: boolean({ default: false }),
  /** A kubeconfig file instead of GKE (local API server, development). */
  KUBECONFIG: optional(string()),
} as const;

/**
 * Default of REMEDIATION_MAX_EVIDENCE_AGE: three intervals of the default throttle schedule
 * (every 5 minutes), as Terraform derives it from the deployed schedule. By then two newer runs
 * have described the workload, and Pub/Sub's retries of a push (10 s to 600 s backoff) have long
 * finished; evidence older than that comes from a backlog, a replay or a dead-letter re-drive and
 * no longer describes the workload.
 */
export const DEFAULT_MAX_EVIDENCE_AGE_MS = EVIDENCE_AGE_SCHEDULE_INTERVALS * scheduleStepMinutes(SCHEDULE_DEFAULTS['observe-throttle']) * 60_000;


const evidenceAge = (): Field<number> => {
  const base = duration({ default: DEFAULT_MAX_EVIDENCE_AGE_MS });
  return {
    ...base,
    expected: 'a duration from 1m to 24h, such as 15m',
    parse: (raw) => {
      const value = base.parse(raw);
      if (value < DURATION_SETTINGS.maxEvidenceAge.minMs || value > DURATION_SETTINGS.maxEvidenceAge.maxMs) {
        throw new FieldError(`${raw} is outside 1m to 24h`);
      }
      return value;
    },
  };
};

export const remediationSpec = {
  ...clusterSpec,
  FINDINGS_TOPIC: string(),
  REMEDIATION_MODE: oneOf(REMEDIATION_MODES, { default: DEFAULT_POLICY.mode }),
  // Bounds and defaults from shared/settings.ts, the declaration Terraform's validations are checked against.
  REMEDIATION_MAX_STEP: number({ min: NUMBER_SETTINGS.maxStep.min, max: NUMBER_SETTINGS.maxStep.max, default: NUMBER_SETTINGS.maxStep.default }),
  REMEDIATION_CEILING_MILLICORES: integer({
    min: NUMBER_SETTINGS.ceilingMillicores.min,
    max: NUMBER_SETTINGS.ceilingMillicores.max,
    default: NUMBER_SETTINGS.ceilingMillicores.default,
  }),
  REMEDIATION_COOLDOWN: duration({ default: DEFAULT_POLICY.cooldownMs }),
  REMEDIATION_MIN_WINDOWS: integer({ min: NUMBER_SETTINGS.minWindows.min, max: NUMBER_SETTINGS.minWindows.max, default: NUMBER_SETTINGS.minWindows.default }),
  // Any count is honoured; Terraform's narrower range (shared/settings.ts) is a blast-radius choice.
  REMEDIATION_MAX_ACTIONS_PER_RUN: integer({ min: 0, max: 10_000, default: NUMBER_SETTINGS.maxActionsPerRun.default }),
  REMEDIATION_RESIZE_IN_PLACE: boolean({ default: DEFAULT_POLICY.resizeInPlace }),
  REMEDIATION_DENIED_NAMESPACES: list({ default: DEFAULT_POLICY.deniedNamespaces }),
  /** How old a finding's window end may be when it arrives and still be acted on. */
  REMEDIATION_MAX_EVIDENCE_AGE: evidenceAge(),
} as const;

export type ClusterConfig = ConfigOf<typeof clusterSpec>;
export type RemediationConfig = ConfigOf<typeof remediationSpec>;

/** The operator's policy from the environment. */
export const policyFromConfig = (config: RemediationConfig): RemediationPolicy => ({
  mode: config.REMEDIATION_MODE,
  maxStepFactor: config.REMEDIATION_MAX_STEP,
  ceilingMillicores: config.REMEDIATION_CEILING_MILLICORES,
  cooldownMs: config.REMEDIATION_COOLDOWN,
  minConsecutiveWindows: config.REMEDIATION_MIN_WINDOWS,
  maxActionsPerRun: config.REMEDIATION_MAX_ACTIONS_PER_RUN,
  resizeInPlace: config.REMEDIATION_RESIZE_IN_PLACE,
  deniedNamespaces: config.REMEDIATION_DENIED_NAMESPACES,
});

/**
 * Parses a cluster-facing spec and checks that it names a cluster: a kubeconfig, a DNS endpoint,
 * or a GKE cluster name and location.
 */
export const parseClusterConfig = <S extends typeof clusterSpec>(spec: S, env: Env): ConfigOf<S> => {
  const set = (name: string): boolean => (env[name] ?? '').trim() !== '';
  const named = set('KUBECONFIG') || set('GKE_ENDPOINT') || (set('GKE_CLUSTER_NAME') && set('GKE_CLUSTER_LOCATION'));
  const targetIssue = {
    variable: 'GKE_CLUSTER_NAME',
    problem: 'missing',
    expected: 'the GKE cluster name with GKE_CLUSTER_LOCATION (or GKE_ENDPOINT, or KUBECONFIG for local use)',
  } as const;
  try {
    const config = parseConfig(spec, env);
    if (!named) {
      throw new ConfigError([targetIssue]);
    }
    return config;
  } catch (error) {
    if (error instanceof ConfigError && !named && !error.issues.includes(targetIssue)) {
      throw new ConfigError([...error.issues, targetIssue]);
    }
    throw error;
  }
};
