import { describe, expect, it } from 'vitest';
import { programOutput } from '../../../shared/pxl/bpftrace-program.ts';
import { BpftraceOutputError, parseOutputLine, rowParser } from '../../../dev/lab/bpftrace-output.ts';

describe('parseOutputLine', () => {
  it('reads the attach count and printf text of bpftrace -f json', () => {
    expect(parseOutputLine('{"type": "attached_probes", "data": {"probes": 14}}')).toEqual({ kind: 'attached', probes: 14 });
    expect(parseOutputLine('{"type": "printf", "data": "a:1 b:x\\ny"}')).toEqual({ kind: 'printf', text: 'a:1 b:x\ny' });
    expect(parseOutputLine('{"type": "map", "data": {}}')).toEqual({ kind: 'other', type: 'map' });
  });

  it('rejects lines that are not bpftrace JSON', () => {
    expect(() => parseOutputLine('Attaching 1 probe...')).toThrow(BpftraceOutputError);
    expect(() => parseOutputLine('{"data": 1}')).toThrow(/without a type/);
  });
});

describe('rowParser', () => {
  const output = programOutput('t:a:b { printf("time_:%llu event:%s pid:%d detail:%s value:%s n:%llu", nsecs, "e", pid, "d", "v", 1); }');

  it('types values by Pixie rules and makes time_ wall-clock', () => {
    const parse = rowParser(output, 1_000n);
    expect(parse('time_:500 event:cgroup_write pid:42 detail:cpu.max value:max 100000\n n:18446744073709551615')).toEqual({
      time_: 1_500n,
      event: 'cgroup_write',
      pid: 42n,
      detail: 'cpu.max',
      value: 'max 100000\n',
      n: -1n,
    });
  });

  it('keeps empty strings and negative integers', () => {
    expect(rowParser(output, 0n)('time_:1 event: pid:-3 detail: value: n:0')).toMatchObject({ event: '', pid: -3n, detail: '', value: '' });
  });

  it('rejects text that does not follow the format', () => {
    expect(() => rowParser(output, 0n)('time_:x event:a')).toThrow(/does not match/);
  });
});
