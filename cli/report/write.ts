/**
 * Writing the report: the one function `kernel-gossip scan --report <file>` and the demo call.
 * The file appears whole or not at all (written beside the target, then renamed over it), so a
 * browser or a CI artifact upload never sees half a report.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Finding } from '../../shared/findings/types.ts';
import { renderReport, type ReportMeta } from './render.ts';

/** Thrown when the report cannot be written; keeps the file system error as `cause`. */
export class ReportWriteError extends Error {
  override readonly name = 'ReportWriteError';
}

/** Writes `content` to `file` atomically, creating the directory when needed. */
export const writeFileAtomic = async (file: string, content: string): Promise<void> => {
  const target = path.resolve(file);
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(temporary, content, { encoding: 'utf8', mode: 0o644 });
    await rename(temporary, target);
  } catch (error) {
    // Best effort: when the directory itself is the problem there is no temporary file to remove.
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new ReportWriteError(`could not write the report to ${target}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
};

/** What {@link writeReport} wrote. */
export interface WrittenReport {
  /** Absolute path of the report. */
  readonly file: string;
  /** Size in bytes. */
  readonly bytes: number;
}

/** Renders `findings` as the HTML report and writes it atomically to `file`. */
export const writeReport = async (file: string, findings: readonly Finding[], meta: ReportMeta): Promise<WrittenReport> => {
  const html = renderReport(findings, meta);
  await writeFileAtomic(file, html);
  return { file: path.resolve(file), bytes: Buffer.byteLength(html, 'utf8') };
};
