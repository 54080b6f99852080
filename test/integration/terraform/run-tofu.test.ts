/**
 * runTofu's stop contract, across a real process: a caller that aborts a run (the demo stopping
 * while `tofu test` plans) gets its rejection only once tofu has exited, so nothing it started
 * outlives it. OpenTofu answers SIGTERM by finishing its current step first ("Interrupt received.
 * Please wait for OpenTofu to exit or data loss may occur."), so the stand-in below takes a while
 * to leave after SIGTERM, and one that ignores SIGTERM must be killed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTofu, type TofuInstall } from '../../../dev/terraform/cli.ts';
import { isAlive } from '../../support/process.ts';

/** A stand-in tofu: writes its pid, then waits; on SIGTERM it "finishes its step" for `onTerm`. */
const standIn = (onTerm: string): { install: TofuInstall; pidFile: string; dir: string } => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kg-run-tofu-'));
  const pidFile = path.join(dir, 'pid');
  const bin = path.join(dir, 'tofu');
  writeFileSync(bin, `#!/bin/sh\necho $$ > "${pidFile}"\ntrap '${onTerm}' TERM\nwhile :; do sleep 0.1; done\n`, { mode: 0o755 });
  return { install: { bin, cliConfig: path.join(dir, 'tofurc'), mirror: dir, version: 'v0.0.0-test' }, pidFile, dir };
};

const pidOnceWritten = async (file: string): Promise<number> => {
  for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 20))) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/^\d+\s*$/.test(text)) {
      return Number(text);
    }
  }
  throw new Error(`the stand-in tofu never wrote ${file}`);
};

describe('runTofu stop', () => {
  it('rejects an aborted run only after tofu has finished its step and exited', async () => {
    const { install, pidFile, dir } = standIn('sleep 1; exit 130');
    const abort = new AbortController();
    const run = runTofu(install, ['test'], dir, {}, abort.signal);
    const pid = await pidOnceWritten(pidFile);
    abort.abort(new Error('the demo is stopping'));
    await expect(run).rejects.toThrow('tofu test was stopped');
    expect(isAlive(pid), `tofu (pid ${pid}) outlived its run`).toBe(false);
  });

  it('kills a tofu that ignores SIGTERM, and still rejects only after it is gone', async () => {
    const { install, pidFile, dir } = standIn('');
    const abort = new AbortController();
    const run = runTofu(install, ['plan'], dir, {}, abort.signal);
    const pid = await pidOnceWritten(pidFile);
    abort.abort();
    await expect(run).rejects.toThrow('tofu plan was stopped');
    expect(isAlive(pid), `tofu (pid ${pid}) outlived its run`).toBe(false);
  }, 20_000);

  it('does not start tofu when the caller has already stopped', async () => {
    const { install, pidFile, dir } = standIn('');
    const abort = new AbortController();
    abort.abort();
    await expect(runTofu(install, ['init'], dir, {}, abort.signal)).rejects.toThrow('tofu init was not started');
    await expect(access(pidFile)).rejects.toThrow();
  });
});
