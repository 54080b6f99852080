/**
 * pod_birth_lite on the real kernel, read two ways: the lab's direct reading of bpftrace's text
 * (rowParser, typed by the format's conversions) and the PEM's decoding (dev/lab/pem-rows.ts: each
 * event rebuilt into the struct of the printf that printed it, read with the first printf's field
 * offsets and types, as pixie-io/pixie@44d42f1 dynamic_bpftrace_connector.cc HandleEvent does).
 * Every printf of the program compiles to one struct (bpftrace -d), so both give the same rows;
 * the printf tag the runner adds to each format (to know which printf printed an event) leaves
 * the structs as they are.
 * Needs root and bpftrace: fails (never skips) without them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { rowParser } from '../../dev/lab/bpftrace-output.ts';
import { compileProgram } from '../../dev/lab/bpftrace-dry-run.ts';
import { startProbe } from '../../dev/lab/bpftrace-runner.ts';
import { makeCgroupEverywhere, removeCgroupEverywhere } from '../../dev/lab/cgroupfs.ts';
import { pemRowsOf } from '../../dev/lab/pem-rows.ts';
import { loadRepoScript } from '../../dev/lab/scripts.ts';
import { tagPrintfs } from '../../shared/pxl/bpftrace-program.ts';
import { BIRTH_EVENTS } from '../../shared/pxl/birth-events.ts';

const exec = promisify(execFile);

const until = async (what: string, check: () => boolean, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('pod_birth_lite: PEM decoding vs the lab\'s direct reading', () => {
  it('gives the same rows for real mkdir, attach and unshare events', async () => {
    const script = await loadRepoScript('pod_birth_lite');
    const { layouts } = await compileProgram(script.program);
    // The tagged program the runner runs compiles to the very same structs.
    expect((await compileProgram(tagPrintfs(script.program, (n) => `kg-printf-${n}|`))).layouts).toEqual(layouts);

    const probe = await startProbe(script.program);
    // A cgroup the program takes for a pod's ("/kubepods..."), in every v1 hierarchy.
    const cgroup = `/kubepods-kg-pem-${randomBytes(4).toString('hex')}`;
    try {
      const dirs = await makeCgroupEverywhere(cgroup);
      const procs = dirs.map((dir) => path.join(dir, 'cgroup.procs'));
      // A process enters the cgroup (attach), makes a namespace (unshare) and execs.
      await exec('sh', ['-c', `for f in ${procs.join(' ')}; do echo $$ > "$f"; done; exec unshare --uts true`]);
      const codes = (): Set<bigint> => new Set(probe.rows().map((row) => row['event_code'] as bigint));
      const wanted = (['cgroup_mkdir', 'cgroup_attach', 'unshare'] as const).map((event) => BigInt(BIRTH_EVENTS.indexOf(event) + 1));
      await until('mkdir, attach and unshare events', () => wanted.every((code) => codes().has(code)), 60_000);
    } finally {
      await probe.stop().finally(async () => removeCgroupEverywhere(cgroup));
    }

    const texts = probe.texts();
    const printfs = probe.printfIds();
    expect(printfs).toHaveLength(texts.length);
    const direct = texts.map(rowParser(probe.output, probe.clockOffsetNs));
    const decode = pemRowsOf(probe.output, layouts, probe.clockOffsetNs);
    const pem = texts.map((text, i) => decode({ text, ...(printfs[i] === undefined ? {} : { printf: printfs[i] }) }));
    expect(pem).toEqual(direct);
    // The tag names the printf that printed each event: printf n of the program prints event code n
    // for the first three (mkdir, attach, unshare).
    const early = direct.flatMap((row, i) => (Number(row['event_code']) <= 3 ? [{ code: Number(row['event_code']), printf: printfs[i] }] : []));
    expect(early.length).toBeGreaterThanOrEqual(3);
    expect(early.filter((e) => e.printf !== e.code)).toEqual([]);
    // The test's own cgroup is among them (its mkdir events carry its path).
    expect(direct.some((row) => row['detail'] === cgroup)).toBe(true);
  });
});
