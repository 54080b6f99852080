import { describe, expect, it } from 'vitest';
import { admitFinding, CLOCK_SKEW_ALLOWANCE_MS, invalidNames, isDns1123Label, isDns1123Subdomain } from '../../../shared/kube/admission.ts';
import type { ThrottleFinding } from '../../../shared/findings/types.ts';
import { sampleThrottle } from '../../support/findings.ts';

const NOW = new Date('2026-12-04T12:00:00.000Z');
const MAX_AGE_MS = 15 * 60_000;
const bounds = { cluster: 'lab', maxEvidenceAgeMs: MAX_AGE_MS, now: NOW };

/** A throttle finding whose window ended `endAgoMs` before NOW. */
const endingAgo = (endAgoMs: number, changes: Partial<ThrottleFinding> = {}): ThrottleFinding => {
  const end = NOW.getTime() - endAgoMs;
  return sampleThrottle({ observedWindow: { start: new Date(end - 60_000).toISOString(), end: new Date(end).toISOString(), seconds: 60 }, ...changes });
};

describe('admitFinding', () => {
  it('admits a fresh finding about this cluster with valid names', () => {
    expect(admitFinding(endingAgo(30_000), bounds)).toEqual({ admitted: true });
  });

  it('refuses another cluster before anything else, naming both', () => {
    const admission = admitFinding(endingAgo(30_000, { cluster: 'prod-eu-2' }), bounds);
    expect(admission).toMatchObject({ admitted: false, refusal: 'foreign-cluster' });
    expect(admission.admitted ? '' : admission.reason).toMatch(/"prod-eu-2".*"lab"/);
  });

  it.each([
    ['inside the skew allowance', -(CLOCK_SKEW_ALLOWANCE_MS - 1000), true],
    ['just past the skew allowance', -(CLOCK_SKEW_ALLOWANCE_MS + 1000), false],
    ['in 2030', NOW.getTime() - Date.parse('2030-01-01T00:00:00Z'), false],
  ])('a window ending %s is admitted: %s (else refused as future)', (_name, agoMs, admitted) => {
    expect(admitFinding(endingAgo(agoMs), bounds)).toMatchObject(admitted ? { admitted: true } : { admitted: false, refusal: 'future' });
  });

  it.each([
    ['exactly at the bound', MAX_AGE_MS, true],
    ['a second past the bound', MAX_AGE_MS + 1000, false],
    ['6 days ago (a backlog within Pub/Sub retention)', 6 * 24 * 3_600_000, false],
  ])('a window ending %s is admitted: %s (else refused as stale, naming the setting)', (_name, agoMs, admitted) => {
    const admission = admitFinding(endingAgo(agoMs), bounds);
    expect(admission).toMatchObject(admitted ? { admitted: true } : { admitted: false, refusal: 'stale' });
    expect(admission.admitted || /REMEDIATION_MAX_EVIDENCE_AGE/.test(admission.reason)).toBe(true);
  });

  it.each([
    ['not RFC 3339', { start: '2026', end: 'March 7', seconds: 60 }],
    ['ending before it starts', { start: '2026-12-04T11:59:00Z', end: '2026-12-04T11:58:00Z', seconds: 60 }],
  ])('refuses a window %s as stale (it cannot be placed in time)', (_name, observedWindow) => {
    expect(admitFinding(sampleThrottle({ observedWindow }), bounds)).toMatchObject({ admitted: false, refusal: 'stale' });
  });

  it.each([
    ['a workload name with a path', { namespace: 'shop', workload: { kind: 'Deployment', name: '../../secrets', container: 'app' } }],
    ['a namespace with a slash', { namespace: 'shop/x', workload: { kind: 'Deployment', name: 'cart', container: 'app' } }],
    ['an upper-case namespace', { namespace: 'Shop', workload: { kind: 'Deployment', name: 'cart', container: 'app' } }],
    ['a container name with a newline (it would reach the patch YAML)', { namespace: 'shop', workload: { kind: 'Deployment', name: 'cart', container: 'app\n  evil: 1' } }],
    ['an empty container', { namespace: 'shop', workload: { kind: 'Deployment', name: 'cart', container: '' } }],
    ['a 64-character namespace', { namespace: 'a'.repeat(64), workload: { kind: 'Deployment', name: 'cart', container: 'app' } }],
  ])('refuses %s as invalid-name, before the window is read', (_name, changes) => {
    // The window is stale too: names are checked first, so the reason is the name.
    expect(admitFinding(endingAgo(MAX_AGE_MS * 10, changes), bounds)).toMatchObject({ admitted: false, refusal: 'invalid-name' });
  });

  it('quotes names in reasons with control characters escaped and long values cut', () => {
    const problems = invalidNames({ namespace: `x\n${'y'.repeat(200)}`, workload: { kind: 'Pod', name: 'ok', container: 'app' } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toContain('\n');
    expect(problems[0]!.length).toBeLessThan(140);
  });
});

describe('Kubernetes name rules', () => {
  it.each([
    ['a', true, true],
    ['cart-7d9f8', true, true],
    ['a.b', false, true],
    ['-a', false, false],
    ['a-', false, false],
    ['A', false, false],
    ['a_b', false, false],
    ['', false, false],
    ['a'.repeat(63), true, true],
    ['a'.repeat(64), false, true],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, false, true],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, false, false],
    ['a..b', false, false],
  ])('%j: label %s, subdomain %s', (value, label, subdomain) => {
    expect(isDns1123Label(value)).toBe(label);
    expect(isDns1123Subdomain(value)).toBe(subdomain);
  });
});
