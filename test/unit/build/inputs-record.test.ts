import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configHash, isUpToDate, recordInputs, writeRecord } from '../../../dev/build/inputs-record.ts';

describe('the build inputs record (dev/build/inputs-record.ts)', () => {
  let root: string;
  let recordFile: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'kg-inputs-'));
    recordFile = path.join(root, 'dist', '.build-inputs.json');
    await mkdir(path.join(root, 'src'), { recursive: true });
    await mkdir(path.join(root, 'dist'), { recursive: true });
    await writeFile(path.join(root, 'src', 'a.ts'), 'export const a = 1;\n');
    await writeFile(path.join(root, 'src', 'b.ts'), 'export const b = 2;\n');
    await writeFile(path.join(root, 'build.ts'), 'build v1\n');
    await writeFile(path.join(root, 'dist', 'out.js'), 'bundle\n');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const record = async (config: string): Promise<void> =>
    writeRecord(recordFile, await recordInputs(root, config, ['src/a.ts', 'src/b.ts', 'src/a.ts', 'kg-unused-protos:generated'], ['dist/out.js']));

  it('is up to date right after a build, and stays so while nothing changes', async () => {
    const config = await configHash(root, ['build.ts'], ['v22']);
    await record(config);
    expect(await isUpToDate(root, recordFile, config)).toBe(true);
  });

  it('is stale when an input changes, even back to the same size', async () => {
    const config = await configHash(root, ['build.ts'], ['v22']);
    await record(config);
    await writeFile(path.join(root, 'src', 'b.ts'), 'export const b = 3;\n');
    expect(await isUpToDate(root, recordFile, config)).toBe(false);
  });

  it('is stale when an input or an output is gone, or an output was edited by hand', async () => {
    const config = await configHash(root, ['build.ts'], ['v22']);
    await record(config);
    await writeFile(path.join(root, 'dist', 'out.js'), 'edited\n');
    expect(await isUpToDate(root, recordFile, config)).toBe(false);
    await record(config);
    await rm(path.join(root, 'src', 'a.ts'));
    expect(await isUpToDate(root, recordFile, config)).toBe(false);
  });

  it('is stale when what configures the build changes (the build script, a version)', async () => {
    const config = await configHash(root, ['build.ts'], ['v22']);
    await record(config);
    expect(await isUpToDate(root, recordFile, await configHash(root, ['build.ts'], ['v24']))).toBe(false);
    await writeFile(path.join(root, 'build.ts'), 'build v2\n');
    expect(await isUpToDate(root, recordFile, await configHash(root, ['build.ts'], ['v22']))).toBe(false);
  });

  it('is stale without a record, or with one that is not JSON', async () => {
    const config = await configHash(root, ['build.ts'], []);
    expect(await isUpToDate(root, recordFile, config)).toBe(false);
    await writeFile(recordFile, '{"config":');
    expect(await isUpToDate(root, recordFile, config)).toBe(false);
  });

  it('refuses to record an input that cannot be read', async () => {
    await expect(recordInputs(root, 'c', ['src/missing.ts'], ['dist/out.js'])).rejects.toThrow(/src\/missing\.ts cannot be read/);
  });
});
