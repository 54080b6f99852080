/**
 * containerd for the local node, isolated from anything system-wide: its own root, state, socket
 * and CNI config, the CRI plugin on with the node's local image as the sandbox image. The one
 * setting these machines need is `restrict_oom_score_adj = true` (root may not lower
 * `oom_score_adj` here; without it every sandbox fails with "can't get final child's PID from
 * pipe", see ../shared/kernel-lab.md "A real Kubernetes node on these machines").
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { NodeBinaries } from './binaries.ts';
import { type Child, spawnChild } from './child.ts';

const run = promisify(execFile);

/** The CRI plugin's containerd namespace (the kubelet's containers live there). */
export const CRI_NAMESPACE = 'k8s.io';

/** The node's pod network: the CNI bridge and its range (../shared/kernel-lab.md). */
export const POD_BRIDGE = 'kg-cni0';
export const POD_SUBNET = '10.88.0.0/16';

export interface ContainerdPaths {
  readonly root: string;
  readonly state: string;
  readonly socket: string;
  readonly config: string;
  readonly cniConfDir: string;
  readonly cniDataDir: string;
}

export const containerdPaths = (dir: string): ContainerdPaths => ({
  root: path.join(dir, 'root'),
  state: path.join(dir, 'state'),
  socket: path.join(dir, 'containerd.sock'),
  config: path.join(dir, 'config.toml'),
  cniConfDir: path.join(dir, 'net.d'),
  cniDataDir: path.join(dir, 'cni-ipam'),
});

/** TOML strings: JSON's escaping is a subset TOML accepts for basic strings. */
const str = (value: string): string => JSON.stringify(value);

/** containerd 1.6's config (version 2) for the node. Pure. */
export const containerdConfig = (paths: ContainerdPaths, options: { readonly sandboxImage: string; readonly cniBinDir: string }): string => {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    'version = 2',
    `root = ${str(paths.root)}`,
    `state = ${str(paths.state)}`,
    // Snapshotters this node never uses; skipping them keeps start-up quiet and quick.
    'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]',
    '[grpc]',
    `  address = ${str(paths.socket)}`,
    `[${cri}]`,
    `  sandbox_image = ${str(options.sandboxImage)}`,
    '  restrict_oom_score_adj = true',
    '  disable_apparmor = true',
    // A random port for exec/attach streams: the default 10010 would clash with any other node.
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    `[${cri}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.runc.options]`,
    // The kubelet's cgroupfs driver: cgroup paths like /kubepods/burstable/pod<uid>/<id>.
    '  SystemdCgroup = false',
    `[${cri}.cni]`,
    `  bin_dir = ${str(options.cniBinDir)}`,
    `  conf_dir = ${str(paths.cniConfDir)}`,
    '',
  ].join('\n');
};

/** The pod network: a bridge with host-local addresses (containerd adds the loopback itself). Pure. */
export const cniConflist = (paths: ContainerdPaths): Record<string, unknown> => ({
  cniVersion: '0.4.0',
  name: 'kernel-gossip',
  plugins: [
    {
      type: 'bridge',
      bridge: POD_BRIDGE,
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], dataDir: paths.cniDataDir },
    },
  ],
});

export interface Containerd {
  readonly child: Child;
  readonly paths: ContainerdPaths;
  /** `ctr` against this containerd in the CRI namespace; resolves with stdout. */
  ctr(args: readonly string[], timeoutMs?: number): Promise<string>;
}

/** Writes the config and CNI conflist under `dir`, starts containerd and waits until it answers. */
export const startContainerd = async (binaries: NodeBinaries, dir: string, sandboxImage: string, deadline: number): Promise<Containerd> => {
  const paths = containerdPaths(dir);
  await mkdir(paths.cniConfDir, { recursive: true });
  await writeFile(paths.config, containerdConfig(paths, { sandboxImage, cniBinDir: binaries.cniBinDir }));
  await writeFile(path.join(paths.cniConfDir, '10-kernel-gossip.conflist'), JSON.stringify(cniConflist(paths), null, 2));
  const child = spawnChild('containerd', binaries.containerd, ['--config', paths.config]);
  const ctr = async (args: readonly string[], timeoutMs = 60_000): Promise<string> => {
    const { stdout } = await run(binaries.ctr, ['--address', paths.socket, '--namespace', CRI_NAMESPACE, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  };
  let lastError = '';
  for (;;) {
    if (child.hasExited()) {
      throw new Error(`containerd exited (${await child.exited}) before it answered:\n${child.tail()}`);
    }
    try {
      await ctr(['version'], 5_000);
      return { child, paths, ctr };
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      await child.stop(5_000);
      throw new Error(`containerd did not answer in time (last error: ${lastError}):\n${child.tail()}`);
    }
    await sleep(200);
  }
};

/**
 * Kills and deletes every task and container left in the CRI namespace (what a kubelet that
 * stopped mid-way leaves behind). Each failure is collected, not thrown, so the sweep goes on.
 */
export const sweepContainers = async (containerd: Containerd): Promise<string[]> => {
  const problems: string[] = [];
  const ids = async (args: string[]): Promise<string[]> =>
    (await containerd.ctr(args).catch((error: unknown) => {
      problems.push(String(error));
      return '';
    }))
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0] ?? '')
      .filter((id) => id !== '' && id !== 'TASK');
  for (const id of await ids(['tasks', 'list'])) {
    await containerd.ctr(['tasks', 'kill', '--signal', 'SIGKILL', id]).catch(() => undefined);
    await containerd.ctr(['tasks', 'delete', '--force', id]).catch((error: unknown) => problems.push(`task ${id}: ${String(error)}`));
  }
  for (const id of await ids(['containers', 'list', '--quiet'])) {
    await containerd.ctr(['containers', 'delete', id]).catch((error: unknown) => problems.push(`container ${id}: ${String(error)}`));
  }
  return problems;
};
