/**
 * The kernel lab's own pods, made by hand with runc the way a kubelet makes them. The lab's throttle
 * and birth tests have the local node's kubelet birth their cgroupfs pods instead (kubelet-pods.ts);
 * there this runc path stays only for what that node cannot give, the systemd layout of cgroup v2
 * nodes (the node here runs the cgroupfs driver on cgroup v1). A pod is a pod-level
 * cgroup (in every v1 hierarchy, with the pod's CPU limit when every container has one), a sandbox
 * container that owns the pod's network/IPC/UTS namespaces, and app containers that join them, each
 * started by `runc` from a busybox bundle in its kubepods cgroup with its CPU quota. Both cgroup
 * layouts are made (the systemd layout as equivalently named v1 cgroups: the v2 mount here is empty).
 *
 * Everything a lab made is removed by {@link Lab.close}, also when a step fails, and on SIGINT /
 * SIGTERM of the process.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  type CgroupLayout,
  containerCgroupPath,
  type QosClass,
  podCgroupPath,
} from '../../shared/pxl/cgroup-identity.ts';
import { labRootfs } from './assets.ts';
import { allHierarchies, cgroupIds, hierarchyOf, makeCgroupEverywhere, removeCgroupEverywhere, writeCgroupFile } from './cgroupfs.ts';
import { checkLabHost, type LabHost } from './host.ts';
import { ociConfig } from './oci.ts';

const exec = promisify(execFile);

/** What a container runs: the burner's shapes, or a plain command. */
export type Workload =
  | { readonly shape: 'steady'; readonly threads: number; readonly durationMs: number }
  | { readonly shape: 'bursty'; readonly threads: number; readonly durationMs: number; readonly burstMs: number; readonly everyMs: number }
  | { readonly shape: 'duty'; readonly threads: number; readonly durationMs: number; readonly cpuMs: number; readonly everyMs: number }
  | { readonly shape: 'idle'; readonly durationMs: number }
  | { readonly shape: 'command'; readonly args: readonly string[] };

export interface ContainerSpec {
  readonly name: string;
  readonly workload: Workload;
  /** CPU limit as CFS quota per period (µs); undefined for no limit. */
  readonly cpuQuotaUs?: number;
  readonly cpuPeriodUs?: number;
}

export interface PodSpec {
  readonly namespace: string;
  readonly name: string;
  readonly layout: CgroupLayout;
  readonly qos: QosClass;
  /** Owner reference the lab pretends a controller set, e.g. `{ kind: 'ReplicaSet', name: 'web-5d9c' }`. */
  readonly owner?: { readonly kind: string; readonly name: string };
  readonly containers: readonly ContainerSpec[];
}

export interface LabContainer {
  readonly pod: LabPod;
  readonly name: string;
  /** 64 hex digits, like a containerd container id; also the runc container id. */
  readonly id: string;
  readonly cgroupPath: string;
  readonly sandbox: boolean;
  readonly spec: ContainerSpec;
  readonly ociConfig: Record<string, unknown>;
  /** Host pid of the container's init process once started. */
  pid: number;
  /** `(hierarchy id, kernfs id)` of the container's cgroup in every hierarchy, once started. */
  cgroupIds: { hierarchy: number; id: number }[];
  /** The CPU limit files of the container's cgroup as the kernel showed them once it ran. */
  limitFiles?: LimitFiles;
}

/** `cpu.cfs_quota_us`, `cpu.cfs_period_us` and `cpu.shares` of a v1 cgroup, as read (trimmed). */
export interface LimitFiles {
  readonly quota: string;
  readonly period: string;
  readonly shares: string;
}

export interface LabPod {
  /** The pod as made: for a kubelet's pod, with the name and owner its controllers gave it. */
  readonly spec: PodSpec;
  /** The spec as the lab was asked for it, when the pod differs from it (a controller named it). */
  readonly asked?: PodSpec;
  readonly uid: string;
  readonly cgroupPath: string;
  readonly sandbox: LabContainer;
  readonly containers: LabContainer[];
  /** `(hierarchy id, kernfs id)` of the pod cgroup and its kubepods parents, in every hierarchy. */
  cgroupIds: { hierarchy: number; id: number }[];
  /** Who made the pod: the lab itself with runc, or a real kubelet through CRI (kubelet-pods.ts). */
  readonly bornBy: 'runc' | 'kubelet';
  /** For a kubelet's pod: the times the API server shows for it (RFC 3339, whole seconds). */
  readonly reported?: PodReport;
  /** The CPU limit files of the pod-level cgroup once its sandbox ran. */
  limitFiles?: LimitFiles;
}

/** A pod's timestamps as the API server shows them (set by the API server and the kubelet). */
export interface PodReport {
  /** `metadata.creationTimestamp`: the API server stored the pod. */
  readonly created: string;
  /** `status.startTime`: the kubelet acknowledged the pod, before it made anything for it. */
  readonly started: string;
  /** `status.containerStatuses[].state.running.startedAt` by container name: containerd started the task. */
  readonly containersStarted: Readonly<Record<string, string>>;
}

