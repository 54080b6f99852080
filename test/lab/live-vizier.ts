/**
 * The local Vizier in live mode over a fresh kernel lab, for the lab tests: the lab, its live
 * backend (samples every 500 ms) and the Vizier serving the test cluster. `close` stops them in
 * reverse order; a start that fails half-way closes what it had opened before rethrowing.
 */
import { Lab } from '../../dev/lab/lab.ts';
import { PxlEngine } from '../../dev/vizier/pxl/engine.ts';
import { type LiveBackend, liveBackend } from '../../dev/vizier/pxl/live.ts';
import { startVizier, type RunningVizier } from '../../dev/vizier/server.ts';
import { API_KEY, CLUSTER } from '../integration/vizier/support.ts';

export interface LiveVizier {
  readonly lab: Lab;
  readonly backend: LiveBackend;
  readonly vizier: RunningVizier;
  close(): Promise<void>;
}

export const startLiveVizier = async (): Promise<LiveVizier> => {
  const lab = await Lab.open();
  let backend: LiveBackend | undefined;
  try {
    backend = await liveBackend(lab, { sampleEveryMs: 500 });
    const vizier = await startVizier({ dataset: new Map(), apiKeys: [API_KEY], clusters: [{ id: CLUSTER, name: 'live', status: 'CS_HEALTHY', faults: {} }], engine: new PxlEngine(backend) });
    const running = backend;
    return {
      lab,
      backend: running,
      vizier,
      close: async () => {
        await vizier.stop();
        await running.close();
        await lab.close();
      },
    };
  } catch (error) {
    await backend?.close();
    await lab.close();
    throw error;
  }
};
