import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderReport, type ReportMeta } from '../../../cli/report/render.ts';
import { ReportWriteError, writeReport } from '../../../cli/report/write.ts';
import { sampleRun } from '../../unit/report/sample-run.ts';

const META: ReportMeta = {
  cluster: 'lab',
  window: { start: '2026-11-27T12:02:00Z', end: '2026-11-27T12:03:00Z', seconds: 60 },
  source: 'replay',
  producedAt: '2026-11-27T12:03:05Z',
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kg-report-write-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeReport', () => {
  it('writes the rendered report, creating missing directories, and leaves no temporary file', async () => {
    const findings = sampleRun().all;
    const file = path.join(dir, 'nested', 'deeper', 'report.html');
    const written = await writeReport(file, findings, META);
    const content = await readFile(file, 'utf8');
    expect(content).toBe(renderReport(findings, META));
    expect(written).toEqual({ file, bytes: Buffer.byteLength(content) });
    expect(await readdir(path.dirname(file))).toEqual(['report.html']);
  });

  it('replaces an existing report whole', async () => {
    const file = path.join(dir, 'report.html');
    await writeFile(file, 'old report');
    await writeReport(file, [], META);
    expect(await readFile(file, 'utf8')).toContain('No CPU throttle findings in this run.');
    expect(await readdir(dir)).toEqual(['report.html']);
  });

  it('fails with a clear error keeping the cause when the target cannot be written', async () => {
    const blocker = path.join(dir, 'not-a-directory');
    await writeFile(blocker, 'x');
    const error = await writeReport(path.join(blocker, 'report.html'), [], META).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportWriteError);
    expect((error as Error).message).toContain(path.join(blocker, 'report.html'));
    expect((error as Error).cause).toMatchObject({ code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) as unknown });
    expect(await readdir(dir)).toEqual(['not-a-directory']);
  });
});
