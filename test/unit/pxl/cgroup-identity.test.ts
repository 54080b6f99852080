import { describe, expect, it } from 'vitest';
import {
  CONTAINER_RUNTIMES,
  containerCgroupPath,
  isKubepodsLevel,
  parseContainerCgroupNames,
  parseContainerCgroupPath,
  parsePodCgroupName,
  parseStatusContainerId,
  podCgroupPath,
  QOS_CLASSES,
} from '../../../shared/pxl/cgroup-identity.ts';

const uid = '0358b6da-b1c6-479d-852b-3f3990193f46';
const uid_ = uid.replaceAll('-', '_');
const id = '509f41171dfa3faecd119270f1aea39b73f35a9da8553e07c0ffee0123456789';

describe('cgroup paths of both layouts', () => {
  it('builds the paths a kubelet makes', () => {
    expect(containerCgroupPath('cgroupfs', 'burstable', uid, id)).toBe(`/kubepods/burstable/pod${uid}/${id}`);
    expect(containerCgroupPath('cgroupfs', 'guaranteed', uid, id)).toBe(`/kubepods/pod${uid}/${id}`);
    expect(containerCgroupPath('systemd', 'besteffort', uid, id)).toBe(
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid_}.slice/cri-containerd-${id}.scope`,
    );
    expect(podCgroupPath('systemd', 'guaranteed', uid)).toBe(`/kubepods.slice/kubepods-pod${uid_}.slice`);
    // CRI-O names its containers crio-<id> under both drivers (cri-o internal/config/cgmgr:
    // cgroupfs.go ContainerCgroupPath joins "crio-"+id; systemd.go makes crio-<id>.scope).
    expect(containerCgroupPath('cgroupfs', 'burstable', uid, id, 'cri-o')).toBe(`/kubepods/burstable/pod${uid}/crio-${id}`);
    expect(containerCgroupPath('systemd', 'guaranteed', uid, id, 'cri-o')).toBe(`/kubepods.slice/kubepods-pod${uid_}.slice/crio-${id}.scope`);
    expect(containerCgroupPath('systemd', 'burstable', uid, id, 'docker')).toBe(
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid_}.slice/docker-${id}.scope`,
    );
  });

  const layouts = QOS_CLASSES.flatMap((qos) => CONTAINER_RUNTIMES.flatMap((runtime) => [['cgroupfs', qos, runtime] as const, ['systemd', qos, runtime] as const]));
  it.each(layouts)('parses %s / %s / %s paths back to the identity', (layout, qos, runtime) => {
    const path = containerCgroupPath(layout, qos, uid, id, runtime);
    // A bare v1 id does not say its runtime (containerd and Docker both use them).
    const named = layout === 'systemd' || runtime === 'cri-o';
    expect(parseContainerCgroupPath(path)).toEqual({ layout, qos, podUid: uid, containerId: id, containerKey: id.slice(0, 32), ...(named ? { runtime } : {}) });
    expect(isKubepodsLevel(path)).toBe(false);
    expect(isKubepodsLevel(podCgroupPath(layout, qos, uid))).toBe(true);
  });

  it('finds the kubepods root below other cgroups (kubelet in a container, kind)', () => {
    expect(parseContainerCgroupPath(`/docker/abc/kubepods/besteffort/pod${uid}/${id}`)).toMatchObject({ layout: 'cgroupfs', qos: 'besteffort', podUid: uid });
    expect(
      parseContainerCgroupPath(
        `/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod${uid_}.slice/cri-containerd-${id}.scope`,
      ),
    ).toMatchObject({ layout: 'systemd', qos: 'burstable', podUid: uid, containerId: id, runtime: 'containerd' });
    expect(parseContainerCgroupPath(`/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod${uid_}.slice/crio-${id}.scope`)).toMatchObject({
      qos: 'guaranteed',
      runtime: 'cri-o',
    });
  });

  it.each([
    ['outside kubepods', `/system.slice/pod${uid}/${id}`],
    ['no pod level', `/kubepods/burstable/${id}`],
    ['a bad uid', '/kubepods/burstable/podnot-a-uid/abc'],
    ['an unknown QoS level', `/kubepods/gold/pod${uid}/${id}`],
    ['a level below the container', `/kubepods/burstable/pod${uid}/${id}/extra`],
    ['a pod slice under the v1 root', `/kubepods/kubepods-pod${uid_}.slice/cri-containerd-${id}.scope`],
    ['a v1 pod under the systemd root', `/kubepods.slice/pod${uid}/${id}`],
    ['a pod slice whose QoS disagrees with its level', `/kubepods.slice/kubepods-besteffort.slice/kubepods-burstable-pod${uid_}.slice/cri-containerd-${id}.scope`],
    ['a burstable pod slice without its QoS level', `/kubepods.slice/kubepods-burstable-pod${uid_}.slice/cri-containerd-${id}.scope`],
    ['a bare id under the systemd driver', `/kubepods.slice/kubepods-pod${uid_}.slice/${id}`],
    ['an unknown runtime prefix', `/kubepods.slice/kubepods-pod${uid_}.slice/podman-${id}.scope`],
    ["CRI-O's conmon cgroup", `/kubepods.slice/kubepods-pod${uid_}.slice/crio-conmon-${id}.scope`],
    ['a short id', `/kubepods/pod${uid}/abc123`],
    ['the root itself', '/kubepods'],
  ])('rejects %s', (_why, path) => {
    expect(parseContainerCgroupPath(path)).toBeUndefined();
  });

  it('tells kubelet levels from other cgroups', () => {
    expect(isKubepodsLevel('/kubepods')).toBe(true);
    expect(isKubepodsLevel('/kubepods/burstable')).toBe(true);
    expect(isKubepodsLevel('/kubepods.slice/kubepods-besteffort.slice')).toBe(true);
    expect(isKubepodsLevel(`/kubepods/burstable/pod${uid}`)).toBe(true);
    expect(isKubepodsLevel('/system.slice/containerd.service')).toBe(false);
    expect(isKubepodsLevel(`/kubepods/burstable/pod${uid}/something`)).toBe(false);
  });
});

