/**
 * The loop closed through the real control plane on a real node (dev/demo/node-loop.ts): a
 * throttled Deployment, observe-throttle finds it through the live Vizier, remediate raises its limit
 * with server-side apply, and relief comes by rollout (a new pod born by the kubelet under the new
 * limit, its birth certificate showing the limit write) or by in-place resize (`pods/resize` on the
 * running pod). The kernel's own counters, containerd's OCI spec and the probe must all agree that
 * throttling ended. Root; run under `flock /tmp/kg-lab.lock` (it runs a kubelet).
 *
 * Rules followed from the real systems: the kubelet writes a container's CFS quota as
 * limit_millicores * period / 1000 with period 100 ms (kubernetes pkg/kubelet/cm/helpers_linux.go,
 * MilliCPUToQuota); in-place resize keeps the container (same id, no restart) and reports the
 * applied limit in `status.containerStatuses[].resources` (KEP-1287).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, assert, beforeAll, describe, expect, it } from 'vitest';
import { containerIdOf } from '../../dev/kube/node-workloads.ts';
import { LOOP_LIMIT_MILLICORES, type LoopEnvironment, type LoopResult, type ReliefPath, runLoop, startLoopEnvironment, TARGET_THROTTLED_RATIO } from '../../dev/demo/node-loop.ts';

describe.each<{ path: ReliefPath; resizeInPlace: boolean }>([
  { path: 'rollout', resizeInPlace: false },
  { path: 'resize', resizeInPlace: true },
])('the loop closed on a real node, relief by $path', ({ path: reliefPath, resizeInPlace }) => {
  let env: LoopEnvironment | undefined;
  let result: LoopResult;

  beforeAll(async () => {
    const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'kg-node-loop-')), 'loop.log');
    env = await startLoopEnvironment({ logFile, resizeInPlace });
    result = await runLoop(env, reliefPath);
  }, 300_000);

  afterAll(async () => {
    await env?.stop();
  }, 120_000);

  it('observe finds the Deployment throttled through the live Vizier, named from the API server', () => {
    const { throttle, before } = result;
    expect(throttle.workload).toMatchObject({ kind: 'Deployment', name: 'cart', container: 'app' });
    expect(throttle.throttle.actionRecommended).toBe(true);
    expect(throttle.throttle.limitMillicores).toBe(LOOP_LIMIT_MILLICORES);
    expect(throttle.throttle.pods.map((p) => p.pod)).toContain(before.pod.metadata?.name);
    // The kernel's own counters agree that the pod was throttled.
    expect(before.kernelRatio).toBeGreaterThan(TARGET_THROTTLED_RATIO);
    expect(before.probe.throttledRatio).toBeGreaterThan(TARGET_THROTTLED_RATIO);
  });

  it('remediate raises the limit with server-side apply, within the step', () => {
    const { remediation, deploymentLimit } = result;
    expect(remediation.remediation.outcome).toBe('applied');
    const to = remediation.remediation.toLimitMillicores ?? 0;
    expect(to).toBeGreaterThan(LOOP_LIMIT_MILLICORES);
    expect(to).toBeLessThanOrEqual(LOOP_LIMIT_MILLICORES * 2);
    expect(deploymentLimit).toBe(`${to}m`);
    expect(remediation.remediation.podsResized > 0).toBe(resizeInPlace);
  });

  const newQuota = (): number => ((result.remediation.remediation.toLimitMillicores ?? 0) * 100_000) / 1000;

  it('the relieved container runs under the new limit: the cgroup file and the OCI spec containerd wrote agree', () => {
    const { after, ociCpu } = result;
    expect(after.quotaUs).toBe(newQuota());
    expect(ociCpu).toMatchObject({ quota: newQuota(), period: 100_000, cgroupsPath: after.cgroup });
  });

  it.runIf(reliefPath === 'resize')('resize: the same pod and container, not restarted, report the new limit', () => {
    const { after, before } = result;
    expect(after.pod.metadata?.uid).toBe(before.pod.metadata?.uid);
    expect(containerIdOf(after.pod, 'app')).toBe(containerIdOf(before.pod, 'app'));
    const status = after.pod.status?.containerStatuses?.find((c) => c.name === 'app');
    expect(status?.restartCount).toBe(0);
    expect(status?.resources?.limits?.['cpu']).toBe(`${result.remediation.remediation.toLimitMillicores}m`);
  });

  it.runIf(reliefPath === 'rollout')('rollout: a new pod of a new ReplicaSet, declared with the new limit', () => {
    const { after, before } = result;
    expect(after.pod.metadata?.uid).not.toBe(before.pod.metadata?.uid);
    expect(after.pod.metadata?.ownerReferences?.[0]?.name).not.toBe(before.pod.metadata?.ownerReferences?.[0]?.name);
    expect(after.pod.spec?.containers[0]?.resources?.limits?.['cpu']).toBe(`${result.remediation.remediation.toLimitMillicores}m`);
  });

  it('the probe and the kernel see the throttling end', () => {
    const { after } = result;
    const summary = `kernel ${after.kernelRatio.toFixed(3)}, probe ${after.probe.throttledRatio.toFixed(3)} (${after.probe.verdict}, ${after.probe.periods} periods)`;
    assert.isAbove(after.probe.periods, 0, summary);
    assert.isBelow(after.probe.throttledRatio, TARGET_THROTTLED_RATIO, summary);
    assert.isBelow(after.kernelRatio, TARGET_THROTTLED_RATIO, summary);
  });

  it.runIf(reliefPath === 'rollout')('the new pod\'s birth certificate, from the probe, agrees with the kubelet and containerd', () => {
    const { birth, after } = result;
    assert.isDefined(birth);
    const app = birth.birth.containers.find((c) => !c.sandbox && c.containerId !== '' && containerIdOf(after.pod, 'app').startsWith(c.containerId));
    assert.isDefined(app, JSON.stringify(birth.birth.containers.map((c) => [c.name, c.containerId])));
    // The limit write the probe saw is the quota containerd's spec asked runc for.
    expect(app.limitWrites).toContainEqual({ file: 'cpu.cfs_quota_us', value: String(after.quotaUs) });
    expect(birth.birth.pod).toBe(after.pod.metadata?.name);
    expect(birth.namespace).toBe('loop');
    // The entrypoint ran before the kubelet reported the container started (second precision).
    const startedAt = Date.parse(after.pod.status?.containerStatuses?.[0]?.state?.running?.startedAt?.toString() ?? '');
    const execAt = Date.parse(app.entrypointExecAt ?? '');
    expect(Number.isFinite(execAt)).toBe(true);
    expect(execAt).toBeLessThanOrEqual(startedAt + 1_000);
    expect(execAt).toBeGreaterThan(startedAt - 10_000);
  });
});
