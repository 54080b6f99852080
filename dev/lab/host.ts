/**
 * Preconditions of the kernel lab on this host: root, bpftrace, runc, busybox, and tracefs mounted.
 * Each check throws a {@link LabPreconditionError} that says what is missing, so a lab test fails
 * loudly instead of skipping.
 */
import { execFile } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export class LabPreconditionError extends Error {
  override readonly name = 'LabPreconditionError';
}

export const TRACEFS = '/sys/kernel/tracing';

const onPath = async (command: string): Promise<string> => {
  for (const dir of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const candidate = `${dir}/${command}`;
    const found = await access(candidate, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (found) {
      return candidate;
    }
  }
  throw new LabPreconditionError(`${command} is not installed (dev/setup/apt.sh installs it)`);
};

/** Mounts tracefs at /sys/kernel/tracing unless it already is (bpftrace needs it for tracepoints). */
export const ensureTracefs = async (): Promise<void> => {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  if (mounts.split('\n').some((line) => line.split(' ')[1] === TRACEFS)) {
    return;
  }
  try {
    await exec('mount', ['-t', 'tracefs', 'nodev', TRACEFS]);
  } catch (error) {
    throw new LabPreconditionError(`cannot mount tracefs at ${TRACEFS}`, { cause: error });
  }
};

export interface LabHost {
  readonly bpftrace: string;
  readonly runc: string;
  readonly busybox: string;
}

/**
 * What running the probes needs (any Linux node: no runc, no busybox): root, bpftrace, kernel BTF
 * (the programs read kernel structs through it) and tracefs. Returns bpftrace's path.
 */
export const checkProbeHost = async (): Promise<{ readonly bpftrace: string }> => {
  if (process.getuid?.() !== 0) {
    throw new LabPreconditionError('the probes need root (eBPF)');
  }
  const bpftrace = await onPath('bpftrace');
  await access('/sys/kernel/btf/vmlinux', constants.R_OK).catch((error: unknown) => {
    throw new LabPreconditionError('kernel BTF (/sys/kernel/btf/vmlinux) is missing', { cause: error });
  });
  await ensureTracefs();
  return { bpftrace };
};

/** Checks every precondition of the lab and returns the tools' paths. */
export const checkLabHost = async (): Promise<LabHost> => {
  if (process.getuid?.() !== 0) {
    throw new LabPreconditionError('the kernel lab needs root (eBPF, cgroups, runc)');
  }
  const [bpftrace, runc] = await Promise.all([onPath('bpftrace'), onPath('runc')]);
  const busybox = '/bin/busybox';
  const { stdout } = await exec('file', ['-L', busybox]).catch(() => ({ stdout: '' }));
  if (stdout !== '' && !stdout.includes('statically linked')) {
    throw new LabPreconditionError(`${busybox} is not static (install busybox-static)`);
  }
  await access(busybox, constants.X_OK).catch((error: unknown) => {
    throw new LabPreconditionError(`${busybox} is missing (install busybox-static)`, { cause: error });
  });
  await access('/sys/kernel/btf/vmlinux', constants.R_OK).catch((error: unknown) => {
    throw new LabPreconditionError('kernel BTF (/sys/kernel/btf/vmlinux) is missing', { cause: error });
  });
  await ensureTracefs();
  return { bpftrace, runc, busybox };
};
