import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScript, parseScript, PxlScriptError, SCRIPT_NAMES, type ScriptReader } from '../../../shared/pxl/scripts.ts';

const root = path.resolve(import.meta.dirname, '../../../pxl-scripts');
const read: ScriptReader = async (relative) => readFile(path.join(root, relative), 'utf8');

describe('shipped scripts', () => {
  it.each(SCRIPT_NAMES)('%s deploys one kernel-wide bpftrace program with typed arguments', async (name) => {
    const script = await loadScript(name, read);
    expect(script.tracepoint.target).toBe('pxtrace.kprobe()');
    expect(script.tracepoint.ttl).toMatch(/^\d+m$/);
    expect(script.output.columns[0]).toEqual({ name: 'time_', type: 'TIME64NS', conversion: '%llu' });
    expect(script.parameters.map((p) => p.name)).toEqual(['start_time', 'end_time', 'namespace']);
    expect(script.parameters.every((p) => p.type === 'str')).toBe(true);
    // The live view calls the same function with the same arguments.
    const vis = script.vis as { globalFuncs: { func: { name: string; args: { name: string }[] } }[] };
    expect(vis.globalFuncs[0]?.func.name).toBe(script.entryFunction);
    expect(vis.globalFuncs[0]?.func.args.map((a) => a.name)).toEqual(script.parameters.map((p) => p.name));
    // The program is the text between the triple quotes, starting with a probe.
    expect(script.program.trimStart()).toMatch(/^(tracepoint|profile):/);
    expect(script.program).not.toContain('"""');
  });

  it('cpu_throttle outputs the CFS bandwidth counters', async () => {
    const script = await loadScript('cpu_throttle', read);
    expect(script.tracepoint).toMatchObject({ name: 'kg_cpu_throttle_v2', table: 'kg_cpu_throttle_v2' });
    expect(script.output.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'time_:TIME64NS', 'previous_row_ns:INT64', 'cgroup_id:INT64', 'container_cgroup:STRING', 'pod_cgroup:STRING', 'pid:INT64',
      'nr_periods:INT64', 'nr_throttled:INT64', 'throttled_time_ns:INT64', 'quota_ns:INT64', 'period_ns:INT64',
      'burst_ns:INT64', 'nr_bursts:INT64', 'burst_time_ns:INT64',
    ]);
  });

  it('pod_birth_lite outputs the same events without the syscall count, and probes no hot path', async () => {
    const [full, lite] = await Promise.all([loadScript('pod_birth', read), loadScript('pod_birth_lite', read)]);
    expect(lite.tracepoint).toMatchObject({ name: 'kg_pod_birth_lite_v2', table: 'kg_pod_birth_lite_v2' });
    expect(lite.output.columns).toEqual([
      ...full.output.columns.filter((c) => c.name !== 'syscalls'),
      { name: 'parent_cgroup_id', type: 'INT64', conversion: '%llu' },
    ]);
    expect(lite.program).not.toMatch(/raw_syscalls|sys_enter_write\b/);
    expect(full.program).toMatch(/raw_syscalls:sys_enter/);
  });

  it('pod_birth outputs one event table', async () => {
    const script = await loadScript('pod_birth', read);
    expect(script.output.columns.map((c) => c.name)).toEqual([
      'time_', 'event_code', 'pid', 'comm', 'hierarchy', 'cgroup_id', 'cgroup', 'parent_cgroup', 'flags', 'detail', 'value', 'syscalls',
    ]);
  });
});

describe('parseScript rules', () => {
  const vis = '{}';
  const base = (body: string): string => `import px\nimport pxtrace\nprog = """\nk:a { printf("time_:%llu x:%d", nsecs, 1); }\n"""\n${body}`;

  it('decodes Python string escapes in the program', () => {
    const script = parseScript('cpu_throttle', base(`def f(start_time: str):\n    pxtrace.UpsertTracepoint('n', 't', prog, pxtrace.kprobe(), '10m')\n`).replace('x:%d', 'x:%d\\\\n'), vis);
    expect(script.program).toContain('x:%d\\n');
  });

  it('rejects two upserts, a missing import line, untyped arguments, a bad ttl', () => {
    const call = "pxtrace.UpsertTracepoint('n', 't', prog, pxtrace.kprobe(), '10m')";
    expect(() => parseScript('cpu_throttle', base(`def f(a: str):\n    ${call}\n    ${call}\n`), vis)).toThrow(/one pxtrace.UpsertTracepoint/);
    expect(() => parseScript('cpu_throttle', base(`def f(a: str):\n    ${call}\n`).replace('import pxtrace', 'import  pxtrace'), vis)).toThrow(PxlScriptError);
    expect(() => parseScript('cpu_throttle', base(`def f(a):\n    ${call}\n`), vis)).toThrow(/needs a type/);
    expect(() => parseScript('cpu_throttle', base(`def f(a: str):\n    ${call.replace("'10m'", "'forever'")}\n`), vis)).toThrow(/not a Pixie duration/);
  });
});
