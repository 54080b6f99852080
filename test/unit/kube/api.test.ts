import { V1MicroTime } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { microTime, segment } from '../../../shared/kube/api.ts';

describe('shared/kube/api helpers', () => {
  it('writes a MicroTime exactly as client-node V1MicroTime does (the Event body the generated client sent)', () => {
    for (const ms of [0, Date.parse('2026-11-27T12:02:03.045Z'), Date.parse('1999-12-31T23:59:59.999Z')]) {
      expect(microTime(new Date(ms))).toBe(new V1MicroTime(ms).toISOString());
    }
    expect(microTime(new Date('2026-11-27T12:02:03.045Z'))).toBe('2026-11-27T12:02:03.045000Z');
  });

  it('encodes a path segment so a name cannot change the path', () => {
    expect(segment('cart-7d9f')).toBe('cart-7d9f');
    expect(segment('a/../b?x=1')).toBe('a%2F..%2Fb%3Fx%3D1');
  });
});
