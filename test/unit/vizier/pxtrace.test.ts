import { describe, expect, it } from 'vitest';
import { datasetBackend } from '../../../dev/vizier/pxl/dataset-backend.ts';
import { PxlEngine } from '../../../dev/vizier/pxl/engine.ts';

const program = 'tracepoint:sched:sched_process_exec { printf("time_:%llu pid:%llu", nsecs, pid); }';
const script = (probeFn: string): string => `import px
import pxtrace
pxtrace.UpsertTracepoint('tp', 'tp_table', ${probeFn}, pxtrace.kprobe(), '10m')
px.display(px.DataFrame(table='tp_table'))
`;

// Pixie's planner (44d42f1 src/carnot/planner/probes/tracing_module.cc:362-400, :465-500).
describe('pxtrace.TraceProgram in the local Vizier\'s PxL engine', () => {
  const engine = new PxlEngine(datasetBackend(new Map()));
  const compile = (probeFn: string) => engine.compile(script(probeFn), [], true);

  it('accepts a program, a TraceProgram or a list of them, with min_kernel, max_kernel and host_name', () => {
    for (const probeFn of [`'${program}'`, `pxtrace.TraceProgram('${program}', min_kernel='5.16')`, `[pxtrace.TraceProgram('${program}', max_kernel='5.15.255'), pxtrace.TraceProgram(program='${program}', min_kernel='5.16', host_name='n')]`]) {
      const compiled = compile(probeFn);
      expect({ probeFn, ok: compiled.ok }).toEqual({ probeFn, ok: true });
    }
    const compiled = compile(`[pxtrace.TraceProgram('${program}', max_kernel='5.15.255'), pxtrace.TraceProgram('${program}', min_kernel='5.16')]`);
    expect(compiled.ok && compiled.script.tracepoints[0]?.variants.map((v) => v.selectors)).toEqual([[{ type: 'max_kernel', value: '5.15.255' }], [{ type: 'min_kernel', value: '5.16' }]]);
  });

  it('refuses what Pixie refuses, with its messages', () => {
    const failure = (probeFn: string) => {
      const compiled = compile(probeFn);
      return compiled.ok ? undefined : compiled.failure.message;
    };
    expect(failure(`pxtrace.TraceProgram('${program}', min_kernels='5.16')`)).toBe("Unsupported selector argument provided 'min_kernels'");
    expect(failure(`pxtrace.TraceProgram('${program}', min_kernel='')`)).toBe("Empty selector value provided for 'min_kernel'");
    expect(failure(`[pxtrace.TraceProgram('${program}'), '${program}']`)).toBe('Expected TraceProgram, got str');
  });
});
