import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI_ENTRIES } from '../../support/cli.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);


interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const cli = async (entry: string, args: readonly string[]): Promise<Ran> => {
  try {
    const { stdout, stderr } = await run(process.execPath, [entry, ...args], { cwd: root, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') {
      throw error;
    }
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
};

describe.each(CLI_ENTRIES)('kernel-gossip (%s) explains itself', (_entry, entry) => {
  it.each([['--help'], ['-h'], ['help']])('%s prints the commands on stdout and exits 0', async (flag) => {
    const result = await cli(entry, [flag]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^usage: kernel-gossip <command>/);
    expect(result.stdout).toMatch(/^ {2}scan /m);
    expect(result.stdout).toMatch(/^ {2}tail /m);
  });

  it.each([
    ['scan', '--help'],
    ['scan', '-h'],
    ['tail', '--help'],
    ['tail', '-h'],
  ])('%s %s prints that command\'s usage and exits 0, even beside other options', async (command, flag) => {
    for (const args of [[command, flag], [command, '--json', flag]]) {
      const result = await cli(entry, args);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(new RegExp(`^usage: kernel-gossip ${command} `));
      expect(result.stdout).toContain('--json');
    }
    expect((await cli(entry, ['help', command])).stdout).toBe((await cli(entry, [command, flag])).stdout);
  });

  it.each([['scan', ['--replay', 'x']], ['tail', ['--project', 'p']]] as const)('an unknown option of %s is named, then that command\'s usage, exit 2', async (command, valid) => {
    const result = await cli(entry, [command, ...valid, '--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^kernel-gossip: ${command}: Unknown option '--frobnicate'`));
    expect(result.stderr).toContain(`usage: kernel-gossip ${command} `);
    expect(result.stderr).not.toContain('usage: kernel-gossip <command>');
  });

  it('an unknown top-level option or command is named, then the general usage, exit 2', async () => {
    for (const word of ['--frobnicate', 'frobnicate']) {
      const result = await cli(entry, [word]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^kernel-gossip: unknown (option|command): ${word}\\n\\nusage: kernel-gossip <command>`));
    }
    expect((await cli(entry, [])).code).toBe(2);
  });

  it.each([['--version'], ['-v']])('%s prints the package version', async (flag) => {
    const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
    const result = await cli(entry, [flag]);
    expect(result).toEqual({ code: 0, stdout: `kernel-gossip ${version}\n`, stderr: '' });
  });
});
