import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSchemaFile, SCHEMA_FILE } from '../../../dev/build/schema.ts';
import {
  decodeFinding,
  encodeFinding,
  findingAttributes,
  FindingDecodeError,
  orderingKey,
  stableId,
} from '../../../shared/findings/codec.ts';
import type { Finding } from '../../../shared/findings/types.ts';
import { sampleBirth, sampleRemediation, sampleThrottle } from '../../support/findings.ts';

const wireOf = (finding: Finding): Record<string, unknown> => JSON.parse(encodeFinding(finding).toString('utf8')) as Record<string, unknown>;

describe('finding codec', () => {
  it.each([
    ['cpu.throttle', sampleThrottle()],
    ['pod.birth', sampleBirth()],
    ['remediation.result', sampleRemediation()],
  ] as const)('round-trips a %s finding', (_kind, finding) => {
    expect(decodeFinding(encodeFinding(finding))).toEqual(finding);
  });

  it('writes Avro JSON: every field present, absent values null, union values wrapped', () => {
    const wire = wireOf(sampleThrottle());
    expect(wire['birth']).toBeNull();
    expect(wire['remediation']).toBeNull();
    const throttle = (wire['throttle'] as Record<string, Record<string, unknown>>)['io.gossip.kernel.v1.Throttle']!;
    expect(throttle['meanUseOfLimit']).toEqual({ double: 0.31 });
    expect(throttle['recommendedLimitMillicores']).toEqual({ long: 400 });
    const pod = (throttle['pods'] as Record<string, unknown>[])[0]!;
    expect((pod['counters'] as Record<string, unknown>)['bursts']).toEqual({ long: 0 });
  });

  it('keeps unmeasured values absent, never zero', () => {
    const finding = sampleThrottle();
    const { meanUseOfLimit: _dropped, ...rest } = finding.throttle;
    const decoded = decodeFinding(encodeFinding({ ...finding, throttle: rest }));
    expect(decoded.kind === 'cpu.throttle' && 'meanUseOfLimit' in decoded.throttle).toBe(false);
  });

  const wire = (): Record<string, unknown> => wireOf(sampleRemediation());
  const bad: { name: string; data: () => Buffer; problem: string; message: RegExp }[] = [
    { name: 'bytes that are not JSON', data: () => Buffer.from('{"kind":'), problem: 'not-json', message: /not JSON/ },
    { name: 'a JSON array', data: () => Buffer.from('[]'), problem: 'schema', message: /expected object/ },
    {
      name: 'an unknown field',
      data: () => Buffer.from(JSON.stringify({ ...wire(), extra: 1 })),
      problem: 'schema',
      message: /unknown field extra/,
    },
    {
      name: 'a missing field',
      data: () => {
        const { summary: _s, ...rest } = wire();
        return Buffer.from(JSON.stringify(rest));
      },
      problem: 'schema',
      message: /summary: is missing/,
    },
    {
      name: 'a wrong type deep inside',
      data: () => {
        const w = wire();
        const remediation = (w['remediation'] as Record<string, Record<string, unknown>>)['io.gossip.kernel.v1.Remediation']!;
        remediation['podsResized'] = 'two';
        return Buffer.from(JSON.stringify(w));
      },
      problem: 'schema',
      message: /remediation\.podsResized: expected int/,
    },
    {
      name: 'an unwrapped union value',
      data: () => {
        const w = wire();
        w['remediation'] = { findingId: 'x' };
        return Buffer.from(JSON.stringify(w));
      },
      problem: 'schema',
      message: /union branch "findingId"/,
    },
    {
      name: 'a kind that does not match its details',
      data: () => Buffer.from(JSON.stringify({ ...wire(), kind: 'cpu.throttle' })),
      problem: 'contract',
      message: /kind cpu.throttle needs throttle/,
    },
    {
      name: 'an unknown severity and schema version',
      data: () => Buffer.from(JSON.stringify({ ...wire(), severity: 'meh', schemaVersion: '9' })),
      problem: 'contract',
      message: /schemaVersion 9 is not 1.*severity meh/,
    },
  ];

  it.each(bad)('rejects $name', ({ data, problem, message }) => {
    let caught: unknown;
    try {
      decodeFinding(data());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FindingDecodeError);
    expect((caught as FindingDecodeError).problem).toBe(problem);
    expect((caught as Error).message).toMatch(message);
  });

  it('decodes a birth written before birth.captured existed with its schema default, as Avro resolution does', () => {
    const wire = JSON.parse(encodeFinding(sampleBirth()).toString('utf8')) as { birth: Record<string, Record<string, unknown>> };
    const birth = wire.birth['io.gossip.kernel.v1.Birth']!;
    delete birth['captured'];
    const decoded = decodeFinding(Buffer.from(JSON.stringify(wire)));
    expect(decoded.kind === 'pod.birth' ? decoded.birth.captured : undefined).toEqual([]);
    // A field without a default stays required.
    delete birth['node'];
    expect(() => decodeFinding(Buffer.from(JSON.stringify(wire)))).toThrow(/birth\.node: is missing/);
  });

  it('rejects a remediation.result without its remediation detail as a contract breach, not a TypeError', () => {
    const wire = wireOf(sampleRemediation());
    wire['remediation'] = null;
    expect(() => decodeFinding(Buffer.from(JSON.stringify(wire)))).toThrow(FindingDecodeError);
    expect(() => decodeFinding(Buffer.from(JSON.stringify(wire)))).toThrow(/needs remediation/);
  });

  it('reads a remediation.result written before remediation.refusal existed, and checks a refusal it carries', () => {
    const wire = wireOf(sampleRemediation()) as { remediation: Record<string, Record<string, unknown>> };
    const detail = wire.remediation['io.gossip.kernel.v1.Remediation']!;
    expect(detail['refusal']).toBeNull();
    delete detail['refusal'];
    const old = decodeFinding(Buffer.from(JSON.stringify(wire)));
    expect(old.kind === 'remediation.result' ? old.remediation.refusal : 'kind').toBeUndefined();
    const base = sampleRemediation();
    const refused = { ...base, remediation: { ...base.remediation, outcome: 'skipped', refusal: 'stale' } } as const;
    expect(decodeFinding(encodeFinding(refused))).toEqual(refused);
    expect(() => encodeFinding({ ...base, remediation: { ...base.remediation, outcome: 'skipped', refusal: 'bored' } } as unknown as Finding)).toThrow(/refusal bored/);
    expect(() => encodeFinding({ ...base, remediation: { ...base.remediation, outcome: 'applied', refusal: 'stale' } })).toThrow(/refused finding is skipped/);
  });

  it('refuses to encode a finding that breaks the contract', () => {
    expect(() => encodeFinding({ ...sampleThrottle(), severity: 'loud' } as unknown as Finding)).toThrow(/severity loud/);
    expect(() => encodeFinding(sampleThrottle({ id: 'not-a-digest' }))).toThrow(/id is not a hex digest/);
  });

  it('gives attributes for filtering and one ordering key per workload', () => {
    const finding = sampleThrottle();
    expect(findingAttributes(finding)).toEqual({
      kind: 'cpu.throttle',
      cluster: 'lab',
      namespace: 'shop',
      severity: 'warning',
      schemaVersion: '1',
      findingId: finding.id,
      workload: 'Deployment/cart',
    });
    expect(orderingKey(finding)).toBe('lab/shop/Deployment/cart');
    expect(orderingKey(sampleRemediation())).toBe(orderingKey(finding));
  });
});

describe('stableId', () => {
  it('is the same for the same evidence whatever the key order', () => {
    expect(stableId('cpu.throttle', { a: 1, b: { c: [1, 2], d: 'x' } })).toBe(stableId('cpu.throttle', { b: { d: 'x', c: [1, 2] }, a: 1 }));
  });

  it('differs when evidence or kind differs', () => {
    const base = stableId('cpu.throttle', { periods: 600 });
    expect(stableId('cpu.throttle', { periods: 601 })).not.toBe(base);
    expect(stableId('pod.birth', { periods: 600 })).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('schema file', () => {
  it('finding.avsc is generated from schema.ts (run node dev/build/schema.ts after editing)', async () => {
    expect(path.basename(SCHEMA_FILE)).toBe('finding.avsc');
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(renderSchemaFile());
  });
});
