import { describe, expect, it } from 'vitest';
import { CLONE_FLAGS, containerNamespaces, namespacesInFlags, ociConfig } from '../../../dev/lab/oci.ts';

describe('OCI configs of lab containers', () => {
  it('lets the sandbox create the pod namespaces and app containers join them', () => {
    expect(containerNamespaces(undefined)).toEqual([{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }]);
    expect(containerNamespaces(77)).toEqual([
      { type: 'pid' },
      { type: 'network', path: '/proc/77/ns/net' },
      { type: 'ipc', path: '/proc/77/ns/ipc' },
      { type: 'uts', path: '/proc/77/ns/uts' },
      { type: 'mount' },
    ]);
  });

  it('sets the CPU limit only when one is asked for', () => {
    const limited = ociConfig({ rootfs: '/r', args: ['/bin/burner'], hostname: 'p', cgroupsPath: '/kubepods/x', cpuQuotaUs: 20_000 });
    const free = ociConfig({ rootfs: '/r', args: ['/bin/burner'], hostname: 'p', cgroupsPath: '/kubepods/x' });
    expect((limited['linux'] as { resources: unknown }).resources).toMatchObject({ cpu: { quota: 20_000, period: 100_000 } });
    expect((free['linux'] as { resources: object }).resources).not.toHaveProperty('cpu');
  });

  it('names the namespaces in clone flags', () => {
    // runc's [1:CHILD] unshare of a sandbox, as measured on this kernel.
    expect(namespacesInFlags(0x6c020000n)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount']);
    expect(namespacesInFlags(BigInt(CLONE_FLAGS.network))).toEqual(['network']);
    expect(namespacesInFlags(0x11n)).toEqual([]);
  });
});
