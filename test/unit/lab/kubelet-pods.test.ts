/**
 * The Pod objects the kernel lab asks a real kubelet for (dev/lab/kubelet-pods.ts): the QoS class
 * the lab spec names follows from the resources (Kubernetes' rules: requests = limits for every
 * container is Guaranteed, no request or limit is BestEffort, anything else Burstable; see
 * https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/), the workload's arguments travel as
 * "$@" and never inside the shell script, and a layout this node cannot give is refused.
 */
import { describe, expect, it } from 'vitest';
import { HOLD_ARGS, heldCommand, kubeletPodManifest, LAB_POD_LABEL, labPodObject, workloadOfArgs } from '../../../dev/lab/kubelet-pods.ts';
import type { PodSpec } from '../../../dev/lab/lab.ts';

const pod = (over: Partial<PodSpec>): PodSpec => ({
  namespace: 'shop',
  name: 'web-1',
  layout: 'cgroupfs',
  qos: 'burstable',
  containers: [
    { name: 'app', workload: { shape: 'steady', threads: 1, durationMs: 2500 }, cpuQuotaUs: 10_000, cpuPeriodUs: 100_000 },
    { name: 'side', workload: { shape: 'idle', durationMs: 300 } },
  ],
  ...over,
});

describe('kubeletPodManifest', () => {
  it('asks for a burstable pod: a small request, the limit in millicores (quota per period), none for an unlimited container', () => {
    const manifest = kubeletPodManifest(pod({}), 'kernel-gossip.local/lab:x');
    expect(manifest.metadata).toMatchObject({ name: 'web-1', namespace: 'shop' });
    expect(manifest.spec?.restartPolicy).toBe('Never');
    expect(manifest.spec?.containers.map((c) => [c.name, c.image, c.imagePullPolicy, c.resources])).toEqual([
      ['app', 'kernel-gossip.local/lab:x', 'Never', { requests: { cpu: '10m' }, limits: { cpu: '100m' } }],
      ['side', 'kernel-gossip.local/lab:x', 'Never', { requests: { cpu: '10m' } }],
    ]);
  });

  it('writes a quota of another period as the same share of a CPU (the kubelet applies it over 100 ms)', () => {
    const manifest = kubeletPodManifest(pod({ containers: [{ name: 'proxy', workload: { shape: 'idle', durationMs: 1 }, cpuQuotaUs: 25_000, cpuPeriodUs: 50_000 }] }), 'i');
    expect(manifest.spec?.containers[0]?.resources?.limits).toEqual({ cpu: '500m' });
  });

  it('gives a guaranteed pod requests equal to its limits and a besteffort pod no resources, and refuses specs that contradict their class', () => {
    const limited = [{ name: 'a', workload: { shape: 'idle', durationMs: 1 }, cpuQuotaUs: 20_000 }] as const;
    const guaranteed = kubeletPodManifest(pod({ qos: 'guaranteed', containers: limited }), 'i').spec?.containers[0]?.resources;
    expect(guaranteed?.requests).toEqual(guaranteed?.limits);
    expect(guaranteed?.limits?.['cpu']).toBe('200m');
    const free = [{ name: 'a', workload: { shape: 'idle', durationMs: 1 } }] as const;
    expect(kubeletPodManifest(pod({ qos: 'besteffort', containers: free }), 'i').spec?.containers[0]?.resources).toEqual({});
    expect(() => kubeletPodManifest(pod({ qos: 'besteffort', containers: limited }), 'i')).toThrow(/cannot be BestEffort/);
    expect(() => kubeletPodManifest(pod({ qos: 'guaranteed', containers: free }), 'i')).toThrow(/cannot be Guaranteed/);
  });

  it('refuses the systemd layout, which a cgroupfs kubelet cannot give', () => {
    expect(() => kubeletPodManifest(pod({ layout: 'systemd' }), 'i')).toThrow(/only the cgroupfs layout/);
  });
});

