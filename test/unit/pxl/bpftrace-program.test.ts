import { describe, expect, it } from 'vitest';
import { BpftraceProgramError, columnsOfFormat, printfFormats, programOutput, tagPrintfs } from '../../../shared/pxl/bpftrace-program.ts';

describe('columnsOfFormat (Pixie column rules)', () => {
  it('names columns by the text before ":" and types them by conversion', () => {
    expect(columnsOfFormat('time_:%llu pod:%s pid:%d ptr:%p ratio:%x')).toEqual([
      { name: 'time_', type: 'TIME64NS', conversion: '%llu' },
      { name: 'pod', type: 'STRING', conversion: '%s' },
      { name: 'pid', type: 'INT64', conversion: '%d' },
      { name: 'ptr', type: 'INT64', conversion: '%p' },
      { name: 'ratio', type: 'INT64', conversion: '%x' },
    ]);
  });

  it('gives unnamed values Column_<i> and ignores tokens without a conversion', () => {
    expect(columnsOfFormat('hello %d world name:%s').map((c) => c.name)).toEqual(['Column_0', 'name']);
  });

  it('rejects a non-integer time_', () => {
    expect(() => columnsOfFormat('time_:%s')).toThrow(/time_ must be an integer type/);
  });
});

describe('printfFormats / programOutput', () => {
  const program = `
// printf("commented out %d", 1);
tracepoint:a:b { printf("time_:%llu x:%d", nsecs, 1); }
/* printf("also ignored %s") */
tracepoint:c:d { $s = "printf(\\"not a call %d\\")"; printf("time_:%llu x:%d", nsecs, 2); }`;

  it('finds every printf format outside comments and strings', () => {
    expect(printfFormats(program)).toEqual(['time_:%llu x:%d', 'time_:%llu x:%d']);
  });

  it('tags each printf format in program order, leaving comments and other strings alone', () => {
    const tagged = tagPrintfs(program, (n) => `<${n}>`);
    expect(printfFormats(tagged)).toEqual(['<1>time_:%llu x:%d', '<2>time_:%llu x:%d']);
    expect(tagged.replace(/<\d>/g, '')).toBe(program);
    expect(tagged).toContain('// printf("commented out %d", 1);');
    expect(tagged).toContain('"printf(\\"not a call %d\\")"');
  });

  it('returns the single format and its columns', () => {
    expect(programOutput(program)).toEqual({
      format: 'time_:%llu x:%d',
      columns: [
        { name: 'time_', type: 'TIME64NS', conversion: '%llu' },
        { name: 'x', type: 'INT64', conversion: '%d' },
      ],
    });
  });

  it('rejects a program without printf, with two formats, or with duplicate columns', () => {
    expect(() => programOutput('tracepoint:a:b { @x = count(); }')).toThrow(BpftraceProgramError);
    expect(() => programOutput('k:a { printf("a:%d", 1); printf("b:%d", 2); }')).toThrow(/exactly the same format/);
    expect(() => programOutput('k:a { printf("a:%d a:%d", 1, 2); }')).toThrow(/duplicate column/);
  });
});