export class LabError extends Error {
  override readonly name = 'LabError';
}

/** The command line of a workload in the lab's rootfs (also the node image's). */
export const workloadArgs = (workload: Workload): string[] => {
  switch (workload.shape) {
    case 'steady':
      return ['/bin/burner', 'steady', String(workload.threads), String(workload.durationMs)];
    case 'bursty':
      return ['/bin/burner', 'bursty', String(workload.threads), String(workload.durationMs), String(workload.burstMs), String(workload.everyMs)];
    case 'duty':
      return ['/bin/burner', 'duty', String(workload.threads), String(workload.durationMs), String(workload.cpuMs), String(workload.everyMs)];
    case 'idle':
      return ['/bin/burner', 'idle', String(workload.durationMs)];
    case 'command':
      return [...workload.args];
  }
};

const containerId = (): string => randomBytes(32).toString('hex');

/** `(hierarchy id, kernfs id)` of a pod cgroup and each of its kubepods parents, in every hierarchy. */
export const podLevelCgroupIds = async (podCgroup: string): Promise<{ hierarchy: number; id: number }[]> => {
  const levels = podCgroup.split('/').filter((part) => part !== '');
  const ids: { hierarchy: number; id: number }[] = [];
  for (let depth = 1; depth <= levels.length; depth += 1) {
    ids.push(...(await cgroupIds(`/${levels.slice(0, depth).join('/')}`)));
  }
  return ids;
};

/** The CPU limit files of a cgroup in the v1 cpu hierarchy. */
export const readLimitFiles = async (cgroupPath: string): Promise<LimitFiles> => {
  const cpu = await hierarchyOf('cpu');
  const read = async (file: string): Promise<string> => (await readFile(path.join(cpu, cgroupPath, file), 'utf8')).trim();
  return { quota: await read('cpu.cfs_quota_us'), period: await read('cpu.cfs_period_us'), shares: await read('cpu.shares') };
};

/** Pod sandbox: `/pause`, as CRI runtimes run the pause image (dev/lab/burner.c), until the lab removes the pod. */
const SANDBOX_ARGS = ['/pause'];

export interface LabOptions {
  readonly signal?: AbortSignal;
}

/** A running lab: create pods, start their containers, then close it. */
export class Lab {
  readonly host: LabHost;
  readonly rootfs: string;
  readonly pods: LabPod[] = [];
  private readonly workDir: string;
  private readonly runcRoot: string;
  private readonly started = new Set<string>();
  private closed = false;
  private readonly onSignal: () => void;

