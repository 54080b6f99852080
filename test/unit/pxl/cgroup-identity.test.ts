import { describe, expect, it } from 'vitest';
import {
  containerCgroupPath,
  parseContainerCgroupNames,
  parseContainerCgroupPath,
  parsePodCgroupName,
  podCgroupPath,
} from '../../../shared/pxl/cgroup-identity.ts';

const uid = '0358b6da-b1c6-479d-852b-3f3990193f46';
const id = '509f41171dfa3faecd119270f1aea39b73f35a9da8553e07c0ffee0123456789';

describe('cgroup paths of both layouts', () => {
  it('builds the paths a kubelet makes', () => {
    expect(containerCgroupPath('cgroupfs', 'burstable', uid, id)).toBe(`/kubepods/burstable/pod${uid}/${id}`);
    expect(containerCgroupPath('cgroupfs', 'guaranteed', uid, id)).toBe(`/kubepods/pod${uid}/${id}`);
    expect(containerCgroupPath('systemd', 'besteffort', uid, id)).toBe(
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replaceAll('-', '_')}.slice/cri-containerd-${id}.scope`,
    );
    expect(podCgroupPath('systemd', 'guaranteed', uid)).toBe(`/kubepods.slice/kubepods-pod${uid.replaceAll('-', '_')}.slice`);
  });

  it.each([
    ['cgroupfs', 'burstable'],
    ['cgroupfs', 'guaranteed'],
    ['systemd', 'burstable'],
    ['systemd', 'besteffort'],
    ['systemd', 'guaranteed'],
  ] as const)('parses %s / %s paths back to the identity', (layout, qos) => {
    expect(parseContainerCgroupPath(containerCgroupPath(layout, qos, uid, id))).toEqual({
      layout,
      qos,
      podUid: uid,
      containerId: id,
      containerKey: id.slice(0, 32),
    });
  });

  it('rejects paths outside kubepods or without a pod level', () => {
    expect(parseContainerCgroupPath(`/system.slice/pod${uid}/${id}`)).toBeUndefined();
    expect(parseContainerCgroupPath(`/kubepods/burstable/${id}`)).toBeUndefined();
    expect(parseContainerCgroupPath('/kubepods/burstable/podnot-a-uid/abc')).toBeUndefined();
  });
});

describe('names as the probes print them (cut at 63 bytes)', () => {
  it('keys containers by the first 32 hex digits whatever the cut', () => {
    const v1 = parseContainerCgroupNames(id.slice(0, 63), `pod${uid}`);
    const systemd = parseContainerCgroupNames(`cri-containerd-${id}`.slice(0, 63), `kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice`.slice(0, 63));
    expect(v1?.containerKey).toBe(id.slice(0, 32));
    expect(systemd).toMatchObject({ layout: 'systemd', qos: 'burstable', podUid: uid, containerKey: id.slice(0, 32) });
  });

  it('recognises pod cgroup names of both layouts and nothing else', () => {
    expect(parsePodCgroupName(`pod${uid}`, 'besteffort')).toEqual({ layout: 'cgroupfs', qos: 'besteffort', podUid: uid });
    expect(parsePodCgroupName(`kubepods-pod${uid.replaceAll('-', '_')}.slice`)).toEqual({ layout: 'systemd', qos: 'guaranteed', podUid: uid });
    expect(parsePodCgroupName('kubepods-burstable.slice')).toBeUndefined();
    expect(parseContainerCgroupNames(id, 'burstable')).toBeUndefined();
    expect(parseContainerCgroupNames('short', `pod${uid}`)).toBeUndefined();
  });
});
