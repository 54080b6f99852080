import { describe, expect, it } from 'vitest';
import { birthCapture } from '../../../shared/observe/births.ts';

describe('birthCapture: plain exec rows', () => {
  it('maps the probe\'s exec event (before pivot_root) to a non-entrypoint exec, not a contract error', () => {
    const row = {
      timeNs: 1_000n,
      namespace: 'shop',
      pod: 'shop/cart-1',
      podUid: '4932349c-7a2e-4eb7-baaa-75ed15dd65d8',
      node: 'n',
      containerKey: 'ca1ced743075ca1ced743075ca1ced74',
      event: 'exec',
      pid: 42,
      comm: 'runc:[2:INIT]',
      hierarchy: '1',
      flags: 0,
      detail: '/proc/self/exe',
      value: '',
      syscalls: 0,
    };
    const [event] = birthCapture([row], 'pod_birth').events;
    expect(event).toMatchObject({ kind: 'exec', filename: '/proc/self/exe', pid: 42 });
    expect(event).not.toHaveProperty('entrypoint');
  });
});
