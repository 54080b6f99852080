/**
 * What a stopped local node (dev/kube/node.ts) must not leave behind, for the lab files that start
 * one: its processes (control loops, containerd, kubelet, shims), the `kubepods` cgroups in any
 * hierarchy, its folder, the pod bridge. Returns one line per leftover; empty when clean.
 */
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { POD_BRIDGE } from '../../dev/kube/containerd.ts';
import type { LocalNode } from '../../dev/kube/node.ts';
import { allHierarchies } from '../../dev/lab/cgroupfs.ts';

const run = promisify(execFile);

const exists = (file: string): Promise<boolean> => access(file).then(() => true, () => false);

/** A process that still runs (a zombie waiting for its reaper does not count). */
const alive = async (pid: number): Promise<boolean> => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
};

export const nodeLeftovers = async (node: LocalNode): Promise<string[]> => {
  const left: string[] = [];
  for (const [name, pid] of Object.entries(node.pids)) {
    if (await alive(pid)) {
      left.push(`${name} (pid ${pid}) still runs`);
    }
  }
  for (const hierarchy of await allHierarchies()) {
    if (await exists(path.join(hierarchy, 'kubepods'))) {
      left.push(`${hierarchy}/kubepods still exists`);
    }
  }
  const folder = path.dirname(path.dirname(node.containerdSocket));
  if (await exists(folder)) {
    left.push(`${folder} still exists`);
  }
  if ((await run('ip', ['-o', 'link', 'show'])).stdout.includes(`${POD_BRIDGE}:`)) {
    left.push(`bridge ${POD_BRIDGE} still exists`);
  }
  left.push(...(await run('ps', ['-eo', 'pid,args'])).stdout.split('\n').filter((line) => line.includes(node.containerdSocket)).map((line) => `still runs: ${line.trim()}`));
  return left;
};
