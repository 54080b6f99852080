/**
 * The kernel lab with a real node beside it: a one-node cluster (dev/kube/node.ts) whose kubelet
 * births every pod of the cgroupfs layout (kubelet-pods.ts), and the runc lab (lab.ts) for the
 * systemd layout that node cannot give. What the fixture recorder, the demo's recordings and the
 * live-Vizier lab tests run their scenarios on. Run it under `flock /tmp/kg-lab.lock`: the kubelet
 * owns `kubepods`.
 *
 * @module
 */
import { type LocalNode, type LocalNodeOptions, startLocalNode } from '../kube/node.ts';
import { KubeletPods } from './kubelet-pods.ts';
import { Lab } from './lab.ts';

export interface NodeLab {
  readonly node: LocalNode;
  readonly kubelet: KubeletPods;
  readonly lab: Lab;
  /** Deletes the kubelet's pods (their controllers too) and the runc lab's, stops the node. Safe to call twice. */
  close(): Promise<void>;
}

/** Starts the node and opens the runc lab; a start that fails half-way stops what it had started. */
export const openNodeLab = async (options: LocalNodeOptions = {}): Promise<NodeLab> => {
  const node = await startLocalNode(options);
  let lab: Lab | undefined;
  try {
    lab = await Lab.open();
  } catch (error) {
    await node.stop();
    throw error;
  }
  const kubelet = new KubeletPods(node);
  const opened = lab;
  let closing: Promise<void> | undefined;
  return {
    node,
    kubelet,
    lab: opened,
    close: () => {
      closing ??= (async () => {
        try {
          await kubelet.close();
          await opened.close();
        } finally {
          await node.stop();
        }
      })();
      return closing;
    },
  };
};
