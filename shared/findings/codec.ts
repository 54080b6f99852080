/**
 * Findings to Pub/Sub messages and back: Avro JSON bytes that the topic's schema accepts,
 * filtering attributes, the ordering key, and stable ids.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { avroJsonCodec, AvroJsonError } from './avro-json.ts';
import { FINDING_SCHEMA, FINDING_SCHEMA_VERSION } from './schema.ts';
import {
  type Finding,
  FINDING_KINDS,
  type FindingKind,
  REFUSALS,
  REMEDIATION_OUTCOMES,
  type RemediationDetails,
  FINDING_SEVERITIES,
  SOURCES,
} from './types.ts';

const codec = avroJsonCodec<Finding>(FINDING_SCHEMA);

/** Why a message could not be read as a finding. */
export const DECODE_PROBLEMS = ['not-json', 'schema', 'contract'] as const;
export type DecodeProblem = (typeof DECODE_PROBLEMS)[number];

/** A message that is not a valid finding. Never retried: the same bytes will never become valid. */
export class FindingDecodeError extends Error {
  override readonly name = 'FindingDecodeError';
  readonly problem: DecodeProblem;

  constructor(problem: DecodeProblem, message: string, options?: ErrorOptions) {
    super(message, options);
    this.problem = problem;
  }
}

/** The detail field each kind carries; the other two must be absent. */
const DETAIL_FIELD: Readonly<Record<FindingKind, 'throttle' | 'birth' | 'remediation'>> = {
  'cpu.throttle': 'throttle',
  'pod.birth': 'birth',
  'remediation.result': 'remediation',
};

/** Contract rules the Avro schema cannot express (closed word sets, kind/detail agreement). */
export const checkContract = (finding: Finding): void => {
  const problems: string[] = [];
  if (finding.schemaVersion !== FINDING_SCHEMA_VERSION) {
    problems.push(`schemaVersion ${finding.schemaVersion} is not ${FINDING_SCHEMA_VERSION}`);
  }
  if (!(FINDING_KINDS as readonly string[]).includes(finding.kind)) {
    problems.push(`kind ${finding.kind} is not one of ${FINDING_KINDS.join(', ')}`);
  } else {
    const expected = DETAIL_FIELD[finding.kind];
    for (const field of ['throttle', 'birth', 'remediation'] as const) {
      const present = (finding as unknown as Record<string, unknown>)[field] !== undefined;
      if (field === expected && !present) {
        problems.push(`kind ${finding.kind} needs ${field}`);
      } else if (field !== expected && present) {
        problems.push(`kind ${finding.kind} must not carry ${field}`);
      }
    }
  }
  if (!(FINDING_SEVERITIES as readonly string[]).includes(finding.severity)) {
    problems.push(`severity ${finding.severity} is not one of ${FINDING_SEVERITIES.join(', ')}`);
  }
  if (!(SOURCES as readonly string[]).includes(finding.source)) {
    problems.push(`source ${finding.source} is not one of ${SOURCES.join(', ')}`);
  }
  if (!/^[0-9a-f]{32,64}$/.test(finding.id)) {
    problems.push('id is not a hex digest');
  }
  // The detail may be missing (reported above): read it only when present, so a finding without
  // its detail is a contract rejection, never a TypeError.
  const remediation = finding.kind === 'remediation.result' ? (finding.remediation as RemediationDetails | undefined) : undefined;
  if (remediation !== undefined) {
    if (!(REMEDIATION_OUTCOMES as readonly string[]).includes(remediation.outcome)) {
      problems.push(`remediation.outcome ${remediation.outcome} is not one of ${REMEDIATION_OUTCOMES.join(', ')}`);
    }
    if (remediation.refusal !== undefined && !(REFUSALS as readonly string[]).includes(remediation.refusal)) {
      problems.push(`remediation.refusal ${remediation.refusal} is not one of ${REFUSALS.join(', ')}`);
    }
    if (remediation.refusal !== undefined && remediation.outcome !== 'skipped') {
      problems.push(`a refused finding is skipped, not ${remediation.outcome}`);
    }
  }
  if (problems.length > 0) {
    throw new FindingDecodeError('contract', `finding breaks the contract: ${problems.join('; ')}`);
  }
};

/** Serialises a finding to the bytes published on the topic (Avro JSON, UTF-8). */
export const encodeFinding = (finding: Finding): Buffer => {
  checkContract(finding);
  return Buffer.from(JSON.stringify(codec.toWire(finding)), 'utf8');
};

/** Reads a finding from message bytes, checking the schema and the contract. */
export const decodeFinding = (data: Uint8Array): Finding => {
  let wire: unknown;
  try {
    wire = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (error) {
    throw new FindingDecodeError('not-json', 'message data is not JSON', { cause: error });
  }
  let finding: Finding;
  try {
    finding = codec.fromWire(wire);
  } catch (error) {
    if (error instanceof AvroJsonError) {
      throw new FindingDecodeError('schema', `message does not fit the finding schema: ${error.message}`, { cause: error });
    }
    throw error;
  }
  checkContract(finding);
  return finding;
};

/** Attributes for subscription filters; values are strings, as Pub/Sub requires. */
export const findingAttributes = (finding: Finding): Record<string, string> => ({
  kind: finding.kind,
  cluster: finding.cluster,
  namespace: finding.namespace,
  severity: finding.severity,
  schemaVersion: finding.schemaVersion,
  findingId: finding.id,
  workload: `${finding.workload.kind}/${finding.workload.name}`,
});

/** Findings of one workload are delivered in order; workloads do not block each other. */
export const orderingKey = (finding: Pick<Finding, 'cluster' | 'namespace' | 'workload'>): string =>
  `${finding.cluster}/${finding.namespace}/${finding.workload.kind}/${finding.workload.name}`;

/** JSON with object keys sorted at every level, so equal values always hash equally. */
const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(typeof value === 'bigint' ? value.toString() : value) ;
};

/**
 * A stable finding id: SHA-256 (hex, 32 chars) over the kind and the evidence. The same evidence
 * (same cluster, workload, window and kernel counters) always gives the same id, so a re-run of a
 * window or a redelivered message is recognisable downstream.
 */
export const stableId = (kind: FindingKind, evidence: unknown): string =>
  createHash('sha256').update(kind).update('\n').update(canonicalJson(evidence)).digest('hex').slice(0, 32);
