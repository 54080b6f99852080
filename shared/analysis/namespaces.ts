/**
 * Linux namespace flags (`CLONE_NEW*`, include/uapi/linux/sched.h) and their names, as
 * `unshare(2)`, `clone(2)`/`clone3(2)` flags and `setns(2)` nstype carry them.
 *
 * @module
 */

/** Namespace kinds in the order `lsns` lists them. */
export const NAMESPACE_FLAGS = {
  mnt: 0x0002_0000,
  uts: 0x0400_0000,
  ipc: 0x0800_0000,
  pid: 0x2000_0000,
  net: 0x4000_0000,
  cgroup: 0x0200_0000,
  user: 0x1000_0000,
  time: 0x0000_0080,
} as const;

export type NamespaceName = keyof typeof NAMESPACE_FLAGS;

/** The namespaces a flags word asks for, in a fixed order (mnt uts ipc pid net cgroup user time). */
export const namespacesFromFlags = (flags: number): NamespaceName[] => {
  const names: NamespaceName[] = [];
  for (const [name, bit] of Object.entries(NAMESPACE_FLAGS) as [NamespaceName, number][]) {
    // Flags can exceed 2^31, where JavaScript's bitwise operators go negative; divide instead.
    if (Math.floor(flags / bit) % 2 === 1) {
      names.push(name);
    }
  }
  return names;
};
