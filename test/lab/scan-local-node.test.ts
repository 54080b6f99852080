/**
 * `kernel-gossip scan --local` on a real node (issue 15 item 3): the project's one-node cluster
 * (dev/kube/node.ts: control plane, controllers, containerd, a kubelet) runs a throttled Deployment
 * (a busy burner under 50m) and a bare Pod of the same spec, each with an idle sidecar that has no
 * CPU limit (so the pod cgroup has no quota and only the container's own quota throttles it; see
 * dev/demo/node-loop.ts). The real CLI then scans the node twice: named from the API server
 * (`--kubeconfig`, `--node`) and from the kubelet's read-only pod list (`--kubelet-url`). Every check
 * is against what the kernel (the container cgroups' cpu.stat and quota files, read here), the API
 * server (pods, ReplicaSet, Deployment) or the CLI's own counts say; the hand-made cgroups of
 * scan-local.test.ts cover the layouts and runtimes this node cannot give (systemd driver, CRI-O,
 * Docker), and the wait for the window and its interruption.
 *
 * Root, bpftrace and the node's set-up (dev/setup): fails, never skips. Run under
 * `flock /tmp/kg-lab.lock` (the kubelet owns `kubepods`).
 */
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CpuStat } from '../../dev/lab/cpu-stat.ts';
import { hierarchyOf, readCpuStat } from '../../dev/lab/cgroupfs.ts';
import { type LocalNode, startLocalNode } from '../../dev/kube/node.ts';
import { containerIdOf, nodeDeployment, pollUntil, waitRolledOut } from '../../dev/kube/node-workloads.ts';
import { decodeFinding } from '../../shared/findings/codec.ts';
import type { ThrottleFinding } from '../../shared/findings/types.ts';
import { nodeLeftovers } from './node-leftovers.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'cli/main.ts');
const NAMESPACE = 'scan';
const WINDOW_S = 10;

/** Burner and sidecar as in the node loop: the burner always runnable, the sidecar idle and unlimited. */
const spec = (image: string, name: string): ReturnType<typeof nodeDeployment> =>
  nodeDeployment({
    namespace: NAMESPACE,
    name,
    image,
    container: 'app',
    workload: { shape: 'steady', threads: 1, durationMs: 3_600_000 },
    cpuLimitMillicores: 50,
    cpuRequestMillicores: 20,
    unlimitedSidecar: { name: 'sidecar', workload: { shape: 'idle', durationMs: 3_600_000 }, cpuRequestMillicores: 10 },
  });

/** A container cgroup as the kernel shows it: its path in the cpu hierarchy and its quota file. */
interface KernelContainer {
  readonly cgroupPath: string;
  readonly id: string;
  readonly quotaUs: number;
}

/**
 * Every container cgroup under `/kubepods` of the cpu hierarchy, read here without the project's
 * discovery: the kubelet's cgroupfs layout is `/kubepods[/<qos>]/pod<uid>/<container id>`
 * (kubernetes pkg/kubelet/cm/cgroup_manager_linux.go, containerd's cgroupsPath), so a container is
 * any folder whose parent is a `pod<uid>` folder.
 */
const kernelContainers = async (cpu: string): Promise<KernelContainer[]> => {
  const found: KernelContainer[] = [];
  const walk = async (cgroupPath: string): Promise<void> => {
    const entries = await readdir(path.join(cpu, cgroupPath), { withFileTypes: true });
    for (const entry of entries.filter((e) => e.isDirectory())) {
      const child = `${cgroupPath}/${entry.name}`;
      if (/^pod[0-9a-f-]{36}$/.test(path.basename(cgroupPath))) {
        const quota = Number((await readFile(path.join(cpu, child, 'cpu.cfs_quota_us'), 'utf8')).trim());
        found.push({ cgroupPath: child, id: entry.name, quotaUs: quota });
      } else {
        await walk(child);
      }
    }
  };
  await walk('/kubepods');
  return found;
};

interface Scan {
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
  /** The kernel's counters of each burner before the CLI started and after it exited. */
  readonly kernel: ReadonlyMap<string, { readonly before: CpuStat; readonly after: CpuStat }>;
}

const lineOf = (text: string, part: string): string => text.split('\n').find((line) => line.includes(part)) ?? `(no line with ${part})`;
const probeCounts = (line: string): { percent: number; periods: number; throttledS: number } => {
  const match = /throttled in (\d+)% of (\d+) periods, ([\d.]+) s throttled/.exec(line);
  return { percent: Number(match?.[1] ?? -1), periods: Number(match?.[2] ?? -1), throttledS: Number(match?.[3] ?? -1) };
};

