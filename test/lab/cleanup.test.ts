/**
 * The lab removes every container and cgroup it made: on close, and when its process is interrupted.
 * Needs root and runc: fails (never skips) without them.
 */
import { readFileSync } from 'node:fs';
import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allHierarchies } from '../../dev/lab/cgroupfs.ts';
import { Lab } from '../../dev/lab/lab.ts';
import { startProcess } from '../support/process.ts';

const existsIn = async (cgroupPath: string): Promise<string[]> => {
  const found: string[] = [];
  for (const hierarchy of await allHierarchies()) {
    const dir = path.join(hierarchy, cgroupPath);
    if (await access(dir).then(() => true, () => false)) {
      found.push(dir);
    }
  }
  return found;
};

/** A process that still runs (a zombie waiting for its reaper does not count). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** Processes of a local node (dev/kube/node.ts): every one of them names the node's folder in its arguments. */
const nodeProcesses = async (): Promise<string[]> => {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    const args = /^\d+$/.test(entry) ? await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '') : '';
    if (args.includes('/kernel-gossip-node-') && alive(Number(entry))) {
      found.push(`${entry}: ${args.replaceAll('\0', ' ').slice(0, 200)}`);
    }
  }
  return found;
};

describe('lab cleanup', () => {
  // The throttle, birth and node files start a real kubelet and containerd once each and stop them
  // in their last test; whichever ran before this one left nothing (in any order, nothing is left).
  it('no local node outlives the lab file that started it: no kubelet, containerd or shim, no kubepods cgroup', async () => {
    expect(await nodeProcesses()).toEqual([]);
    expect(await existsIn('/kubepods')).toEqual([]);
  });

  it('close() removes the containers and the pod cgroups from every hierarchy', async () => {
    const lab = await Lab.open();
    let podCgroup = '';
    let pids: number[] = [];
    try {
      const pod = await lab.createPod({
        namespace: 'lab',
        name: 'cleanup',
        layout: 'systemd',
        qos: 'burstable',
        containers: [{ name: 'idle', workload: { shape: 'idle', durationMs: 60_000 }, cpuQuotaUs: 10_000 }],
      });
      await lab.startPod(pod);
      podCgroup = pod.cgroupPath;
      pids = [pod.sandbox.pid, ...pod.containers.map((c) => c.pid)];
      expect((await existsIn(podCgroup)).length).toBe((await allHierarchies()).length);
      expect(pids.every(alive)).toBe(true);
    } finally {
      await lab.close();
    }
    expect(await existsIn(podCgroup)).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('an interrupted lab process (SIGINT) removes what it made', async () => {
    const held = await startProcess(process.execPath, [path.resolve(import.meta.dirname, '../../dev/lab/hold.ts')], {
      ready: /"ready":true.*\n/,
      timeoutMs: 60_000,
    });
    const line = held.output().split('\n').find((l) => l.includes('"ready":true')) ?? '';
    const state = JSON.parse(line) as { podCgroup: string; containers: { pid: number }[] };
    expect((await existsIn(state.podCgroup)).length).toBeGreaterThan(0);
    const exited = new Promise<number | null>((resolve) => held.child.once('exit', (code) => { resolve(code); }));
    held.child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await existsIn(state.podCgroup)).toEqual([]);
    expect(state.containers.map((c) => c.pid).filter(alive)).toEqual([]);
  });
});
