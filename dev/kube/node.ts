/**
 * A real one-node Kubernetes cluster on this machine: the local control plane (etcd,
 * kube-apiserver) plus kube-controller-manager, kube-scheduler, containerd and a kubelet, so
 * Deployments roll out through ReplicaSets and pods are born by the kubelet through CRI (sandbox,
 * shim, runc) in its `kubepods` cgroups. The recipe is ../shared/kernel-lab.md ("A real Kubernetes
 * node on these machines").
 *
 * Root only, and one node per machine at a time: the kubelet owns the `kubepods` cgroup hierarchy
 * and removes pod cgroups it has no pod for, so run it under the lab lock
 * (`flock /tmp/kg-lab.lock ...`) and never beside the runc kernel lab.
 *
 * {@link LocalNode.stop} (also called when the start fails) deletes every pod through the API and
 * lets the kubelet tear them down, stops every process, sweeps what is left in containerd, removes
 * the `kubepods` cgroups, the pod bridge, every mount under its folder and the folder.
 *
 * @module
 */
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { removeCgroupEverywhere } from '../lab/cgroupfs.ts';
import { freePort } from '../process.ts';
import { type NodeBinaries, resolveNodeBinaries } from './binaries.ts';
import { type Child, spawnChild } from './child.ts';
import { type Containerd, POD_BRIDGE, startContainerd, sweepContainers } from './containerd.ts';
import { startKubelet } from './kubelet.ts';
import { type LocalKube, startLocalKube } from './local-kube.ts';
import { nodeImage } from './node-image.ts';

const run = promisify(execFile);

/** The node's name (the kubelet's `--hostname-override`). */
export const NODE_NAME = 'kernel-gossip-node';

export interface LocalNodeOptions {
  /** A running control plane to join; one is started (and stopped with the node) when absent. */
  readonly kube?: LocalKube;
  readonly binaries?: NodeBinaries;
  /** How long until the node is Ready (default 120 s: image import and a cold kubelet on 2 cores). */
  readonly startTimeoutMs?: number;
  readonly parentDir?: string;
  /** Every line the node's processes print, as `name`, `line` (for a log file); dropped by default. */
  readonly output?: (name: string, line: string) => void;
}

export interface LocalNode {
  readonly kube: LocalKube;
  readonly nodeName: string;
  /** The image every pod on this node runs (`imagePullPolicy: Never`): busybox and the lab's burner. */
  readonly image: string;
  /** containerd's CRI socket. */
  readonly containerdSocket: string;
  /**
   * containerd's state folder: the runc v2 shim keeps each container's bundle (the OCI spec
   * containerd wrote, `config.json`, and the init pid, `init.pid`) in
   * `<state>/io.containerd.runtime.v2.task/k8s.io/<container id>/`.
   */
  readonly containerdState: string;
  /** The kubelet's read-only API, e.g. `http://127.0.0.1:<port>` (`/pods`). */
  readonly kubeletReadOnlyUrl: string;
  /** Milliseconds from start until the node was Ready. */
  readonly startupMs: number;
  /** Process ids of the node's own processes. */
  readonly pids: Readonly<Record<'controllerManager' | 'scheduler' | 'containerd' | 'kubelet', number>>;
  /** `ctr` in the CRI namespace of the node's containerd; resolves with stdout. */
  ctr(args: readonly string[]): Promise<string>;
  /** Tears everything down (see the module comment). Safe to call twice. */
  stop(): Promise<void>;
}

/** Thrown when the node does not come up; carries the tail of the failing process's output. */
export class LocalNodeStartError extends Error {
  override readonly name = 'LocalNodeStartError';
}

const isReady = (node: V1Node): boolean => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Forwards a child's output line by line. */
const forward = (child: Child, output: ((name: string, line: string) => void) | undefined): void => {
  if (output === undefined) {
    return;
  }
  for (const stream of [child.process.stdout, child.process.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        output(child.name, line);
      }
    });
  }
};

/** Mount points at or below `dir`, deepest first (overlay rootfs, sandbox shm, kubelet volumes). */
const mountsUnder = async (dir: string): Promise<string[]> =>
  (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);

/** Shims of this containerd (they outlive it by design); matched by the socket in their arguments. */
const shimsOf = async (socket: string): Promise<number[]> => {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if ((args[0] ?? '').endsWith('containerd-shim-runc-v2') && args.includes(socket)) {
      pids.push(Number(entry));
    }
  }
  return pids;
};

const deleteAllPods = async (core: CoreV1Api, deadlineMs: number): Promise<string[]> => {
  const problems: string[] = [];
  const pods = (await core.listPodForAllNamespaces()).items;
  for (const pod of pods) {
    const { name, namespace } = pod.metadata ?? {};
    if (name !== undefined && namespace !== undefined) {
      // Graceful (1 s), not forced: the kubelet stops the containers and sandbox, then removes the object.
      await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 1 }).catch((error: unknown) => problems.push(`delete pod ${namespace}/${name}: ${String(error)}`));
    }
  }
  const until = Date.now() + deadlineMs;
  for (;;) {
    const left = (await core.listPodForAllNamespaces()).items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
    if (left.length === 0) {
      return problems;
    }
    if (Date.now() > until) {
      return [...problems, `pods the kubelet did not finish in ${deadlineMs} ms: ${left.join(', ')}`];
    }
    await sleep(250);
  }
};

