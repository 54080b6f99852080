/**
 * String literals as Pixie's parser lexes them (libpypa eba8ec4 src/pypa/lexer/lexer.cc get_string):
 * a backslash takes the next character with it, so `\"` inside a double-quoted string (and `\'`
 * inside a single-quoted one) does not end the string, and the value has the quote (Python's
 * escapes). A string the line ends before its closing quote is still a syntax error.
 */
import { describe, expect, it } from 'vitest';
import { parsePxl, PxlSyntaxError } from '../../../dev/vizier/pxl/syntax.ts';

const valueOf = (source: string): unknown => {
  const [stmt] = parsePxl(source);
  return stmt?.k === 'assign' && stmt.value.k === 'str' ? stmt.value.value : stmt;
};

describe('PxL string literals with escaped quotes', () => {
  it('accepts \\" in a double-quoted and \\\' in a single-quoted string', () => {
    expect(valueOf('x = "say \\"hi\\""\n')).toBe('say "hi"');
    expect(valueOf("x = 'it\\'s'\n")).toBe("it's");
    expect(valueOf('x = "ends in a backslash \\\\"\n')).toBe('ends in a backslash \\');
    expect(valueOf('x = r"raw \\" quote"\n')).toBe('raw \\" quote');
  });

  it('keeps a quote escaped before the end of a line from closing the string: still unterminated', () => {
    expect(() => parsePxl('x = "abc\\"\n')).toThrow(PxlSyntaxError);
    expect(() => parsePxl("x = 'abc\\'\ny = 1\n")).toThrow(PxlSyntaxError);
  });
});
