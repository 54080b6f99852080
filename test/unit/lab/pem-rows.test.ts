/**
 * Printed bpftrace events to PEM rows (dev/lab/pem-rows.ts): each text rebuilt into its own
 * printf's struct, read with the first printf's (Pixie's rule: dynamic_bpftrace_connector.cc
 * HandleEvent reads `output_fields_`, bpftrace_wrapper.cc OutputFields = `printf_args.front()`).
 * The recordings hold real bpftrace output and the real dry-run structs of their programs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingRows } from '../../../dev/lab/compare.ts';
import { pemRowsOf } from '../../../dev/lab/pem-rows.ts';
import type { Recording } from '../../../dev/lab/scenarios.ts';
import { programOutput } from '../../../shared/pxl/bpftrace-program.ts';
import { PemEventError } from '../../../shared/pxl/pem-event.ts';
import type { PrintfLayout } from '../../../shared/pxl/printf-layout.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures');
const recording = (file: string): Recording => JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as Recording;

describe('pemRowsOf', () => {
  it.each(['lab/birth.json', 'lab/throttle.json', 'lab-lite/birth-lite.json'])(
    '%s: one struct for every printf, so the PEM rows are the rows bpftrace printed',
    (file) => {
      const rec = recording(file);
      const layouts = rec.printfLayouts ?? [];
      expect(layouts.length).toBeGreaterThan(0);
      const decode = pemRowsOf({ format: rec.format, columns: rec.columns }, layouts, BigInt(rec.clockOffsetNs));
      expect(rec.printfs.map((text) => decode({ text }))).toEqual(recordingRows(rec));
    },
  );

  const output = programOutput('t:a:b { printf("time_:%llu event:%s pid:%llu", nsecs, "mkdir", pid); }');
  // As bpftrace compiles `"mkdir"` ([6 x i8]) in printf 1 and `"cgroup_attach"` ([14 x i8]) in printf 2.
  const layouts: PrintfLayout[] = [
    { printf: 1, fields: [{ kind: 'int', bits: 64 }, { kind: 'chars', bytes: 6 }, { kind: 'int', bits: 64 }] },
    { printf: 2, fields: [{ kind: 'int', bits: 64 }, { kind: 'chars', bytes: 14 }, { kind: 'int', bits: 64 }] },
  ];

  it('decodes an event of the second printf with the first printf\'s struct, as a PEM does', () => {
    const decode = pemRowsOf(output, layouts, 0n);
    expect(decode({ text: 'time_:10 event:mkdir pid:42', printf: 1 })).toEqual({ time_: 10n, event: 'mkdir', pid: 42n });
    // printf 2: event at 8..22, pid at 24. Read with printf 1 (event 8..14, pid 16..24): the event
    // cut to 6 bytes, the pid the bytes 16..24 of "cgroup_attach\0": "ttach", NUL and padding.
    expect(decode({ text: 'time_:10 event:cgroup_attach pid:42', printf: 2 })).toEqual({ time_: 10n, event: 'cgroup', pid: 0x68_63_61_74_74n });
  });

  it('refuses an event whose printf is unknown when the printfs have different structs', () => {
    expect(() => pemRowsOf(output, layouts, 0n)({ text: 'time_:10 event:mkdir pid:42' })).toThrow(PemEventError);
    expect(() => pemRowsOf(output, layouts, 0n)({ text: 'time_:10 event:mkdir pid:42', printf: 3 })).toThrow(/compiled 2 printf structs/);
  });
});
