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
});
