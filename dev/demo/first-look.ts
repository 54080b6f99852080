/**
 * What the demo shows while its set-up is still building (a cold machine builds kube-apiserver for
 * minutes): the observe path run once over the committed recordings of the demo's own scenario
 * (`kernel-gossip scan --replay dev/demo/recordings`), which needs nothing built. The full pipeline
 * follows once the set-up is done.
 *
 * @module
 */
import { scan } from '../../cli/scan.ts';
import { DEMO_CLUSTER } from './stack.ts';
import { RECORDINGS_DIR } from './kernel.ts';

export interface FirstLookOptions {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  readonly color: boolean;
}

/** Prints the findings of the recorded scenario; answers how many there were. */
export const firstLook = async (options: FirstLookOptions): Promise<number> => {
  options.out.write(
    'While the set-up builds: what the kernel said in the demo\'s recorded scenario (dev/demo/recordings, read by the same observe code the functions run; the full pipeline follows):\n',
  );
  const findings = await scan({
    source: { kind: 'replay', dir: RECORDINGS_DIR },
    windowSeconds: 60,
    namespaces: [],
    json: false,
    color: options.color,
    out: options.out,
    err: options.err,
    env: {},
    cluster: DEMO_CLUSTER,
    // The recordings hold the full certificate probe, as the demo's observe-births deploys it.
    birthProbe: 'pod_birth',
  });
  return findings.length;
};