/** Starts the node (and a control plane unless one is given) and resolves once the node is Ready. */
export const startLocalNode = async (options: LocalNodeOptions = {}): Promise<LocalNode> => {
  const started = Date.now();
  const deadline = started + (options.startTimeoutMs ?? 120_000);
  const binaries = options.binaries ?? (await resolveNodeBinaries());
  const image = await nodeImage();
  const ownKube = options.kube === undefined;
  const kube = options.kube ?? (await startLocalKube({ ...(options.parentDir === undefined ? {} : { parentDir: options.parentDir }) }));
  const dir = await mkdtemp(path.join(options.parentDir ?? tmpdir(), 'kernel-gossip-node-'));
  const config = new KubeConfig();
  config.loadFromFile(kube.kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  const children: Partial<Record<'controllerManager' | 'scheduler' | 'kubelet', Child>> = {};
  let containerd: Containerd | undefined;
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      const problems: string[] = [];
      // Controllers first, or they would recreate the pods being deleted.
      await children.controllerManager?.stop(5_000);
      await children.scheduler?.stop(5_000);
      if (children.kubelet !== undefined && !children.kubelet.hasExited()) {
        problems.push(...(await deleteAllPods(core, 45_000).catch((error: unknown) => [`deleting pods: ${String(error)}`])));
      }
      await children.kubelet?.stop(10_000);
      if (containerd !== undefined) {
        problems.push(...(await sweepContainers(containerd)));
        await containerd.child.stop(10_000);
        for (const pid of await shimsOf(containerd.paths.socket)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }
      await removeCgroupEverywhere('/kubepods').catch((error: unknown) => problems.push(`kubepods cgroups: ${String(error)}`));
      await run('ip', ['link', 'delete', POD_BRIDGE]).catch(() => undefined);
      for (const point of await mountsUnder(dir)) {
        await run('umount', ['--lazy', point]).catch((error: unknown) => problems.push(`umount ${point}: ${String(error)}`));
      }
      await rm(dir, { recursive: true, force: true }).catch((error: unknown) => problems.push(`rm ${dir}: ${String(error)}`));
      if (ownKube) {
        await kube.stop();
      }
      if (problems.length > 0) {
        throw new Error(`the local node's cleanup left things behind: ${problems.join('; ')}`);
      }
    })();
    return stopped;
  };

  const failIfExited = async (): Promise<void> => {
    for (const child of [...Object.values(children), containerd?.child]) {
      if (child?.hasExited() === true) {
        throw new LocalNodeStartError(`${child.name} exited (${await child.exited}) before the node was Ready:\n${child.tail()}`);
      }
    }
  };

  try {
    const caPath = path.join(dir, 'ca.crt');
    await writeFile(caPath, kube.caPem);
    const controlArgs = [`--kubeconfig=${kube.kubeconfigPath}`, '--leader-elect=false', '--secure-port=0'];
    // Without service-account credentials every controller acts as the controller-manager's own
    // user, which must then hold every controller's rights: the admin's, on this throwaway cluster.
    children.controllerManager = spawnChild('kube-controller-manager', binaries.controllerManager, [...controlArgs, '--use-service-account-credentials=false']);
    children.scheduler = spawnChild('kube-scheduler', binaries.scheduler, controlArgs);
    forward(children.controllerManager, options.output);
    forward(children.scheduler, options.output);
    const containerdDir = path.join(dir, 'containerd');
    await mkdir(containerdDir);
    containerd = await startContainerd(binaries, containerdDir, image.name, deadline);
    forward(containerd.child, options.output);
    await containerd.ctr(['images', 'import', image.tarPath], Math.max(5_000, deadline - Date.now()));
    const kubeletKubeconfig = await kube.kubeconfigFor({ user: `system:node:${NODE_NAME}`, groups: ['system:nodes'] });
    const kubeletDir = path.join(dir, 'kubelet');
    await mkdir(kubeletDir);
    const [port, readOnlyPort, healthzPort] = [await freePort(), await freePort(), await freePort()];
    children.kubelet = await startKubelet(binaries, {
      nodeName: NODE_NAME,
      dir: kubeletDir,
      kubeconfigPath: kubeletKubeconfig,
      clientCaPath: caPath,
      containerdSocket: containerd.paths.socket,
      port,
      readOnlyPort,
      healthzPort,
    });
    forward(children.kubelet, options.output);
    let lastError = '';
    for (;;) {
      await failIfExited();
      try {
        if (isReady(await core.readNode({ name: NODE_NAME }))) {
          break;
        }
        lastError = 'registered, not Ready yet';
      } catch (error) {
        lastError = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
      }
      if (Date.now() > deadline) {
        throw new LocalNodeStartError(`node ${NODE_NAME} was not Ready in time (${lastError}); kubelet:\n${children.kubelet.tail()}`);
      }
      await sleep(250);
    }
    const runtime = containerd;
    return {
      kube,
      nodeName: NODE_NAME,
      image: image.name,
      containerdSocket: containerd.paths.socket,
      containerdState: containerd.paths.state,
      kubeletReadOnlyUrl: `http://127.0.0.1:${readOnlyPort}`,
      startupMs: Date.now() - started,
      pids: {
        controllerManager: children.controllerManager.process.pid ?? -1,
        scheduler: children.scheduler.process.pid ?? -1,
        containerd: containerd.child.process.pid ?? -1,
        kubelet: children.kubelet.process.pid ?? -1,
      },
      ctr: (args) => runtime.ctr(args),
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
};
