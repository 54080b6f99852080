/**
 * The parts of `scan --local` that touch this host: the node's containers and their names (the same
 * discovery and pod sources the local Vizier uses), deploying the probes before the window starts,
 * and waiting until they have covered the window, with a progress line.
 *
 * @module
 */
import { discoverContainers } from '../dev/node/containers.ts';
import { nameContainers } from '../dev/node/naming.ts';
import { DEFAULT_KUBELET_URL, listPods, type NamingOptions, podListers } from '../dev/node/pod-sources.ts';
import type { PixieClient } from '../shared/pixie/client.ts';
import { runOverWindows } from '../shared/observe/run.ts';
import type { PxlScript } from '../shared/pxl/scripts.ts';
import type { Inventory } from './inventory.ts';

/** The node's containers, named from the pod sources `naming` selects. */
export const localInventory = async (naming: NamingOptions): Promise<Inventory> => {
  const [found, listing] = await Promise.all([discoverContainers(), listPods(podListers(naming))]);
  return {
    containers: nameContainers(found.containers, listing.sources),
    unrecognized: found.unrecognized,
    namingFailures: listing.failures,
    namingAsked: naming.kubeconfig === undefined ? `the kubelet's read-only pod list at ${naming.kubeletUrl ?? DEFAULT_KUBELET_URL}` : `the API server (pods of node ${naming.node})`,
  };
};

/** Deploys each script's probes (one query over the last second, its rows unused); resolves once they run. */
export const deployProbes = async (pixie: PixieClient, scripts: readonly PxlScript[], deadline: Date): Promise<void> => {
  const end = new Date();
  for (const script of scripts) {
    await runOverWindows({ pixie, script, windows: [{ start: new Date(end.getTime() - 1000), end }], namespace: '', deadline });
  }
};

export interface Coverage {
  /** End of the window to report. */
  readonly end: Date;
  /** Seconds of it the probes covered: the window asked, or less when interrupted. */
  readonly seconds: number;
  readonly interrupted: boolean;
}

/**
 * Waits until the probes, running since `since`, have covered `windowSeconds` (plus one second:
 * the throttle probe writes a row per container at most once a second), printing progress about
 * every `everyMs`. An abort stops the wait early and reports what is covered so far.
 */
export const waitForCoverage = async (
  since: Date,
  windowSeconds: number,
  options: { readonly progress: (line: string) => void; readonly signal?: AbortSignal; readonly everyMs?: number; readonly now?: () => number },
): Promise<Coverage> => {
  const now = options.now ?? Date.now;
  const until = since.getTime() + (windowSeconds + 1) * 1000;
  const everyMs = options.everyMs ?? 5000;
  while (now() < until && options.signal?.aborted !== true) {
    const covered = Math.max(0, Math.floor((now() - since.getTime()) / 1000));
    options.progress(`probes running: ${Math.min(covered, windowSeconds)}/${windowSeconds} s of the window covered (Ctrl-C reports what is covered so far)`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(everyMs, until - now()));
      options.signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
  }
  const end = now();
  const covered = Math.min(windowSeconds, Math.floor((end - since.getTime()) / 1000) - 1);
  return { end: new Date(end), seconds: Math.max(0, covered), interrupted: covered < windowSeconds };
};
