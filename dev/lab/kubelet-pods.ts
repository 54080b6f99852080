/**
 * The kernel lab's pods born by a real kubelet (dev/kube/node.ts): a lab {@link PodSpec} becomes a
 * Pod created through the API server, the scheduler binds it to the node and the kubelet births it
 * through CRI (containerd, its shim, runc) in the kubelet's own `kubepods` cgroups. What the lab
 * keeps as its ground truth is then read from the parts that made the pod, never from the request:
 * the pod's uid, QoS class and container ids from the API server, the OCI spec containerd handed runc
 * (`config.json` in the shim's bundle) with its cgroup path and CPU limit, the init pid, and the
 * kernel's ids of the cgroups.
 *
 * This node runs the cgroupfs driver on cgroup v1, so it gives the `cgroupfs` layout only; pods of
 * the `systemd` layout (cgroup v2 with the systemd driver, as on GKE) still come from the runc lab
 * (lab.ts), under `/kubepods.slice`, which the kubelet's cgroupfs driver never scans.
 *
 * A pod whose spec names an owner is made by that owner's real controller, as on a cluster: a
 * ReplicaSet `<deployment>-<hash>` means a Deployment `<deployment>` (the controller-manager makes
 * the ReplicaSet, whose controller makes the pod), a Job means a Job. The pod's name, uid and owner
 * references are then the controllers' (read back from the API server), not the spec's: what the
 * fixture recorder and the live Vizier tests need, since Pixie names a pod's Deployment through its
 * ReplicaSet. A spec without an owner is a bare Pod.
 *
 * Every container runs its workload and then execs `sleep`: the container (and so its cgroup, where
 * cpu.stat is read) outlives the workload, as the runc lab's stopped containers did. A kubelet-born
 * container that exits has its cgroup removed by runc within moments.
 *
 * @module
 */
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig, type V1Deployment, type V1Job, type V1Pod, type V1PodTemplateSpec, type V1ResourceRequirements } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { podCgroupPath } from '../../shared/pxl/cgroup-identity.ts';
import { CRI_NAMESPACE } from '../kube/containerd.ts';
import type { LocalNode } from '../kube/node.ts';
import { pollUntil } from '../kube/node-workloads.ts';
import { deploymentOf } from '../vizier/pxl/backend.ts';
import { cgroupIds } from './cgroupfs.ts';
import { type ContainerSpec, LabError, type LabContainer, type LabPod, type PodReport, type PodSpec, podLevelCgroupIds, readLimitFiles, workloadArgs } from './lab.ts';

/** What a container execs once its workload is done; its presence as the init process means "done". */
export const HOLD_ARGS = ['/bin/sleep', '3600'] as const;

/** The container's command: the workload, then `exec sleep` (arguments passed as "$@", never spliced into the script). */
export const heldCommand = (spec: ContainerSpec): string[] => ['/bin/sh', '-c', `"$@"; exec ${HOLD_ARGS.join(' ')}`, 'workload', ...workloadArgs(spec.workload)];

/** The workload's command line in a container's process args: after {@link heldCommand}'s shell prefix, or the args themselves (runc lab). */
export const workloadOfArgs = (args: readonly string[]): readonly string[] => {
  const held = heldCommand({ name: '', workload: { shape: 'command', args: [] } });
  return held.every((arg, i) => args[i] === arg) ? args.slice(held.length) : args;
};

/** Millicores of a CFS quota per period (what `limits.cpu` says; the kubelet writes it back over a 100 ms period). */
const millicores = (spec: ContainerSpec): number | undefined =>
  spec.cpuQuotaUs === undefined ? undefined : Math.max(1, Math.round((spec.cpuQuotaUs / (spec.cpuPeriodUs ?? 100_000)) * 1000));

/** Resources that give the pod the QoS class the spec asks for. */
const resourcesOf = (pod: PodSpec, spec: ContainerSpec): V1ResourceRequirements => {
  const limit = millicores(spec);
  switch (pod.qos) {
    case 'besteffort':
      if (limit !== undefined) {
        throw new LabError(`${pod.namespace}/${pod.name}: container ${spec.name} has a CPU limit, so the pod cannot be BestEffort`);
      }
      return {};
    case 'guaranteed':
      if (limit === undefined) {
        throw new LabError(`${pod.namespace}/${pod.name}: container ${spec.name} has no CPU limit, so the pod cannot be Guaranteed`);
      }
      return { requests: { cpu: `${limit}m`, memory: '16Mi' }, limits: { cpu: `${limit}m`, memory: '16Mi' } };
    case 'burstable':
      // A request below any limit: the pod is Burstable.
      return limit === undefined ? { requests: { cpu: '10m' } } : { requests: { cpu: '10m' }, limits: { cpu: `${limit}m` } };
  }
};

