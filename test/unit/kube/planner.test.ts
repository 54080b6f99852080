import { describe, expect, it } from 'vitest';
import { type Finding, type ThrottleFinding } from '../../../shared/findings/types.ts';
import { applyBody, limitPatchYaml, type PlanInput, planRemediation, type WorkloadState } from '../../../shared/kube/planner.ts';
import { DEFAULT_POLICY } from '../../../shared/kube/policy.ts';
import { sampleThrottle } from '../../support/findings.ts';

const operator = { ...DEFAULT_POLICY, mode: 'apply' as const, maxStepFactor: 2, ceilingMillicores: 4000, cooldownMs: 3_600_000, minConsecutiveWindows: 3, maxActionsPerRun: 5 };
const now = new Date('2026-11-27T12:02:00.000Z');

const workload = (overrides: Partial<WorkloadState> = {}): WorkloadState => ({
  kind: 'Deployment',
  apiVersion: 'apps/v1',
  name: 'cart',
  namespace: 'shop',
  resourceVersion: '1234',
  annotations: {},
  labels: {},
  containers: [{ name: 'app', cpuLimitMillicores: 200, cpuRequestMillicores: 100 }],
  hpaOnCpu: false,
  ...overrides,
});

const withThrottle = (changes: Partial<ThrottleFinding['throttle']>): ThrottleFinding => {
  const finding = sampleThrottle();
  return { ...finding, throttle: { ...finding.throttle, ...changes } };
};

const input = (overrides: Partial<PlanInput> = {}): PlanInput => ({
  finding: sampleThrottle(),
  workload: workload(),
  namespaceLabels: { 'kernel.gossip.io/remediation': 'enabled' },
  operator,
  now,
  actionsThisRun: 0,
  ...overrides,
});

