/**
 * `npm run demo` as a user runs it, interrupted with Ctrl-C once its stack is up: it must exit 130
 * and leave nothing listening (Vizier, Pub/Sub emulator, kube-apiserver, every function). And a demo
 * whose start fails exits 1 at once, saying what failed, with nothing it started left running.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assert, describe, expect, it } from 'vitest';
import { isAlive } from '../support/process.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** Whether something accepts TCP connections on host:port. */
const listening = async (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });

describe('npm run demo', () => {
  it('stops everything it started on Ctrl-C', async () => {
    const log = path.join(mkdtempSync(path.join(tmpdir(), 'kg-demo-cli-')), 'demo.log');
    const child = spawn(process.execPath, [path.join(root, 'dev', 'demo', 'main.ts'), '--kernel', 'replay', '--no-build', '--log', log], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.resume();
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('seeding the workloads')) {
          resolve();
        }
      });
      void exited.then(() => {
        reject(new Error(`the demo exited before its stack was up:\n${stderr}`));
      });
    });
    // The demo writes its log through a stream: the line may land a moment after stderr's.
    const readyLine = /stack ready: vizier (\S+), emulator (\S+), kube https:\/\/(\S+), functions (.*)/;
    let ready = readyLine.exec(readFileSync(log, 'utf8'));
    for (const until = Date.now() + 10_000; ready === null && Date.now() < until; ready = readyLine.exec(readFileSync(log, 'utf8'))) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(ready).not.toBeNull();
    const addresses = [ready?.[1], ready?.[2], ready?.[3], ...(ready?.[4] ?? '').split(' ').map((f) => /http:\/\/([^/]+)\//.exec(f)?.[1])].map((a) => {
      const [host = '', port = ''] = (a ?? '').split(':');
      return { host, port: Number(port) };
    });
    expect(addresses).toHaveLength(7);
    for (const { host, port } of addresses) {
      expect(await listening(host, port)).toBe(true);
    }
    child.kill('SIGINT');
    const [code] = await exited;
    expect(code).toBe(130);
    expect(stderr).toContain('stopping everything the demo started');
    for (const { host, port } of addresses) {
      expect(await listening(host, port), `${host}:${port} still listening`).toBe(false);
    }
  });

  it('exits 1 at once with what failed when a part of its stack cannot start, leaving none of its processes behind', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kg-demo-cli-'));
    // A kube-apiserver that dies at start, as a broken build or a port clash would make it.
    const brokenApiserver = path.join(dir, 'kube-apiserver');
    writeFileSync(brokenApiserver, '#!/bin/sh\necho "kube-apiserver: cannot start (test)" >&2\nexit 3\n', { mode: 0o755 });
    const child = spawn(process.execPath, [path.join(root, 'dev', 'demo', 'main.ts'), '--kernel', 'replay', '--no-build', '--log', path.join(dir, 'demo.log')], {
      cwd: root,
      env: { ...process.env, KG_KUBE_APISERVER: brokenApiserver },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Every process the demo starts directly, seen while it runs (their children die with them).
    const children = new Set<number>();
    const watch = setInterval(() => {
      for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
        const stat = (() => {
          try {
            return readFileSync(`/proc/${entry}/stat`, 'utf8');
          } catch {
            return '';
          }
        })();
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === child.pid) {
          children.add(Number(entry));
        }
      }
    }, 50);
    const [code] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    clearInterval(watch);
    assert.strictEqual(code, 1, stderr);
    expect(stderr).toMatch(/FAILED: kube-apiserver exited \(exit code 3\)[^]*cannot start \(test\)/);
    expect(stderr).toContain('stopping everything the demo started');
    // The Vizier and the emulator started beside the apiserver; both were stopped, not waited out.
    expect(children.size).toBeGreaterThan(0);
    const alive = [...children].filter(isAlive);
    expect(alive, `still running: ${alive.join(', ')}`).toEqual([]);
  });
});
