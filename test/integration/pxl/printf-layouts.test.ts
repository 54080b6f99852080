/**
 * Every shipped bpftrace program compiles each printf to one struct layout, proved from bpftrace's
 * own dry run (`bpftrace -d`; Debian's 0.17 has the code generation of Pixie's fork). Pixie's PEM
 * decodes every event with the offsets and sizes of the first printf's struct
 * (pixie-io/pixie src/stirling/bpf_tools/bpftrace_wrapper.cc; ../shared/pixie/api-facts.md, last
 * section), so any other layout would give garbage columns on a real cluster.
 * Needs bpftrace and root (it reads the kernel's BTF): fails, never skips, without them.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileProgram, pemColumns } from '../../../dev/lab/bpftrace-dry-run.ts';
import { pemRowsOf } from '../../../dev/lab/pem-rows.ts';
import { loadRepoScript } from '../../../dev/lab/scripts.ts';
import { BpftraceProgramError } from '../../../shared/pxl/bpftrace-program.ts';
import { parseScript, SCRIPT_NAMES } from '../../../shared/pxl/scripts.ts';

const OLD_LITE = path.resolve(import.meta.dirname, '../../fixtures/pxl/pod_birth_lite-v1.pxl');

describe('printf struct layouts of the shipped programs (bpftrace -d)', () => {
  it.each(SCRIPT_NAMES)('%s: every printf has the first printf\'s layout; strings are 64 bytes, integers 64 bits', async (name) => {
    const script = await loadRepoScript(name);
    const { layouts } = await compileProgram(script.program);
    const printfCalls = script.program.match(/\bprintf\s*\(/g)?.length ?? 0;
    expect(layouts.length).toBe(printfCalls);
    const first = layouts[0];
    expect(first?.fields.length).toBe(script.output.columns.length);
    for (const layout of layouts) {
      expect(layout.fields).toEqual(first?.fields);
    }
    // A column the format prints as %s must be a string field and %llu an integer field: the PEM
    // types columns from the fields, the lab's text output from the conversions.
    const columns = await pemColumns(script.program);
    expect(columns.map((c) => c.type)).toEqual(script.output.columns.map((c) => c.type));
    expect(columns.filter((c) => c.type === 'STRING').every((c) => c.maxBytes === 64)).toBe(true);
    // Kernel variants (pxtrace.TraceProgram) write the same table: every printf of every variant
    // compiles to the same struct, so each node's PEM decodes its rows with one schema.
    for (const variant of script.variants) {
      const compiled = await compileProgram(variant.program);
      for (const layout of compiled.layouts) {
        expect(layout.fields).toEqual(first?.fields);
      }
    }
  });

  it('the old pod_birth_lite (string event names, "" columns) is refused, naming the printf and the first differing column', async () => {
    const old = parseScript('pod_birth_lite', await readFile(OLD_LITE, 'utf8'), '{}');
    const { layouts } = await compileProgram(old.program);
    // 10 printfs, and they do not share one struct.
    expect(layouts).toHaveLength(10);
    expect(new Set(layouts.map((l) => JSON.stringify(l.fields))).size).toBeGreaterThan(1);
    const refusal = pemColumns(old.program);
    await expect(refusal).rejects.toBeInstanceOf(BpftraceProgramError);
    // printf 2 (cgroup_attach) has "cgroup_attach" (14 bytes) where printf 1 has "cgroup_mkdir" (13).
    await expect(refusal).rejects.toThrow('printf 2 of the program compiles to another struct than printf 1, which Pixie decodes every event with: column event is a 14-byte string there and a 13-byte string in printf 1');
  });

  it('the old pod_birth_lite\'s unshare event, decoded as a PEM decodes it (with printf 1\'s struct), is garbage', async () => {
    const old = parseScript('pod_birth_lite', await readFile(OLD_LITE, 'utf8'), '{}');
    const { layouts } = await compileProgram(old.program);
    const printed = 'time_:5000 event:unshare pid:4242 comm:runc:[2:INIT] hierarchy:1 cgroup_id:1700 cgroup:cri-containerd-abc.scope parent_cgroup:kubepods-pod1.slice flags:131072 detail: value: parent_cgroup_id:1699';
    // Printf 3 (unshare) has an 8-byte "unshare" where printf 1 has a 13-byte "cgroup_mkdir" and
    // 64-byte str() names where printf 1 has 1-byte "": from pid on, printf 1's offsets (pid 32,
    // comm 40, hierarchy 56, cgroup_id 64, cgroup 72, flags 80, ...) fall on other fields of
    // printf 3's struct (comm 32, hierarchy 48, cgroup_id 56, cgroup name 64..128, ...).
    expect(layouts[2]?.fields[1]).toEqual({ kind: 'chars', bytes: 8 });
    expect(layouts[0]?.fields[1]).toEqual({ kind: 'chars', bytes: 13 });
    const row = pemRowsOf(old.output, layouts, 0n)({ text: printed, printf: 3 });
    const le = (text: string): bigint => [...Buffer.from(text)].reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
    expect(row).toEqual({
      time_: 5000n,
      event: 'unshare',
      pid: le('runc:[2:'), // the first 8 bytes of comm
      comm: 'INIT]', // the rest of comm, then its NUL
      hierarchy: 1700n, // the cgroup id
      cgroup_id: le('cri-cont'), // the start of the cgroup name
      cgroup: 'a', // 1 byte of the cgroup name
      parent_cgroup: 'i',
      flags: le('bc.scope'), // bytes 16..24 of the cgroup name
      detail: '', // the cgroup name's NUL
      value: '',
      parent_cgroup_id: 0n, // zeros after the parent's name
    });
  });
});