describe('planRemediation', () => {
  it('applies the recommended limit when everything allows it', () => {
    const plan = planRemediation(input());
    expect(plan).toMatchObject({ action: 'apply', mode: 'apply', fromLimitMillicores: 200, toLimitMillicores: 400, heldBack: false, forceOwnership: false });
    expect(plan.reason).toBe('metrics-lie: throttled ratio 0.40 for 3 windows; 200m -> 400m');
    expect(plan.patchYaml).toBe(limitPatchYaml(workload(), 'app', 400));
  });

  const cases: [string, Partial<PlanInput>, Partial<ReturnType<typeof planRemediation>>, RegExp][] = [
    ['a kind that is not patched', { workload: workload({ kind: 'DaemonSet' }) }, { action: 'skip' }, /DaemonSet is not remediated/],
    ['a namespace that did not opt in', { namespaceLabels: {} }, { action: 'skip' }, /not opted in/],
    ['kube-system', { workload: workload({ namespace: 'kube-system' }) }, { action: 'skip' }, /never remediated/],
    ['mode off', { operator: { ...operator, mode: 'off' } }, { action: 'skip' }, /mode is off/],
    [
      'the same finding delivered again',
      { workload: workload({ annotations: { 'kernel.gossip.io/last-finding': sampleThrottle().id } }) },
      { action: 'skip' },
      /already acted on/,
    ],
    ['a container that is not there', { workload: workload({ containers: [{ name: 'other', cpuLimitMillicores: 100 }] }) }, { action: 'skip' }, /not in Deployment cart/],
    ['no CPU limit', { workload: workload({ containers: [{ name: 'app' }] }) }, { action: 'skip' }, /no CPU limit/],
    ['a healthy verdict', { finding: withThrottle({ verdict: 'healthy' }) }, { action: 'skip' }, /verdict healthy needs no action/],
    ['an idle-inflated verdict', { finding: withThrottle({ verdict: 'idle-inflated' }) }, { action: 'skip' }, /idle-inflated needs no action/],
    ['too few consecutive windows', { finding: withThrottle({ consecutiveWindows: 2 }) }, { action: 'skip', heldBack: true }, /2 of the 3 consecutive windows/],
    [
      'no recommendation',
      { finding: (() => { const { recommendedLimitMillicores: _r, ...rest } = sampleThrottle().throttle; return { ...sampleThrottle(), throttle: rest }; })() },
      { action: 'skip' },
      /no higher limit recommended/,
    ],
    ['a recommendation at or below the limit', { finding: withThrottle({ recommendedLimitMillicores: 150 }) }, { action: 'skip' }, /no higher limit/],
    ['already at the ceiling', { workload: workload({ containers: [{ name: 'app', cpuLimitMillicores: 4000, cpuRequestMillicores: 1000 }] }), finding: withThrottle({ recommendedLimitMillicores: 6000 }) }, { action: 'skip' }, /at the ceiling/],
    [
      'Guaranteed QoS',
      { workload: workload({ containers: [{ name: 'app', cpuLimitMillicores: 200, cpuRequestMillicores: 200 }] }) },
      { action: 'skip', toLimitMillicores: 400 },
      /Guaranteed QoS/,
    ],
    [
      'the cooldown after a recent change',
      { workload: workload({ annotations: { 'kernel.gossip.io/last-action-at': '2026-11-27T11:30:00.000Z' } }) },
      { action: 'skip', heldBack: true, toLimitMillicores: 400 },
      /cooldown .* lasts until 2026-11-27T12:30:00.000Z/,
    ],
    ['recommend mode', { operator: { ...operator, mode: 'recommend' } }, { action: 'recommend', toLimitMillicores: 400 }, /recommend mode/],
    ['the run budget spent', { actionsThisRun: 5 }, { action: 'skip', heldBack: true }, /5 changes already made for this window \(max 5 per run\)/],
  ];

  it.each(cases)('skips or holds back: %s', (_name, overrides, expected, reason) => {
    const plan = planRemediation(input(overrides));
    expect(plan).toMatchObject(expected);
    expect(plan.reason).toMatch(reason);
  });

  it('bounds a large recommendation by the max step, then by the ceiling', () => {
    expect(planRemediation(input({ finding: withThrottle({ recommendedLimitMillicores: 1000 }) }))).toMatchObject({ toLimitMillicores: 400 });
    expect(planRemediation(input({ finding: withThrottle({ recommendedLimitMillicores: 1000 }) })).reason).toMatch(/bounded by the max step ×2/);
    const big = input({ workload: workload({ containers: [{ name: 'app', cpuLimitMillicores: 3000, cpuRequestMillicores: 500 }] }), finding: withThrottle({ recommendedLimitMillicores: 9000 }) });
    expect(planRemediation(big)).toMatchObject({ action: 'apply', toLimitMillicores: 4000 });
    expect(planRemediation(big).reason).toMatch(/bounded by the ceiling/);
  });

  it('acts again once the cooldown has passed', () => {
    const plan = planRemediation(input({ workload: workload({ annotations: { 'kernel.gossip.io/last-action-at': '2026-11-27T10:00:00.000Z' } }) }));
    expect(plan.action).toBe('apply');
  });

  it('notes an HPA on CPU and takes ownership only with the owner\'s consent', () => {
    const plan = planRemediation(input({ workload: workload({ hpaOnCpu: true, annotations: { 'kernel.gossip.io/take-ownership': 'cpu-limit' } }) }));
    expect(plan.forceOwnership).toBe(true);
    expect(plan.notes.join(' ')).toMatch(/HPA scales this workload on CPU/);
  });
});

describe('applyBody', () => {
  it('holds only the remediator\'s fields, the state annotations and the resourceVersion read', () => {
    const planInput = input();
    const body = applyBody(planRemediation(planInput), planInput);
    expect(body).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'cart',
        namespace: 'shop',
        resourceVersion: '1234',
        annotations: { 'kernel.gossip.io/last-finding': (planInput.finding as Finding).id, 'kernel.gossip.io/last-action-at': now.toISOString() },
        labels: { 'kernel.gossip.io/last-window': String(Date.parse('2026-11-27T12:01:00.000Z') / 1000) },
      },
      spec: { template: { spec: { containers: [{ name: 'app', resources: { limits: { cpu: '400m' } } }] } } },
    });
  });

  it('refuses to build a body for a plan that does not apply', () => {
    const planInput = input({ namespaceLabels: {} });
    expect(() => applyBody(planRemediation(planInput), planInput)).toThrow(/needs an apply plan/);
  });
});
