/**
 * Generated pushes for the `remediate` function: schema-valid findings with random clusters,
 * windows, names, kinds and numbers, each built with at most one known defect so the expected
 * answer is known without asking the code under test, and malformed push bodies of every shape.
 * Used by test/integration/remediate/fuzz.test.ts (small, in `npm test`) and
 * test/bench/remediate-fuzz.ts (the large run recorded in docs/benchmarks.md).
 */
import { randomBytes } from 'node:crypto';
import { encodeFinding, stableId } from '../../shared/findings/codec.ts';
import type { Finding, Refusal, ThrottleFinding } from '../../shared/findings/types.ts';
import { sampleBirth, sampleRemediation, sampleThrottle } from './findings.ts';
import { pushBody } from './functions.ts';

type Random = () => number;
const pick = <T>(random: Random, values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
const between = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

/** A workload of the cluster under test that findings may name. */
export interface FuzzWorkload {
  readonly namespace: string;
  readonly name: string;
  readonly pod: string;
}

export interface FuzzContext {
  /** The remediator's KG_CLUSTER_NAME. */
  readonly cluster: string;
  readonly maxEvidenceAgeMs: number;
  readonly workloads: readonly FuzzWorkload[];
  readonly now: () => number;
}

/** What a generated push must get: a refusal, a decision, an ignored kind, or a rejection. */
export type Expectation = { readonly refusal: Refusal } | { readonly decision: true } | { readonly ignored: Finding['kind'] } | { readonly rejected: true };

export interface GeneratedPush {
  readonly label: string;
  readonly contentType: string | undefined;
  readonly body: string | Buffer;
  readonly expect: Expectation;
}

const FOREIGN_CLUSTERS = ['prod-eu-2', '', 'LAB', 'lab ', 'lab\n', '../lab', 'a'.repeat(300), 'クラスタ'];
const BAD_NAMESPACES = ['../x', 'Shop', 'a'.repeat(64), '', 'shop/x', 'shop%2Fx', '-shop', 'shop.x', ' shop', 'kube system'];
const BAD_WORKLOAD_NAMES = ['../../secrets', 'a/b', '%2e%2e', 'UPPER', 'a'.repeat(254), '', '..', 'x?y=1', 'x#y', 'ünï', 'a..b', '-a', 'a\u0000b'];
const BAD_CONTAINERS = ['', 'APP', 'a\nb: 1', 'a'.repeat(64), 'a.b', 'a/b', '-a'];
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Pod', 'ReplicaSet', 'DaemonSet', 'Secret', 'Job', '', 'deployment', 'X'.repeat(100)];

const iso = (ms: number): string => new Date(ms).toISOString();

/** Random throttle numbers, absurd ones included (the planner bounds them); half keep the sample's actionable ones. */
const randomThrottle = (random: Random, base: ThrottleFinding['throttle']): ThrottleFinding['throttle'] => {
  if (random() < 0.5) {
    return base;
  }
  const { recommendedLimitMillicores: _dropped, ...rest } = base;
  const recommended = pick(random, [undefined, 0, 1, between(random, 100, 8000), 1e12, 9_007_199_254_740_991]);
  return {
    ...rest,
    verdict: pick(random, ['metrics-lie', 'metrics-lie', 'healthy', 'starved', 'unknown-verdict']),
    throttledRatio: pick(random, [0, 0.4, 1, -1, 2.5, 1e300]),
    limitMillicores: pick(random, [0, 1, 200, between(random, 1, 100_000), 1e15]),
    ...(recommended === undefined ? {} : { recommendedLimitMillicores: recommended }),
    consecutiveWindows: pick(random, [0, 1, 3, 3, 5, 2_147_483_647]),
    actionRecommended: random() < 0.8,
  };
};

/** One schema-valid finding with at most one defect, and the answer it must get. */
export const generateFinding = (random: Random, context: FuzzContext): { finding: Finding; label: string; expect: Expectation } => {
  const now = context.now();
  const base = sampleThrottle();
  const target = pick(random, context.workloads);
  const kind = pick(random, ['Deployment', 'Deployment', 'Pod', 'StatefulSet', 'ReplicaSet', 'DaemonSet', 'Secret']);
  // Fresh with room to spare: a long run posts a finding minutes after it was made.
  const endAgo = between(random, 0, Math.floor(context.maxEvidenceAgeMs / 3));
  const fresh = { start: iso(now - endAgo - 60_000), end: iso(now - endAgo), seconds: 60 };
  let finding: ThrottleFinding = {
    ...base,
    cluster: context.cluster,
    namespace: random() < 0.85 ? target.namespace : pick(random, ['kube-system', 'batch', 'default', 'absent-ns']),
    workload: { kind, name: kind === 'Pod' ? target.pod : random() < 0.9 ? target.name : `missing-${between(random, 1, 99)}`, container: random() < 0.9 ? 'app' : 'sidecar' },
    observedWindow: fresh,
    throttle: randomThrottle(random, base.throttle),
  };
  const defect = pick(random, ['none', 'none', 'foreign-cluster', 'future', 'stale', 'stale-unparsable', 'invalid-namespace', 'invalid-name', 'invalid-container', 'other-kind', 'odd-kind'] as const);
  let label: string = defect;
  let expect: Expectation = { decision: true };
  switch (defect) {
    case 'foreign-cluster':
      finding = { ...finding, cluster: pick(random, FOREIGN_CLUSTERS) };
      expect = { refusal: 'foreign-cluster' };
      break;
    case 'future': {
      // At least 15 minutes ahead, so it is still ahead of the skew allowance when a long run posts it.
      const ahead = pick(random, [between(random, 15 * 60_000, 3_600_000), between(random, 1, 5) * 365 * 86_400_000, Date.parse('2030-06-01T00:00:00Z') - now]);
      finding = { ...finding, observedWindow: { start: iso(now + ahead - 60_000), end: iso(now + ahead), seconds: 60 } };
      expect = { refusal: 'future' };
      break;
    }
    case 'stale': {
      const ago = context.maxEvidenceAgeMs + pick(random, [60_000, between(random, 60_000, 7 * 86_400_000), 6 * 86_400_000]);
      finding = { ...finding, observedWindow: { start: iso(now - ago - 60_000), end: iso(now - ago), seconds: 60 } };
      expect = { refusal: 'stale' };
      break;
    }
    case 'stale-unparsable':
      finding = { ...finding, observedWindow: pick(random, [{ start: '2030', end: '2031', seconds: 60 }, { start: '', end: '', seconds: 0 }, { start: fresh.end, end: fresh.start, seconds: -60 }, { start: 'yesterday', end: 'now', seconds: 1 }]) };
      expect = { refusal: 'stale' };
      break;
    case 'invalid-namespace':
      finding = { ...finding, namespace: pick(random, BAD_NAMESPACES) };
      expect = { refusal: 'invalid-name' };
      break;
    case 'invalid-name':
      finding = { ...finding, workload: { ...finding.workload, name: pick(random, BAD_WORKLOAD_NAMES) } };
      expect = { refusal: 'invalid-name' };
      break;
    case 'invalid-container':
      finding = { ...finding, workload: { ...finding.workload, container: pick(random, BAD_CONTAINERS) } };
      expect = { refusal: 'invalid-name' };
      break;
    case 'odd-kind':
      // A workload kind the remediator does not change: decided (skipped), never refused.
      finding = { ...finding, workload: { ...finding.workload, kind: pick(random, WORKLOAD_KINDS) } };
      break;
    case 'other-kind': {
      const other = random() < 0.5 ? sampleBirth() : sampleRemediation();
      const changed = { ...other, cluster: random() < 0.5 ? context.cluster : pick(random, FOREIGN_CLUSTERS), id: stableId(other.kind, { n: random() }) };
      return { finding: changed, label: `other-kind:${other.kind}`, expect: { ignored: other.kind } };
    }
    case 'none':
      label = 'admissible';
      break;
  }
  finding = { ...finding, id: stableId('cpu.throttle', { n: random(), label }) };
  return { finding, label, expect };
};

const JSON_TYPE = 'application/json';

/** Malformed push bodies: not JSON, JSON of the wrong shape, envelopes whose data is not a finding. */
export const generateMalformed = (random: Random, context: FuzzContext): GeneratedPush => {
  const id = (): string => `m-${Math.floor(random() * 1e9)}`;
  const valid = (): Record<string, unknown> => JSON.parse(encodeFinding({ ...sampleThrottle(), cluster: context.cluster }).toString('utf8')) as Record<string, unknown>;
  const wrapped = (data: Buffer | string): string => JSON.stringify(pushBody(data, id()));
  const makers: readonly (() => { label: string; body: string | Buffer; contentType?: string | undefined })[] = [
    () => ({ label: 'not JSON', body: pick(random, ['not json', '{', '{"message":', "{'a':1}", '<html></html>', '\u0000\u0001', 'NaN', 'undefined']) }),
    () => ({ label: 'JSON null', body: 'null' }),
    () => ({ label: 'JSON scalar', body: pick(random, ['1', '"s"', 'true', '[]', '[1,2]', '{}']) }),
    () => ({ label: 'random bytes', body: randomBytes(between(random, 1, 512)) }),
    () => ({ label: 'random bytes as octet-stream', body: randomBytes(between(random, 1, 512)), contentType: 'application/octet-stream' }),
    () => ({ label: 'text body', body: 'hello', contentType: 'text/plain' }),
    () => ({ label: 'no content type', body: '{"message":{}}', contentType: undefined }),
    () => ({ label: 'deep nesting', body: `${'['.repeat(5000)}${']'.repeat(5000)}` }),
    () => ({ label: 'message not an object', body: JSON.stringify({ message: pick(random, [null, 1, 'x', [], true]) }) }),
    () => ({ label: 'message without id', body: JSON.stringify({ message: { data: Buffer.from(JSON.stringify(valid())).toString('base64') } }) }),
    () => ({ label: 'message id not a string', body: JSON.stringify({ message: { messageId: 42, data: 'e30=' } }) }),
    () => ({ label: 'data not a string', body: JSON.stringify({ message: { messageId: id(), data: pick(random, [null, 1, {}, []]) } }) }),
    () => ({ label: 'bad base64', body: wrapped(pick(random, ['%%%', 'abc', '====', 'a b c'])) }),
    () => ({ label: 'base64 of random bytes', body: wrapped(randomBytes(between(random, 1, 256))) }),
    () => ({ label: 'base64 of JSON null', body: wrapped(Buffer.from('null')) }),
    () => ({ label: 'base64 of a JSON scalar', body: wrapped(Buffer.from(pick(random, ['1', '"x"', '[]', '{}']))) }),
    () => {
      // Fields that are set: a null one may have a default, and then its absence is valid.
      const wire = valid();
      const field = pick(random, Object.keys(wire).filter((key) => wire[key] !== null));
      const without = Object.fromEntries(Object.entries(wire).filter(([key]) => key !== field));
      return { label: `finding without ${field}`, body: wrapped(Buffer.from(JSON.stringify(without))) };
    },
    () => {
      // A value of another JSON type than the field holds, so it cannot fit the field's schema.
      const wire = valid();
      const field = pick(random, Object.keys(wire));
      const value = wire[field];
      wire[field] = typeof value === 'string' ? pick(random, [42, null, [], {}, true]) : typeof value === 'number' ? pick(random, ['x', null, []]) : pick(random, [42, 'x', true]);
      return { label: `finding with a wrong ${field}`, body: wrapped(Buffer.from(JSON.stringify(wire))) };
    },
    () => ({ label: 'finding with an extra field', body: wrapped(Buffer.from(JSON.stringify({ ...valid(), extra: 1 }))) }),
    () => ({ label: 'finding of an unknown kind', body: wrapped(Buffer.from(JSON.stringify({ ...valid(), kind: pick(random, ['cpu.steal', '', 'CPU.THROTTLE']) }))) }),
    () => {
      const wire = JSON.parse(encodeFinding(sampleRemediation()).toString('utf8')) as Record<string, unknown>;
      wire['remediation'] = null;
      return { label: 'remediation.result without remediation', body: wrapped(Buffer.from(JSON.stringify(wire))) };
    },
    () => ({ label: 'throttle finding without throttle', body: wrapped(Buffer.from(JSON.stringify({ ...valid(), throttle: null }))) }),
    () => ({ label: 'attributes not strings', body: JSON.stringify({ ...pushBody(Buffer.from(JSON.stringify(valid())), id()), message: { messageId: id(), data: Buffer.from(JSON.stringify(valid())).toString('base64'), attributes: { kind: 1 } } }) }),
  ];
  const made = pick(random, makers)();
  return { label: made.label, body: made.body, contentType: 'contentType' in made ? made.contentType : JSON_TYPE, expect: { rejected: true } };
};

/** A generated finding as a push body. */
export const findingPush = (random: Random, context: FuzzContext): GeneratedPush => {
  const { finding, label, expect } = generateFinding(random, context);
  return { label, contentType: JSON_TYPE, body: JSON.stringify(pushBody(encodeFinding(finding), `f-${Math.floor(random() * 1e12)}`)), expect };
};

export interface PushAnswer {
  readonly push: GeneratedPush;
  readonly status: number;
  readonly json: boolean;
  readonly body: Record<string, unknown> | undefined;
}

/** Posts every push, `concurrency` at a time, and keeps each answer. */
export const postAll = async (url: string, pushes: readonly GeneratedPush[], concurrency: number): Promise<PushAnswer[]> => {
  const answers: PushAnswer[] = new Array<PushAnswer>(pushes.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < pushes.length; i = next++) {
      const push = pushes[i]!;
      const response = await fetch(url, {
        method: 'POST',
        headers: push.contentType === undefined ? {} : { 'content-type': push.contentType },
        body: typeof push.body === 'string' ? push.body : new Uint8Array(push.body),
      });
      const text = await response.text();
      let body: Record<string, unknown> | undefined;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = undefined;
      }
      answers[i] = { push, status: response.status, json: (response.headers.get('content-type') ?? '').startsWith('application/json') && body !== undefined, body };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
};

/** Answers that do not match what their push must get, described for the assertion message. */
export const mismatches = (answers: readonly PushAnswer[]): string[] =>
  answers.flatMap((answer) => {
    const { expect } = answer.push;
    const body = answer.body ?? {};
    const ok =
      answer.status === 200 &&
      answer.json &&
      ('refusal' in expect
        ? body['outcome'] === 'skipped' && body['refusal'] === expect.refusal
        : 'decision' in expect
          ? typeof body['outcome'] === 'string' && body['refusal'] === undefined
          : 'ignored' in expect
            ? body['ignored'] === expect.ignored
            : body['acknowledged'] === true && typeof body['rejected'] === 'string');
    return ok ? [] : [`${answer.push.label}: expected ${JSON.stringify(expect)}, got ${answer.status} ${JSON.stringify(answer.body)}`];
  });

/** Log events that record what was done with one push; each push logs exactly one. */
export const DECISION_EVENTS = new Set(['remediation.decided', 'remediation.refused', 'push.ignored', 'push.rejected']);