describe('names as the probes print them (cut at 63 bytes)', () => {
  it('keys containers by the first 32 hex digits whatever the cut', () => {
    const v1 = parseContainerCgroupNames(id.slice(0, 63), `pod${uid}`);
    const systemd = parseContainerCgroupNames(`cri-containerd-${id}`.slice(0, 63), `kubepods-burstable-pod${uid_}.slice`.slice(0, 63));
    expect(v1?.containerKey).toBe(id.slice(0, 32));
    expect(systemd).toMatchObject({ layout: 'systemd', qos: 'burstable', podUid: uid, containerKey: id.slice(0, 32), runtime: 'containerd' });
    expect(parseContainerCgroupNames(`docker-${id}.scope`, `kubepods-pod${uid_}.slice`)).toMatchObject({ qos: 'guaranteed', runtime: 'docker' });
  });

  it('recognises pod cgroup names of both layouts and nothing else', () => {
    expect(parsePodCgroupName(`pod${uid}`, 'besteffort')).toEqual({ layout: 'cgroupfs', qos: 'besteffort', podUid: uid });
    expect(parsePodCgroupName(`kubepods-pod${uid_}.slice`)).toEqual({ layout: 'systemd', qos: 'guaranteed', podUid: uid });
    expect(parsePodCgroupName(`kubelet-kubepods-besteffort-pod${uid_}.slice`)).toEqual({ layout: 'systemd', qos: 'besteffort', podUid: uid });
    expect(parsePodCgroupName('kubepods-burstable.slice')).toBeUndefined();
    expect(parseContainerCgroupNames(id, 'burstable')).toBeUndefined();
    expect(parseContainerCgroupNames('short', `pod${uid}`)).toBeUndefined();
  });
});

describe("a pod status's container ids", () => {
  it.each(CONTAINER_RUNTIMES)('reads %s://<id>', (runtime) => {
    expect(parseStatusContainerId(`${runtime}://${id}`)).toEqual({ runtime, containerId: id });
  });

  it.each(['', id, `containerd:/${id}`, `rkt://${id}`, 'containerd://'])('rejects %j', (text) => {
    expect(parseStatusContainerId(text)).toBeUndefined();
  });
});
