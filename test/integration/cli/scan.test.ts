import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeFinding } from '../../../shared/findings/codec.ts';
import { CLI_ENTRIES } from '../../support/cli.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);


describe.each(CLI_ENTRIES)('kernel-gossip scan (%s) over recorded kernel data', (_entry, cli) => {
  it('--json prints findings of both kinds, one per line exactly as they would be published', async () => {
    const report = path.join(await mkdtemp(path.join(tmpdir(), 'kg-scan-')), 'report.html');
    const { stdout, stderr } = await run(process.execPath, [cli, 'scan', '--replay', path.join(root, 'test/fixtures/lab'), '--birth-probe', 'pod_birth', '--window', '30', '--json', '--cluster', 'lab', '--report', report], {
      cwd: root,
      timeout: 120_000,
    });
    const findings = stdout.trim().split('\n').map((line) => decodeFinding(Buffer.from(line)));
    expect(new Set(findings.map((f) => f.kind))).toEqual(new Set(['pod.birth', 'cpu.throttle']));
    expect(findings.every((f) => f.source === 'replay' && f.cluster === 'lab')).toBe(true);
    expect(stderr).toMatch(/starting a local Vizier \(replay of .*\)\.\.\./);
    expect(stderr).toMatch(/done: \d+ findings/);
    // The report holds every finding's pod, and loads nothing from anywhere.
    const html = await readFile(report, 'utf8');
    for (const finding of findings) {
      expect(html).toContain(finding.kind === 'pod.birth' ? finding.birth.pod : finding.workload.name);
    }
    expect(html).not.toMatch(/(src|href)=["']https?:/);
  });

  it('names what is missing for --pixie and exits 1', async () => {
    const env = { ...process.env };
    delete env['PIXIE_API_KEY'];
    delete env['PIXIE_CLUSTER_ID'];
    await expect(run(process.execPath, [cli, 'scan', '--pixie'], { cwd: root, env })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/--pixie needs PIXIE_API_KEY and PIXIE_CLUSTER_ID/) as unknown,
    });
  });

  it('refuses --local without root, and bad usage with exit 2', async () => {
    await expect(run(process.execPath, [cli, 'scan', '--window', '5', '--replay', 'x'], { cwd: root })).rejects.toMatchObject({ code: 2 });
    await expect(run(process.execPath, [cli, 'scan', '--pixie', '--local'], { cwd: root })).rejects.toMatchObject({ code: 2 });
    await expect(run(process.execPath, [cli, 'scan', '--replay', 'x', '--birth-probe', 'everything'], { cwd: root })).rejects.toMatchObject({ code: 2 });
  });
});
