/**
 * The on-demand set-up runner over real scripts, bash and flock: order, parallelism, failure
 * propagation, the per-step lock between concurrent runs, and aborting. The repository's own steps
 * run in `npm test`'s pretest (dev/setup/bootstrap.sh) and in `npm run demo`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NEEDS_ROOT_EXIT, provision } from '../../../dev/setup/provision.ts';
import type { SetupStep } from '../../../dev/setup/steps.ts';
import { isAlive } from '../../support/process.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

const step = (id: string, after: readonly string[] = [], demo: SetupStep['demo'] = 'none'): SetupStep => ({ id, what: `what ${id}`, why: `why ${id}`, demo, after });

/** A dev/setup stand-in holding the given scripts, and a fresh cache. */
const setupDirWith = async (scripts: Record<string, string>): Promise<{ dir: string; cache: string }> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kg-setup-'));
  for (const [id, body] of Object.entries(scripts)) {
    await writeFile(path.join(dir, `${id}.sh`), `set -euo pipefail\n${body}\n`);
  }
  return { dir, cache: path.join(dir, 'cache') };
};

describe('provision (dev/setup/provision.ts)', () => {
  it('runs independent steps at once, each after what it waits for, and skips what waits for a failed step', async () => {
    // 10-a and 10-b each wait for the other to have started: only a parallel run finishes them.
    const meet = (me: string, other: string): string =>
      `touch "$KG_CACHE/${me}"; for i in $(seq 200); do [ -e "$KG_CACHE/${other}" ] && break; sleep 0.1; done; [ -e "$KG_CACHE/${other}" ] && echo "${me} met ${other}"`;
    const { dir, cache } = await setupDirWith({
      apt: 'echo packages fine',
      '10-a': meet('a', 'b'),
      '10-b': meet('b', 'a'),
      '20-fails': 'echo "first line"; echo "the reason it failed" >&2; exit 4',
      '30-after-failure': 'touch "$KG_CACHE/ran-30"',
      '40-after-a': '[ -e "$KG_CACHE/a" ] && echo "a was there"',
    });
    const lines: string[] = [];
    const outcomes = await provision({
      target: 'test',
      progress: (line) => lines.push(line),
      setupDir: dir,
      env: { ...process.env, KG_CACHE: cache },
      concurrency: 2,
      declared: [step('apt'), step('10-a'), step('10-b'), step('20-fails', ['apt']), step('30-after-failure', ['20-fails']), step('40-after-a', ['10-a'])],
    });
    expect(Object.fromEntries(outcomes.map((o) => [o.step.id, o.status]))).toEqual({
      apt: 'ready',
      '10-a': 'ready',
      '10-b': 'ready',
      '20-fails': 'failed',
      '30-after-failure': 'skipped',
      '40-after-a': 'ready',
    });
    expect(outcomes.find((o) => o.step.id === '10-a')?.tail).toEqual(['a met b']);
    expect(outcomes.find((o) => o.step.id === '20-fails')).toMatchObject({ exitCode: 4, tail: ['first line', 'the reason it failed'] });
    await expect(readFile(path.join(cache, 'ran-30'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(lines).toContainEqual(expect.stringMatching(/^setup 40-after-a: ready in \d+\.\ds \(a was there\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^setup 20-fails: FAILED after \d+\.\ds \(exit 4\):\n {2}first line\n {2}the reason it failed$/));
    expect(lines).toContain('setup 30-after-failure: skipped (20-fails is not ready)');
  });

  it('concurrent runs take turns on a step (its lock), and the second says it is waiting', async () => {
    const { dir, cache } = await setupDirWith({ apt: 'echo "start $$" >>"$KG_CACHE/log"; sleep 1; echo "end $$" >>"$KG_CACHE/log"' });
    const lines: string[] = [];
    const options = { target: 'test' as const, setupDir: dir, env: { ...process.env, KG_CACHE: cache }, declared: [step('apt')] };
    const both = await Promise.all([provision({ ...options, progress: (line) => lines.push(line) }), provision({ ...options, progress: (line) => lines.push(line) })]);
    expect(both.flat().map((o) => o.status)).toEqual(['ready', 'ready']);
    const log = (await readFile(path.join(cache, 'log'), 'utf8')).trim().split('\n').map((line) => line.split(' '));
    expect(log.map(([word]) => word)).toEqual(['start', 'end', 'start', 'end']);
    expect(log[0]?.[1]).toBe(log[1]?.[1]);
    expect(lines).toContainEqual(expect.stringMatching(/^setup apt: waiting for another set-up run that holds .*\/locks\/apt\.lock$/));
  });

  it('an abort stops the running step and everything it started, and rejects', async () => {
    const { dir, cache } = await setupDirWith({ apt: 'sleep 60 & echo $! >"$KG_CACHE/child"; echo started >"$KG_CACHE/started"; wait' });
    const abort = new AbortController();
    const running = provision({ target: 'test', progress: () => undefined, setupDir: dir, env: { ...process.env, KG_CACHE: cache }, declared: [step('apt')], signal: abort.signal });
    for (let i = 0; i < 100 && !(await readFile(path.join(cache, 'started')).then(() => true, () => false)); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const child = Number(await readFile(path.join(cache, 'child'), 'utf8'));
    expect(isAlive(child)).toBe(true);
    abort.abort(new Error('stop now'));
    await expect(running).rejects.toThrow('stop now');
    for (let i = 0; i < 50 && isAlive(child); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(isAlive(child)).toBe(false);
  });
});

describe('dev/setup/apt.sh against the real dpkg database', () => {
  const apt = path.join(root, 'dev/setup/apt.sh');
  // A package Debian has and this machine does not install (checked first, so the test cannot pass vacuously).
  const absent = 'sl';
  const asNobody = (args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> =>
    process.getuid?.() === 0 ? run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', apt, ...args], { env }) : run('bash', [apt, ...args], { env });

  it('finds exactly the packages dpkg does not list as installed, and names the install command', async () => {
    const { stdout: status } = await run('dpkg-query', ['-W', '-f=${Status}', 'runc']);
    expect(status).toBe('install ok installed');
    await expect(run('dpkg-query', ['-W', '-f=${Status}', absent])).rejects.toMatchObject({ code: 1 });
    const env = { ...process.env, KG_APT_PACKAGES: `runc ${absent} busybox-static` };
    const { stdout } = await run('bash', [apt, '--dry-run'], { env });
    expect(stdout).toBe(`would run: apt-get update -qq && apt-get install -y -qq --no-install-recommends ${absent}\n`);
  });

  it('not root: one line with the sudo command for what is missing, exit 3; nothing missing: exit 0', async () => {
    const env = { ...process.env, KG_APT_PACKAGES: `runc ${absent}` };
    await expect(asNobody([], env)).rejects.toMatchObject({
      code: NEEDS_ROOT_EXIT,
      stdout: '',
      stderr: `missing Debian packages: ${absent}; install them once with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${absent}\n`,
    });
    const { stdout } = await asNobody([], { ...process.env, KG_APT_PACKAGES: 'runc busybox-static' });
    expect(stdout).toBe('Debian packages installed: runc busybox-static\n');
  });
});
