import { describe, expect, it } from 'vitest';
import { PodListError, podsOfList } from '../../../dev/node/pods.ts';

const id = (c: string): string => c.repeat(64);

// The fields read, as a PodList of the core/v1 API has them (k8s.io/api/core/v1 types.go:
// ObjectMeta.ownerReferences, PodSpec.nodeName, PodStatus.startTime and the three
// *ContainerStatuses lists whose containerID is "<type>://<container_id>").
const podList = {
  kind: 'PodList',
  apiVersion: 'v1',
  items: [
    {
      metadata: { name: 'web-5d9c-abcde', namespace: 'shop', uid: '11111111-2222-3333-4444-555555555555', ownerReferences: [{ kind: 'ReplicaSet', name: 'web-5d9c', uid: 'rs-uid', controller: true }] },
      spec: { nodeName: 'node-a' },
      status: {
        startTime: '2026-12-04T10:00:00Z',
        initContainerStatuses: [{ name: 'init', containerID: `containerd://${id('a')}` }],
        containerStatuses: [
          { name: 'app', containerID: `containerd://${id('b')}` },
          { name: 'waiting', state: { waiting: { reason: 'ContainerCreating' } } },
        ],
        ephemeralContainerStatuses: [{ name: 'debug', containerID: `containerd://${id('c')}` }],
      },
    },
    { metadata: { name: 'pending', namespace: 'shop', uid: '66666666-2222-3333-4444-555555555555' }, spec: {}, status: {} },
    { metadata: { name: 'no-uid' } },
  ],
};

describe('podsOfList', () => {
  it('keeps names, owners, node, start time and every started container id', () => {
    expect(podsOfList(podList)).toEqual([
      {
        uid: '11111111-2222-3333-4444-555555555555',
        name: 'web-5d9c-abcde',
        namespace: 'shop',
        node: 'node-a',
        owners: [{ kind: 'ReplicaSet', name: 'web-5d9c', uid: 'rs-uid' }],
        startTime: '2026-12-04T10:00:00Z',
        containers: [
          { name: 'init', containerId: id('a'), runtime: 'containerd' },
          { name: 'app', containerId: id('b'), runtime: 'containerd' },
          { name: 'debug', containerId: id('c'), runtime: 'containerd' },
        ],
      },
      { uid: '66666666-2222-3333-4444-555555555555', name: 'pending', namespace: 'shop', node: '', owners: [], startTime: '', containers: [] },
    ]);
  });

  it("reads the kubelet's /pods answer, which has items and no kind", () => {
    expect(podsOfList({ items: [] })).toEqual([]);
  });

  it.each([null, 'text', { kind: 'Status', status: 'Failure' }, { kind: 'NodeList', items: [] }])('rejects %j', (document) => {
    expect(() => podsOfList(document)).toThrow(PodListError);
  });
});