/** The label that finds a lab pod whatever its controller named it. */
export const LAB_POD_LABEL = 'kernel-gossip/lab-pod';

const labPodLabels = (spec: PodSpec): Record<string, string> => ({ 'kernel-gossip/lab': 'true', [LAB_POD_LABEL]: spec.name });

/** The pod template of a lab pod spec (cgroupfs layout only: see the module comment). Pure. */
const podTemplate = (spec: PodSpec, image: string, restartPolicy: 'Always' | 'Never'): V1PodTemplateSpec => {
  if (spec.layout !== 'cgroupfs') {
    throw new LabError(`${spec.namespace}/${spec.name}: this node's kubelet (cgroupfs driver, cgroup v1) gives only the cgroupfs layout, not ${spec.layout}`);
  }
  return {
    metadata: { labels: labPodLabels(spec) },
    spec: {
      restartPolicy,
      dnsPolicy: 'Default',
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      containers: spec.containers.map((container) => ({
        name: container.name,
        image,
        imagePullPolicy: 'Never',
        command: heldCommand(container),
        resources: resourcesOf(spec, container),
      })),
    },
  };
};

/** The bare Pod object of a lab pod spec without an owner. Pure. */
export const kubeletPodManifest = (spec: PodSpec, image: string): V1Pod => {
  const template = podTemplate(spec, image, 'Never');
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: spec.name, namespace: spec.namespace, labels: labPodLabels(spec) }, ...(template.spec === undefined ? {} : { spec: template.spec }) };
};

/** What the API server is asked for to get a lab pod: the pod itself, or the controller its owner names. */
export type LabPodObject = { readonly kind: 'Pod'; readonly object: V1Pod } | { readonly kind: 'Deployment'; readonly object: V1Deployment } | { readonly kind: 'Job'; readonly object: V1Job };

/**
 * The object that makes a lab pod on the node: a bare Pod, a one-replica Deployment for a
 * ReplicaSet owner `<deployment>-<hash>` (pods restart Always there; the held command keeps them
 * running), or a Job for a Job owner (no retries: a failed pod is the lab's failure). Pure.
 */
export const labPodObject = (spec: PodSpec, image: string): LabPodObject => {
  const owner = spec.owner;
  if (owner === undefined) {
    return { kind: 'Pod', object: kubeletPodManifest(spec, image) };
  }
  const selector = { matchLabels: { [LAB_POD_LABEL]: spec.name } };
  if (owner.kind === 'ReplicaSet') {
    const deployment = deploymentOf(owner);
    if (deployment === '') {
      throw new LabError(`${spec.namespace}/${spec.name}: ReplicaSet owner ${owner.name} is not named <deployment>-<hash>`);
    }
    return {
      kind: 'Deployment',
      object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: deployment, namespace: spec.namespace, labels: { 'kernel-gossip/lab': 'true' } }, spec: { replicas: 1, selector, template: podTemplate(spec, image, 'Always') } },
    };
  }
  if (owner.kind === 'Job') {
    return {
      kind: 'Job',
      object: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: owner.name, namespace: spec.namespace, labels: { 'kernel-gossip/lab': 'true' } }, spec: { backoffLimit: 0, template: podTemplate(spec, image, 'Never') } },
    };
  }
  throw new LabError(`${spec.namespace}/${spec.name}: the node makes pods owned by a ReplicaSet (through a Deployment) or a Job, not by a ${owner.kind}`);
};

/** A pod asked of the API server, not necessarily born yet. */
export interface RequestedPod {
  /** The spec with the pod's name and owner as its controllers made them. */
  readonly spec: PodSpec;
  /** The spec as the lab asked for it. */
  readonly asked: PodSpec;
  /** What was created for it (deleted again by {@link KubeletPods.close}). */
  readonly made: { readonly kind: LabPodObject['kind']; readonly name: string };
  readonly uid: string;
  /** The pod-level cgroup the kubelet makes for it (cgroupfs layout). */
  readonly cgroupPath: string;
}

const SANDBOX_ID_ANNOTATION = 'io.kubernetes.cri.sandbox-id';

type OciSpec = Record<string, unknown> & { readonly linux?: { readonly cgroupsPath?: string }; readonly annotations?: Readonly<Record<string, string>>; readonly process?: { readonly args?: readonly string[] } };

const running = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).length === (pod.spec?.containers ?? []).length && (pod.status.containerStatuses ?? []).every((c) => c.state?.running !== undefined && c.containerID !== undefined);

const iso = (time: Date | string | undefined): string => (time === undefined ? '' : new Date(time).toISOString());

/** The times the API server shows for a running pod. */
const reportOf = (pod: V1Pod): PodReport => ({
  created: iso(pod.metadata?.creationTimestamp),
  started: iso(pod.status?.startTime),
  containersStarted: Object.fromEntries((pod.status?.containerStatuses ?? []).map((c) => [c.name, iso(c.state?.running?.startedAt)])),
});