// Pixie names a pod's Deployment through the ReplicaSet that owns it (the pod's controller
// reference), so a lab pod with an owner is made by real controllers, never given a made-up reference.
describe('labPodObject', () => {
  it('makes a pod without an owner as a bare Pod', () => {
    expect(labPodObject(pod({}), 'i')).toEqual({ kind: 'Pod', object: kubeletPodManifest(pod({}), 'i') });
  });

  it("makes a ReplicaSet's pod through a one-replica Deployment named as the ReplicaSet's prefix, its selector matching the template, restarting Always", () => {
    const made = labPodObject(pod({ name: 'web-7f9c4-abcde', owner: { kind: 'ReplicaSet', name: 'web-7f9c4' } }), 'img');
    expect(made.kind).toBe('Deployment');
    const deployment = made.object as Exclude<typeof made, { kind: 'Pod' | 'Job' }>['object'];
    expect(deployment.metadata).toMatchObject({ name: 'web', namespace: 'shop' });
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.spec?.selector.matchLabels).toEqual({ [LAB_POD_LABEL]: 'web-7f9c4-abcde' });
    expect(deployment.spec?.template.metadata?.labels).toMatchObject({ [LAB_POD_LABEL]: 'web-7f9c4-abcde' });
    expect(deployment.spec?.template.spec?.restartPolicy).toBe('Always');
    expect(deployment.spec?.template.spec?.containers).toEqual(kubeletPodManifest(pod({}), 'img').spec?.containers);
  });

  it("makes a Job's pod through that Job, without retries", () => {
    const made = labPodObject(pod({ namespace: 'batch', name: 'report-28d1f', owner: { kind: 'Job', name: 'report' } }), 'img');
    expect(made.kind).toBe('Job');
    const job = made.object as Exclude<typeof made, { kind: 'Pod' | 'Deployment' }>['object'];
    expect(job.metadata).toMatchObject({ name: 'report', namespace: 'batch' });
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
    expect(job.spec?.template.metadata?.labels).toMatchObject({ [LAB_POD_LABEL]: 'report-28d1f' });
  });

  it('refuses owners the node cannot make: a ReplicaSet not named <deployment>-<hash>, other kinds, the systemd layout', () => {
    expect(() => labPodObject(pod({ owner: { kind: 'ReplicaSet', name: 'web' } }), 'i')).toThrow(/not named <deployment>-<hash>/);
    expect(() => labPodObject(pod({ owner: { kind: 'StatefulSet', name: 'db' } }), 'i')).toThrow(/not by a StatefulSet/);
    expect(() => labPodObject(pod({ layout: 'systemd', owner: { kind: 'ReplicaSet', name: 'web-1a' } }), 'i')).toThrow(/only the cgroupfs layout/);
  });
});

describe('heldCommand', () => {
  it('runs the workload from "$@" (never spliced into the script), then execs the hold command', () => {
    const command = heldCommand({ name: 'c', workload: { shape: 'command', args: ['/bin/echo', '$(reboot); x'] } });
    expect(command.slice(0, 4)).toEqual(['/bin/sh', '-c', `"$@"; exec ${HOLD_ARGS.join(' ')}`, 'workload']);
    expect(command.slice(4)).toEqual(['/bin/echo', '$(reboot); x']);
  });
});

describe('workloadOfArgs', () => {
  it("finds the workload in a held command's args, and takes a runc lab container's args as they are", () => {
    const workload = ['/bin/burner', 'steady', '1', '2500'];
    expect(workloadOfArgs(heldCommand({ name: 'c', workload: { shape: 'steady', threads: 1, durationMs: 2500 } }))).toEqual(workload);
    expect(workloadOfArgs(workload)).toEqual(workload);
    expect(workloadOfArgs(['/bin/sh', '-c', 'other'])).toEqual(['/bin/sh', '-c', 'other']);
  });
});