  private constructor(host: LabHost, rootfs: string, workDir: string) {
    this.host = host;
    this.rootfs = rootfs;
    this.workDir = workDir;
    this.runcRoot = path.join(workDir, 'runc');
    this.onSignal = () => {
      void this.close().finally(() => process.exit(130));
    };
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** Checks the host, builds (or reuses) the rootfs, and opens a lab. */
  static async open(): Promise<Lab> {
    const host = await checkLabHost();
    const rootfs = await labRootfs();
    const workDir = await mkdtemp(path.join(tmpdir(), 'kg-lab-'));
    return new Lab(host, rootfs, workDir);
  }

  /**
   * Creates a pod like a kubelet: its pod cgroup in every hierarchy (with the pod's CPU limit when
   * every container has one), then starts the sandbox. App containers start with {@link startContainer}.
   */
  async createPod(spec: PodSpec): Promise<LabPod> {
    this.assertOpen();
    const uid = randomUUID();
    const cgroupPath = podCgroupPath(spec.layout, spec.qos, uid);
    const sandboxSpec: ContainerSpec = { name: 'POD', workload: { shape: 'command', args: SANDBOX_ARGS } };
    const pod: LabPod = { spec, uid, cgroupPath, bornBy: 'runc', sandbox: undefined as unknown as LabContainer, containers: [], cgroupIds: [] };
    this.pods.push(pod);
    await makeCgroupEverywhere(cgroupPath);
    const limits = spec.containers.map((c) => c.cpuQuotaUs);
    if (limits.length > 0 && limits.every((q) => q !== undefined)) {
      const period = 100_000;
      const quota = spec.containers.reduce((sum, c) => sum + ((c.cpuQuotaUs ?? 0) * period) / (c.cpuPeriodUs ?? period), 0);
      await writeCgroupFile('cpu', cgroupPath, 'cpu.cfs_period_us', String(period));
      await writeCgroupFile('cpu', cgroupPath, 'cpu.cfs_quota_us', String(Math.round(quota)));
    }
    const sandbox = this.containerOf(pod, sandboxSpec, true, undefined);
    (pod as { sandbox: LabContainer }).sandbox = sandbox;
    await this.run(sandbox);
    // runc made the pod level in the v2 mount too: collect ids once the sandbox exists.
    pod.cgroupIds.push(...(await podLevelCgroupIds(cgroupPath)));
    pod.limitFiles = await readLimitFiles(cgroupPath);
    for (const containerSpec of spec.containers) {
      pod.containers.push(this.containerOf(pod, containerSpec, false, sandbox.pid));
    }
    return pod;
  }

  /** Starts an app container of a pod made by {@link createPod}; resolves once its entrypoint runs. */
  async startContainer(container: LabContainer): Promise<void> {
    this.assertOpen();
    await this.run(container);
  }

  /** Starts every app container of the pod, in order. */
  async startPod(pod: LabPod): Promise<void> {
    for (const container of pod.containers) {
      await this.startContainer(container);
    }
  }

  /** Waits until the container's init process has exited (its workload is done). */
  async waitExited(container: LabContainer, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const state = await this.state(container);
      if (state === 'stopped' || state === 'gone') {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new LabError(`container ${container.name} still running after ${timeoutMs} ms`);
  }

  /** runc's view of the container: created, running, stopped, or gone. */
  async state(container: LabContainer): Promise<string> {
    try {
      const { stdout } = await exec(this.host.runc, ['--root', this.runcRoot, 'state', container.id]);
      return (JSON.parse(stdout) as { status: string }).status;
    } catch {
      return 'gone';
    }
  }

  /**
   * Removes every container and cgroup this lab made (runc delete -f, then the pod cgroups in every
   * hierarchy, then kubepods parents left empty), and its work directory. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    const errors: unknown[] = [];
    for (const id of this.started) {
      await exec(this.host.runc, ['--root', this.runcRoot, 'delete', '--force', id]).catch(() => undefined);
    }
    for (const pod of this.pods) {
      await removeCgroupEverywhere(pod.cgroupPath).catch((error: unknown) => errors.push(error));
      await this.removeEmptyParents(pod.cgroupPath);
    }
    await rm(this.workDir, { recursive: true, force: true }).catch((error: unknown) => errors.push(error));
    if (errors.length > 0) {
      throw new LabError('lab cleanup left things behind', { cause: errors[0] });
    }
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new LabError('the lab is closed');
    }
  }

  /** rmdir the kubepods parents of a pod cgroup that are now empty (others may still use them). */
  private async removeEmptyParents(cgroupPath: string): Promise<void> {
    const parts = cgroupPath.split('/').filter((part) => part !== '');
    for (let depth = parts.length - 1; depth >= 1; depth -= 1) {
      const parent = `/${parts.slice(0, depth).join('/')}`;
      for (const hierarchy of await allHierarchies()) {
        await rmdir(path.join(hierarchy, parent)).catch(() => undefined);
      }
    }
  }

  private containerOf(pod: LabPod, spec: ContainerSpec, sandbox: boolean, sandboxPid: number | undefined): LabContainer {
    const id = containerId();
    const cgroupPath = containerCgroupPath(pod.spec.layout, pod.spec.qos, pod.uid, id);
    const config = ociConfig({
      rootfs: this.rootfs,
      args: sandbox ? SANDBOX_ARGS : workloadArgs(spec.workload),
      hostname: pod.spec.name,
      cgroupsPath: cgroupPath,
      ...(spec.cpuQuotaUs !== undefined ? { cpuQuotaUs: spec.cpuQuotaUs, cpuPeriodUs: spec.cpuPeriodUs ?? 100_000 } : {}),
      cpuShares: sandbox ? 2 : 1024,
      ...(sandboxPid !== undefined ? { joinSandboxPid: sandboxPid } : {}),
    });
    return { pod, name: spec.name, id, cgroupPath, sandbox, spec, ociConfig: config, pid: 0, cgroupIds: [] };
  }

  /** `runc run -d` of a container from its own bundle; records its init pid. */
  private async run(container: LabContainer): Promise<void> {
    const bundle = path.join(this.workDir, 'bundles', container.id);
    await mkdir(bundle, { recursive: true });
    await writeFile(path.join(bundle, 'config.json'), JSON.stringify(container.ociConfig, null, 2));
    const pidFile = path.join(bundle, 'pid');
    const log = await open(path.join(bundle, 'output.log'), 'w');
    this.started.add(container.id);
    try {
      const child = spawn(
        this.host.runc,
        ['--root', this.runcRoot, 'run', '--detach', '--bundle', bundle, '--pid-file', pidFile, container.id],
        { stdio: ['ignore', log.fd, log.fd] },
      );
      const code = await new Promise<number | null>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (exitCode) => { resolve(exitCode); });
      });
      if (code !== 0) {
        const output = await readFile(path.join(bundle, 'output.log'), 'utf8').catch(() => '');
        throw new LabError(`runc run ${container.name} failed (${code}): ${output.slice(0, 2000)}`);
      }
    } finally {
      await log.close();
    }
    container.pid = Number((await readFile(pidFile, 'utf8')).trim());
    container.cgroupIds = await cgroupIds(container.cgroupPath);
    container.limitFiles = await readLimitFiles(container.cgroupPath);
  }
}

/** The cpu hierarchy mount point (for samplers that read cpu.stat often). */
export const cpuHierarchy = async (): Promise<string> => hierarchyOf('cpu');
