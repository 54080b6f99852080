/**
 * Build products the lab reuses between runs, cached under $KG_CACHE (default
 * ~/.cache/kernel-gossip) and keyed by the hash of their inputs: the static burner workload and a
 * busybox rootfs holding it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, copyFile, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export const cacheDir = (): string => process.env['KG_CACHE'] ?? path.join(homedir(), '.cache', 'kernel-gossip');

const BURNER_SOURCE = path.join(import.meta.dirname, 'burner.c');
const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'sleep', 'true', 'cat', 'echo', 'ls'];

const exists = async (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

const digest = (...parts: (string | Buffer)[]): string => {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
  }
  return hash.digest('hex').slice(0, 16);
};

/** The static burner binary, compiled once per source version. */
export const burnerBinary = async (): Promise<string> => {
  const source = await readFile(BURNER_SOURCE);
  const out = path.join(cacheDir(), 'lab', `burner-${digest(source)}`);
  if (await exists(out)) {
    return out;
  }
  await mkdir(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  await exec('gcc', ['-static', '-O2', '-pthread', '-o', tmp, BURNER_SOURCE]);
  await rename(tmp, out);
  return out;
};

/** Changes when the rootfs gets other files from the same inputs (its folder is keyed by it too). */
const ROOTFS_LAYOUT = 'bin/busybox+applets, bin/burner, pause';

/**
 * A read-only rootfs with busybox (and its applets), the burner at /bin/burner and as /pause (the
 * sandbox's process, as in the pause image), built once per
 * busybox + burner version. Containers share it (runc mounts it read-only).
 */
export const labRootfs = async (): Promise<string> => {
  const burner = await burnerBinary();
  const busybox = await readFile(BUSYBOX);
  const dir = path.join(cacheDir(), 'lab', `rootfs-${digest(busybox, path.basename(burner), ROOTFS_LAYOUT)}`);
  if (await exists(path.join(dir, '.complete'))) {
    return dir;
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(path.join(tmp, 'bin'), { recursive: true });
  for (const sub of ['proc', 'dev', 'sys', 'tmp', 'etc']) {
    await mkdir(path.join(tmp, sub), { recursive: true });
  }
  await copyFile(BUSYBOX, path.join(tmp, 'bin', 'busybox'));
  await copyFile(burner, path.join(tmp, 'bin', 'burner'));
  // The sandbox's process, where the pause image has it (the burner's pause mode, by its name).
  await copyFile(burner, path.join(tmp, 'pause'));
  for (const applet of APPLETS) {
    await symlink('busybox', path.join(tmp, 'bin', applet));
  }
  await writeFile(path.join(tmp, '.complete'), '');
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return dir;
};
