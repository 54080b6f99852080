/**
 * The real OpenTofu CLI (built by dev/setup/40-terraform-tools.sh) reads terraform/: it must be
 * installed (this test fails, never skips, without it), be a release with mock_provider (>= 1.8)
 * and ephemeral variables (>= 1.11), and format every file the way `tofu fmt` does.
 *
 * `tofu validate` and `tofu test` run in tofu-validate.test.ts against schema-only stand-ins of the
 * providers; validate-with-providers.ts runs them against real provider binaries, which the Go
 * module proxy here does not serve (run by hand where a mirror has them).
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTofu, runTofu, type TofuInstall } from '../../../dev/terraform/cli.ts';

const root = path.resolve(import.meta.dirname, '../../..');

describe('OpenTofu CLI on terraform/', () => {
  let tofu: TofuInstall;
  let scratch = '';

  beforeAll(async () => {
    tofu = await findTofu();
    scratch = await mkdtemp(path.join(tmpdir(), 'kg-tofu-'));
  });

  afterAll(async () => {
    if (scratch !== '') {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('is the pinned release, new enough for mock_provider and ephemeral variables', async () => {
    const result = await runTofu(tofu, ['version', '-json'], root);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const { terraform_version: version } = JSON.parse(result.stdout) as { terraform_version: string };
    expect(`v${version}`).toBe(tofu.version);
    const [major = 0, minor = 0] = version.split('.').map(Number);
    expect(major > 1 || (major === 1 && minor >= 11)).toBe(true);
  });

  it('finds every file already formatted (tofu fmt -check)', async () => {
    const result = await runTofu(tofu, ['fmt', '-check', '-recursive', '-diff', 'terraform'], root);
    expect({ code: result.code, wouldChange: result.stdout, errors: result.stderr }).toEqual({ code: 0, wouldChange: '', errors: '' });
  });

  it('rejects a misformatted or unparsable copy, so the check above can fail', async () => {
    const copy = path.join(scratch, 'module');
    await cp(path.join(root, 'terraform', 'modules', 'kernel-gossip'), copy, { recursive: true });
    await writeFile(path.join(copy, 'zz_misformatted.tf'), 'locals {\nx=1\n      y   = 2\n}\n');
    const misformatted = await runTofu(tofu, ['fmt', '-check', '-recursive'], copy);
    expect(misformatted.code).not.toBe(0);
    expect(misformatted.stdout).toContain('zz_misformatted.tf');
    await writeFile(path.join(copy, 'zz_misformatted.tf'), 'resource "a" "b" {\n  x = \n');
    const broken = await runTofu(tofu, ['fmt', '-check', '-recursive'], copy);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(/zz_misformatted\.tf/);
  });
});
