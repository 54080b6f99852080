/**
 * Rows as Pixie's PEM would make them from the events a local bpftrace printed
 * (shared/pxl/pem-event.ts has the PEM's rules, with Pixie's source lines).
 *
 * Debian's bpftrace 0.17 CLI prints each event as text (`-f json`), never its raw perf-buffer
 * bytes, so each event is first REBUILT: the printed values are written into the struct of the
 * printf that printed it (its own layout, from `bpftrace -d`), then that struct is decoded with the
 * program's FIRST printf's layout, as the PEM decodes every event. What the rebuild keeps and loses:
 * - integers: lossless (every printf integer is 64 bits, and a %llu/%lld/%lx text holds all 64);
 * - strings: the bytes up to the first NUL, as printed; bytes after the NUL (which a struct of
 *   another layout could read) are rebuilt as 0, and bytes that are not UTF-8 reach Node as U+FFFD;
 * - the printf id: known exactly when the runner tagged the formats (bpftrace-runner.ts
 *   `printfIds()`); otherwise only when every printf has the same layout, where it does not matter.
 * A program whose printfs compile to different structs therefore shows the same garbled columns
 * here as on a real cluster (and the local Vizier refuses it at deploy anyway, as decodedColumns
 * names the printf and column).
 *
 * @module
 */
import type { ProgramOutput } from '../../shared/pxl/bpftrace-program.ts';
import { type ArgumentValue, encodeEvent, pemDecoder, PemEventError, type PemRow } from '../../shared/pxl/pem-event.ts';
import type { PrintfLayout } from '../../shared/pxl/printf-layout.ts';
import { rowParser } from './bpftrace-output.ts';

/** One printed event: its text and, when known, the 1-based printf that printed it. */
export interface PrintedEvent {
  readonly text: string;
  readonly printf?: number;
}

const sameLayouts = (layouts: readonly PrintfLayout[]): boolean =>
  layouts.every((layout) => JSON.stringify(layout.fields) === JSON.stringify(layouts[0]?.fields));

/**
 * A converter of printed events to PEM rows for one program: `layouts` from its dry run,
 * `clockOffsetNs` the wall-minus-monotonic offset of the run. Throws {@link PemEventError} for an
 * event whose printf is unknown while the layouts differ, or whose values cannot be that printf's.
 */
export const pemRowsOf = (output: ProgramOutput, layouts: readonly PrintfLayout[], clockOffsetNs: bigint): ((event: PrintedEvent) => PemRow) => {
  const decoder = pemDecoder(output, layouts, clockOffsetNs);
  // The values as printed: time_ as bpftrace's nsecs (no offset), integers as two's complement.
  const values = rowParser(output, 0n);
  const oneLayout = sameLayouts(layouts);
  return (event) => {
    const layout = event.printf === undefined ? (oneLayout ? layouts[0] : undefined) : layouts[event.printf - 1];
    if (layout === undefined) {
      throw new PemEventError(
        event.printf === undefined
          ? "which printf printed this event is not known and the program's printfs compile to different structs"
          : `printf ${event.printf} printed an event, but bpftrace compiled ${layouts.length} printf structs`,
      );
    }
    const row = values(event.text);
    const args: ArgumentValue[] = output.columns.map((column) => row[column.name] ?? '');
    return decoder.decode(encodeEvent(layout, args));
  };
};