describe('scan --local on a real node: kubelet + containerd', () => {
  let node: LocalNode | undefined;
  let cpu: string;
  let burn: V1Pod;
  let solo: V1Pod;
  let kernel: KernelContainer[];

  beforeAll(async () => {
    if (process.getuid?.() !== 0) {
      throw new Error('this test needs root (a kubelet, cgroups, eBPF)');
    }
    node = await startLocalNode();
    const config = new KubeConfig();
    config.loadFromFile(node.kube.kubeconfigPath);
    const core = config.makeApiClient(CoreV1Api);
    const apps = config.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await apps.createNamespacedDeployment({ namespace: NAMESPACE, body: spec(node.image, 'burn') });
    // A bare Pod (no owner): its findings name the Pod itself.
    const template = spec(node.image, 'solo').spec!.template;
    await core.createNamespacedPod({ namespace: NAMESPACE, body: { metadata: { name: 'solo', labels: { app: 'solo' } }, spec: template.spec! } });
    [burn] = (await waitRolledOut(apps, core, NAMESPACE, 'burn')) as [V1Pod];
    const running = (p: V1Pod): boolean => (p.status?.containerStatuses ?? []).length === 2 && (p.status?.containerStatuses ?? []).every((c) => c.state?.running !== undefined);
    solo = await pollUntil('pod solo running', () => core.readNamespacedPod({ namespace: NAMESPACE, name: 'solo' }), running, 90_000, (p) => JSON.stringify(p.status?.containerStatuses ?? []));
    cpu = await hierarchyOf('cpu');
    kernel = await kernelContainers(cpu);
  }, 300_000);

  afterAll(async () => {
    await node?.stop();
  }, 180_000);

  /** The real CLI as a user runs it, with the kernel's counters of each burner around it. */
  const scanLocal = async (extra: readonly string[]): Promise<Scan> => {
    const env = { ...process.env };
    delete env['KUBECONFIG'];
    const burners = [burn, solo].map((pod) => kernel.find((c) => c.id === containerIdOf(pod, 'app'))!.cgroupPath);
    const before = await Promise.all(burners.map((cgroup) => readCpuStat(cgroup, cpu)));
    const started = Date.now();
    const { stdout, stderr } = await run(process.execPath, [cli, 'scan', '--local', '--window', String(WINDOW_S), ...extra], { cwd: root, env, timeout: 240_000 });
    const elapsedMs = Date.now() - started;
    const after = await Promise.all(burners.map((cgroup) => readCpuStat(cgroup, cpu)));
    return { stdout, stderr, elapsedMs, kernel: new Map(burners.map((cgroup, i) => [cgroup, { before: before[i]!, after: after[i]! }])) };
  };

  /** The checks both naming sources share: counts, the burners' lines against cpu.stat, nothing else limited. */
  const checkInventory = (result: Scan, output: string, source: 'api-server' | 'kubelet'): void => {
    // The inventory is printed last (after the findings, or after stderr's progress with --json).
    const inventory = output.slice(output.indexOf('CPU-limited containers on this node'));
    const limited = kernel.filter((c) => c.quotaUs > 0);
    // Both burners, and only they, carry a quota: not their sidecars, not the pods' sandboxes (pause).
    expect(limited.map((c) => c.id).sort()).toEqual([containerIdOf(burn, 'app'), containerIdOf(solo, 'app')].sort());
    expect(limited.map((c) => c.quotaUs)).toEqual([5_000, 5_000]);
    // Two pods of app + sidecar + sandbox; the CLI counts what the kernel shows, nothing dropped.
    expect(kernel).toHaveLength(6);
    expect(result.stderr).toContain(`this node: ${kernel.length} containers, ${limited.length} CPU-limited`);
    expect(inventory).toContain(`CPU-limited containers on this node: ${limited.length} (probe window ${WINDOW_S} s)`);
    const listed = inventory.split('\n').filter((line) => line.startsWith('  '));
    expect(listed).toHaveLength(limited.length);
    for (const pod of [burn, solo]) {
      const name = `${NAMESPACE}/${pod.metadata!.name!}`;
      const line = lineOf(inventory, `${name}/app `);
      expect(line).toContain('limit 50m');
      expect(line).toContain(`[named by ${source}]`);
      // The probe's share over its window against the kernel's over the CLI's whole run (a superset):
      // a burner under 50m alone in its quota is throttled in most periods either way.
      const cgroup = kernel.find((c) => c.id === containerIdOf(pod, 'app'))!.cgroupPath;
      const { before, after } = result.kernel.get(cgroup)!;
      const periods = Number(after.nrPeriods - before.nrPeriods);
      const kernelPercent = (Number(after.nrThrottled - before.nrThrottled) / periods) * 100;
      const probe = probeCounts(line);
      expect(probe.periods).toBeGreaterThan(0);
      expect(probe.periods).toBeLessThanOrEqual(periods);
      expect(kernelPercent).toBeGreaterThan(50);
      expect(Math.abs(probe.percent - kernelPercent), `probe ${line} vs kernel ${kernelPercent.toFixed(1)}% of ${periods}`).toBeLessThanOrEqual(25);
      // And the time waited per period (about the period less the 5 ms quota when always throttled).
      const kernelMsPerPeriod = Number(after.throttledTimeNs - before.throttledTimeNs) / 1e6 / periods;
      const probeMsPerPeriod = (probe.throttledS * 1000) / probe.periods;
      expect(probeMsPerPeriod / kernelMsPerPeriod, `probe ${probeMsPerPeriod.toFixed(1)} ms vs kernel ${kernelMsPerPeriod.toFixed(1)} ms per period`).toBeGreaterThan(0.75);
      expect(probeMsPerPeriod / kernelMsPerPeriod).toBeLessThan(1.25);
      // The unlimited sidecar and the sandbox are not reported as CPU-limited.
      expect(inventory).not.toContain(`${name}/sidecar`);
      const sandboxes = kernel.filter((c) => c.cgroupPath.includes(`pod${pod.metadata!.uid!}/`) && !pod.status!.containerStatuses!.some((s) => s.containerID === `containerd://${c.id}`));
      expect(sandboxes).toHaveLength(1);
      expect(sandboxes[0]!.quotaUs).toBe(-1);
      expect(inventory).not.toContain(sandboxes[0]!.id.slice(0, 12));
    }
    // Every limited container is named: no fallback to cgroup paths, no failed source.
    expect(inventory).not.toContain('named by cgroup');
    expect(inventory).not.toMatch(/^naming: /m);
    // The scan waited for its window (the progress lines and the wait are scan-local.test.ts's).
    expect(result.stderr).not.toContain('interrupted');
    expect(result.elapsedMs).toBeGreaterThan(WINDOW_S * 1000);
  };

  it('with --kubeconfig and --node: containers named by the API server, findings by the pods\' real owners', async () => {
    const result = await scanLocal(['--kubeconfig', node!.kube.kubeconfigPath, '--node', node!.nodeName]);
    checkInventory(result, result.stdout, 'api-server');
    // The owner chain the controllers made, read back: pod -> ReplicaSet -> Deployment.
    const owner = burn.metadata!.ownerReferences![0]!;
    expect(owner.kind).toBe('ReplicaSet');
    const config = new KubeConfig();
    config.loadFromFile(node!.kube.kubeconfigPath);
    const replicaSet = await config.makeApiClient(AppsV1Api).readNamespacedReplicaSet({ namespace: NAMESPACE, name: owner.name });
    expect(replicaSet.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'burn' });
    expect(solo.metadata?.ownerReferences ?? []).toEqual([]);
    // The findings (text form), named as Pixie's metadata names them.
    expect(result.stdout).toContain(`${NAMESPACE}/burn (Deployment) container app`);
    expect(result.stdout).toContain(`${NAMESPACE}/solo (Pod) container app`);
    expect(result.stdout).not.toContain('container sidecar');
  }, 300_000);

  it('with --kubelet-url and no kubeconfig: containers named from the kubelet\'s read-only pod list', async () => {
    const result = await scanLocal(['--json', '--kubelet-url', node!.kubeletReadOnlyUrl, '--node', node!.nodeName]);
    // --json: stdout holds the findings only, the inventory goes to stderr.
    checkInventory(result, result.stderr, 'kubelet');
    const findings = result.stdout.trim().split('\n').filter((l) => l !== '').map((l) => decodeFinding(Buffer.from(l)));
    const throttle = findings.filter((f): f is ThrottleFinding => f.kind === 'cpu.throttle');
    expect(throttle.map((f) => `${f.namespace}/${f.workload.name} (${f.workload.kind}) ${f.workload.container}`).sort()).toEqual([
      `${NAMESPACE}/burn (Deployment) app`,
      `${NAMESPACE}/solo (Pod) app`,
    ]);
  }, 300_000);

  it('teardown leaves nothing behind', async () => {
    if (node === undefined) {
      throw new Error('the local node did not start');
    }
    await node.stop();
    expect(await nodeLeftovers(node)).toEqual([]);
  }, 180_000);
});
