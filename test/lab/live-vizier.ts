/**
 * The local Vizier in live mode over a real one-node cluster, for the lab tests: the node (its
 * kubelet births the tests' pods, dev/lab/node-lab.ts), the live backend naming pods from the
 * node's API server as Pixie's metadata service does (samples every 500 ms) and the Vizier serving
 * the test cluster. `close` stops them in reverse order, checking the node left nothing behind; a
 * start that fails half-way closes what it had opened before rethrowing. Run under
 * `flock /tmp/kg-lab.lock`.
 */
import { type NodeLab, openNodeLab } from '../../dev/lab/node-lab.ts';
import { podListers } from '../../dev/node/pod-sources.ts';
import { PxlEngine } from '../../dev/vizier/pxl/engine.ts';
import { type LiveBackend, liveBackend } from '../../dev/vizier/pxl/live.ts';
import { startVizier, type RunningVizier } from '../../dev/vizier/server.ts';
import { API_KEY, CLUSTER } from '../integration/vizier/support.ts';
import { nodeLeftovers } from './node-leftovers.ts';

export interface LiveVizier {
  readonly nodeLab: NodeLab;
  readonly backend: LiveBackend;
  readonly vizier: RunningVizier;
  close(): Promise<void>;
}

export const startLiveVizier = async (): Promise<LiveVizier> => {
  const nodeLab = await openNodeLab();
  const { node } = nodeLab;
  let backend: LiveBackend | undefined;
  try {
    backend = await liveBackend({ bpftrace: nodeLab.lab.host.bpftrace, listers: podListers({ kubeconfig: node.kube.kubeconfigPath, node: node.nodeName }) }, { sampleEveryMs: 500, namesEveryMs: 500 });
    const vizier = await startVizier({ dataset: new Map(), apiKeys: [API_KEY], clusters: [{ id: CLUSTER, name: 'live', status: 'CS_HEALTHY', faults: {} }], engine: new PxlEngine(backend) });
    const running = backend;
    return {
      nodeLab,
      backend: running,
      vizier,
      close: async () => {
        try {
          await vizier.stop();
          await running.close();
        } finally {
          await nodeLab.close();
        }
        const left = await nodeLeftovers(node);
        if (left.length > 0) {
          throw new Error(`the node left things behind: ${left.join('; ')}`);
        }
      },
    };
  } catch (error) {
    await backend?.close();
    await nodeLab.close();
    throw error;
  }
};