/** Pods of the lab on a local node: create, wait until born, read what made them, delete. */
export class KubeletPods {
  readonly node: LocalNode;
  readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly batch: BatchV1Api;
  private readonly requested: RequestedPod[] = [];
  private readonly namespaces = new Set<string>();

  constructor(node: LocalNode) {
    this.node = node;
    const config = new KubeConfig();
    config.loadFromFile(node.kube.kubeconfigPath);
    this.core = config.makeApiClient(CoreV1Api);
    this.apps = config.makeApiClient(AppsV1Api);
    this.batch = config.makeApiClient(BatchV1Api);
  }

  /**
   * Creates the pod (and its namespace) through the API server: the pod itself, or its owner's
   * controller, in which case this waits until the controllers have created the pod object.
   */
  async create(asked: PodSpec, timeoutMs = 60_000): Promise<RequestedPod> {
    const made = labPodObject(asked, this.node.image);
    const namespace = asked.namespace;
    if (!this.namespaces.has(namespace)) {
      await this.core.createNamespace({ body: { metadata: { name: namespace } } }).catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== 409) {
          throw new LabError(`creating namespace ${namespace}`, { cause: error });
        }
      });
      this.namespaces.add(namespace);
    }
    let pod: V1Pod;
    if (made.kind === 'Pod') {
      pod = await this.core.createNamespacedPod({ namespace, body: made.object });
    } else {
      await (made.kind === 'Deployment' ? this.apps.createNamespacedDeployment({ namespace, body: made.object }) : this.batch.createNamespacedJob({ namespace, body: made.object }));
      const pods = await pollUntil(
        `the ${made.kind} controllers' pod of ${namespace}/${asked.name}`,
        async () => (await this.core.listNamespacedPod({ namespace, labelSelector: `${LAB_POD_LABEL}=${asked.name}` })).items,
        (items) => items.length > 0,
        timeoutMs,
        (items) => String(items.length),
      );
      if (pods.length !== 1) {
        throw new LabError(`${namespace}/${asked.name}: the ${made.kind} made ${pods.length} pods, the lab asked for one`);
      }
      pod = pods[0] as V1Pod;
    }
    const uid = pod.metadata?.uid;
    const name = pod.metadata?.name;
    if (uid === undefined || name === undefined) {
      throw new LabError(`the API server made a pod for ${namespace}/${asked.name} without a name or uid`);
    }
    // The owner the pod's controller set (what Pixie's metadata service reads), not the spec's.
    const ref = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
    const spec: PodSpec = { ...asked, name, ...(ref === undefined ? {} : { owner: { kind: ref.kind, name: ref.name } }) };
    const requested: RequestedPod = { spec, asked, made: { kind: made.kind, name: made.object.metadata?.name ?? name }, uid, cgroupPath: podCgroupPath('cgroupfs', asked.qos, uid) };
    this.requested.push(requested);
    return requested;
  }

  /** The pod as the API server shows it now. */
  read(pod: RequestedPod): Promise<V1Pod> {
    return this.core.readNamespacedPod({ namespace: pod.spec.namespace, name: pod.spec.name });
  }

  /**
   * Waits until the kubelet reports every container running, then reads the pod as the kernel lab
   * describes pods: ids from the pod status, each container's (and the sandbox's) OCI spec, init pid
   * and cgroup path from containerd's bundle, cgroup ids and limit files from the kernel.
   */
  async waitBorn(pod: RequestedPod, timeoutMs = 90_000): Promise<LabPod & { readonly status: V1Pod }> {
    const status = await pollUntil(`${pod.spec.namespace}/${pod.spec.name} running on the node`, () => this.read(pod), running, timeoutMs, (p) => JSON.stringify(p.status?.containerStatuses?.map((c) => c.state) ?? p.status?.phase ?? null));
    const actualQos = status.status?.qosClass?.toLowerCase();
    if (actualQos !== pod.spec.qos) {
      throw new LabError(`${pod.spec.namespace}/${pod.spec.name}: the API server gave QoS class ${actualQos ?? 'none'}, the lab asked for ${pod.spec.qos}`);
    }
    const born: LabPod & { status: V1Pod } = { spec: pod.spec, asked: pod.asked, uid: pod.uid, cgroupPath: pod.cgroupPath, bornBy: 'kubelet', reported: reportOf(status), sandbox: undefined as unknown as LabContainer, containers: [], cgroupIds: [], status };
    let sandboxId: string | undefined;
    for (const spec of pod.spec.containers) {
      const id = /^containerd:\/\/([0-9a-f]{64})$/.exec(status.status?.containerStatuses?.find((c) => c.name === spec.name)?.containerID ?? '')?.[1];
      if (id === undefined) {
        throw new LabError(`${pod.spec.namespace}/${pod.spec.name}: no containerd id for ${spec.name} in the pod status`);
      }
      const container = await this.containerOf(born, spec, id, false);
      sandboxId ??= (container.ociConfig as OciSpec).annotations?.[SANDBOX_ID_ANNOTATION];
      born.containers.push(container);
    }
    if (sandboxId === undefined) {
      throw new LabError(`${pod.spec.namespace}/${pod.spec.name}: containerd's specs name no sandbox (${SANDBOX_ID_ANNOTATION})`);
    }
    (born as { sandbox: LabContainer }).sandbox = await this.containerOf(born, { name: 'POD', workload: { shape: 'command', args: [] } }, sandboxId, true);
    born.cgroupIds.push(...(await podLevelCgroupIds(pod.cgroupPath)));
    born.limitFiles = await readLimitFiles(pod.cgroupPath);
    return born;
  }

  /** Waits until the container's workload is done: its init process has exec'd the hold command. */
  async waitWorkloadDone(container: LabContainer, timeoutMs = 90_000): Promise<void> {
    await pollUntil(
      `the workload of ${container.pod.spec.name}/${container.name} done`,
      async () => (await readFile(`/proc/${container.pid}/cmdline`, 'utf8').catch(() => 'gone')).split('\0').filter((arg) => arg !== ''),
      (args) => {
        if (args[0] === 'gone') {
          throw new LabError(`${container.pod.spec.name}/${container.name}: its init process ${container.pid} is gone (the container exited)`);
        }
        return args.join(' ') === HOLD_ARGS.join(' ');
      },
      timeoutMs,
    );
  }

  /**
   * Deletes every pod and controller this made (the controllers' pods with them: foreground
   * deletion) and waits until the API server has none of them left, so the kubelet has removed
   * their containers and cgroups.
   */
  async close(timeoutMs = 60_000): Promise<void> {
    const notFound = (error: unknown): boolean => (error as { code?: unknown }).code === 404;
    for (const pod of this.requested) {
      await this.madeObject(pod)
        .remove()
        .catch((error: unknown) => {
          if (!notFound(error)) {
            throw new LabError(`deleting ${pod.made.kind} ${pod.spec.namespace}/${pod.made.name}`, { cause: error });
          }
        });
    }
    const until = Date.now() + timeoutMs;
    for (const pod of this.requested) {
      const made = this.madeObject(pod);
      for (;;) {
        const gone = (await made.read().then(() => false, notFound)) && (await this.read(pod).then(() => false, notFound));
        if (gone) {
          break;
        }
        if (Date.now() > until) {
          throw new LabError(`the node did not remove ${pod.made.kind} ${pod.spec.namespace}/${pod.made.name} and its pod within ${timeoutMs} ms`);
        }
        await sleep(250);
      }
    }
    this.requested.length = 0;
  }

  /** Reading and deleting (foreground: the controllers' pods with it) what was created for a pod. */
  private madeObject(pod: RequestedPod): { remove(): Promise<unknown>; read(): Promise<unknown> } {
    const target = { namespace: pod.spec.namespace, name: pod.made.name };
    const removal = { ...target, gracePeriodSeconds: 1, propagationPolicy: 'Foreground' };
    switch (pod.made.kind) {
      case 'Pod':
        return { remove: () => this.core.deleteNamespacedPod(removal), read: () => this.core.readNamespacedPod(target) };
      case 'Deployment':
        return { remove: () => this.apps.deleteNamespacedDeployment(removal), read: () => this.apps.readNamespacedDeployment(target) };
      case 'Job':
        return { remove: () => this.batch.deleteNamespacedJob(removal), read: () => this.batch.readNamespacedJob(target) };
    }
  }

  private async containerOf(pod: LabPod, spec: ContainerSpec, id: string, sandbox: boolean): Promise<LabContainer> {
    const bundle = path.join(this.node.containerdState, 'io.containerd.runtime.v2.task', CRI_NAMESPACE, id);
    const config = JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8')) as OciSpec;
    const pid = Number((await readFile(path.join(bundle, 'init.pid'), 'utf8')).trim());
    const cgroupPath = config.linux?.cgroupsPath;
    if (cgroupPath === undefined || !Number.isInteger(pid) || pid <= 0) {
      throw new LabError(`containerd's bundle of ${id} has no cgroup path or init pid`);
    }
    const containerSpec: ContainerSpec = sandbox ? { ...spec, workload: { shape: 'command', args: [...(config.process?.args ?? [])] } } : spec;
    return { pod, name: spec.name, id, cgroupPath, sandbox, spec: containerSpec, ociConfig: config, pid, cgroupIds: await cgroupIds(cgroupPath), limitFiles: await readLimitFiles(cgroupPath) };
  }
}
