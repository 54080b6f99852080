/**
 * The syntax errors Pixie's parser reports for a script that does not parse. Pixie parses PxL with
 * pypa (pixie-io/libpypa at eba8ec4, through src/carnot/planner/parser/parser.cc): its recursive
 * descent reports an error at each rule that gives up, innermost first, and Pixie keeps them all:
 * every one becomes a compiler error `SyntaxError: <text>` at pypa's token position, and the status
 * message is their texts concatenated (parser.cc PypaErrorHandler::ProcessErrors). E.g. for
 * `px.display(df` at the end of a script: "Expected `)`" at the end of input, "Expected new line
 * after statement" at the `(` (the call was dropped, the statement ended at `px.display`), and
 * "invalid syntax" at the start of the top-level statement; parsing stops there.
 *
 * This module models that descent for the grammar PxL scripts use (simple and compound statements,
 * expressions with calls, subscripts, attributes, operators and literals) and the positions of
 * pypa's tokens: 1-based columns; a NEWLINE token at column 0 of the next line; the end of input
 * one past the last character. It is only asked about scripts the Python grammar rejects; when it
 * finds no error of its own (a construct it does not model) it returns undefined and the caller
 * keeps its own error.
 *
 * @module
 */
/** 1-based line; column as pypa counts it (1-based, 0 for a NEWLINE token). */
export interface Pos {
  readonly line: number;
  readonly column: number;
}

export interface PypaError {
  readonly pos: Pos;
  readonly text: string;
}

type Kind = 'name' | 'number' | 'string' | 'op' | 'newline' | 'indent' | 'dedent' | 'eof' | 'error';
interface Token {
  readonly kind: Kind;
  readonly text: string;
  readonly pos: Pos;
}

const OPERATORS = ['**=', '//=', '>>=', '<<=', '...', '**', '//', '<<', '>>', '<=', '>=', '==', '!=', '->', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<>'];
const OPENERS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };
const KEYWORDS = new Set(['and', 'as', 'assert', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield', 'print', 'exec']);

/**
 * Where a string's closing `quote` starts in `line`, scanning from `from` (the body), as pypa's
 * lexer scans (libpypa eba8ec4 src/pypa/lexer/lexer.cc, get_string): a backslash takes the next
 * character with it, so `\"` never closes a string, and a backslash at the end of the line takes the
 * newline (the string goes on). `continues` when the line ends inside the string that way.
 */
const closingQuote = (line: string, from: number, quote: string): { end: number; continues: boolean } => {
  for (let i = from; i < line.length; i++) {
    if (line[i] === '\\') {
      if (i === line.length - 1) {
        return { end: -1, continues: true };
      }
      i++;
    } else if (line.startsWith(quote, i)) {
      return { end: i, continues: false };
    }
  }
  return { end: -1, continues: false };
};

/** Python's tokens with pypa's positions; an unterminated string is an error token. */
const tokenize = (source: string): Token[] => {
  const lines = source.split('\n');
  const tokens: Token[] = [];
  const indents = [0];
  let depth = 0;
  let inString: { quote: string; start: Pos } | undefined;
  /** The previous line ended in a backslash: this one continues it. */
  let continued = false;
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l] ?? '';
    let i = 0;
    const continues = continued;
    continued = false;
    if (inString === undefined && depth === 0 && !continues) {
      const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0;
      const rest = line.slice(indent);
      if (rest === '' || rest.startsWith('#')) {
        continue;
      }
      if (indent > (indents.at(-1) ?? 0)) {
        indents.push(indent);
        tokens.push({ kind: 'indent', text: '', pos: { line: l + 1, column: 1 } });
      }
      while (indent < (indents.at(-1) ?? 0)) {
        indents.pop();
        tokens.push({ kind: 'dedent', text: '', pos: { line: l + 1, column: indent + 1 } });
      }
      i = indent;
    }
    while (i < line.length) {
      const pos = { line: l + 1, column: i + 1 };
      if (inString !== undefined) {
        const { end, continues: goesOn } = closingQuote(line, i, inString.quote);
        if (end < 0 && inString.quote.length === 1 && !goesOn) {
          // pypa: a newline ends a one-quote string unterminated.
          tokens.push({ kind: 'error', text: line, pos: inString.start });
          inString = undefined;
          i = line.length;
          break;
        }
        if (end < 0) {
          i = line.length;
          break;
        }
        i = end + inString.quote.length;
        tokens.push({ kind: 'string', text: '', pos: inString.start });
        inString = undefined;
        continue;
      }
      const c = line[i] ?? '';
      if (c === ' ' || c === '\t' || c === '\r') {
        i++;
      } else if (c === '#') {
        i = line.length;
      } else if (c === '\\' && i === line.length - 1) {
        continued = true;
        i++;
      } else if (/[A-Za-z_]/.test(c)) {
        const word = /^[A-Za-z_0-9]*/.exec(line.slice(i))?.[0] ?? c;
        const quote = /^[rRbBuU]{1,2}("""|'''|"|')/.exec(line.slice(i));
        if (quote !== null) {
          i += quote[0].length - (quote[1]?.length ?? 0);
          continue;
        }
        tokens.push({ kind: 'name', text: word, pos });
        i += word.length;
      } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(line[i + 1] ?? ''))) {
        const num = /^(0[xXoObB][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]*([eE][+-]?[0-9_]+)?[jJlL]?)/.exec(line.slice(i))?.[0] ?? c;
        tokens.push({ kind: 'number', text: num, pos });
        i += Math.max(1, num.length);
      } else if (c === '"' || c === "'") {
        const quote = line.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
        const { end, continues: goesOn } = closingQuote(line, i + quote.length, quote);
        if (end >= 0) {
          tokens.push({ kind: 'string', text: '', pos });
          i = end + quote.length;
        } else if (quote.length === 3 || goesOn) {
          inString = { quote, start: pos };
          i = line.length;
        } else {
          tokens.push({ kind: 'error', text: line.slice(i), pos });
          i = line.length;
        }
      } else {
        const op = OPERATORS.find((o) => line.startsWith(o, i)) ?? c;
        if (op in OPENERS) {
          depth++;
        } else if (op === ')' || op === ']' || op === '}') {
          depth = Math.max(0, depth - 1);
        }
        tokens.push({ kind: 'op', text: op, pos });
        i += op.length;
      }
    }
    if (inString === undefined && depth === 0 && !continued && l < lines.length - 1 && tokens.at(-1)?.kind !== 'newline' && tokens.length > 0) {
      // pypa's NEWLINE token is at column 0 of the next line, or of this one when the line ends in blanks.
      tokens.push({ kind: 'newline', text: '', pos: { line: /[ \t]$/.test(line) ? l + 1 : l + 2, column: 0 } });
    }
  }
  const last = lines.length;
  const end = { line: last, column: (lines[last - 1] ?? '').length + 1 };
  if (tokens.length > 0 && tokens.at(-1)?.kind !== 'newline' && depth === 0 && inString === undefined) {
    tokens.push({ kind: 'newline', text: '', pos: end });
  }
  while (indents.length > 1) {
    indents.pop();
    tokens.push({ kind: 'dedent', text: '', pos: end });
  }
  tokens.push({ kind: 'eof', text: '', pos: end });
  return tokens;
};

/**
 * Whether pypa's lexer sees trouble Python's grammar (as @lezer/python parses it) lets through: an
 * unterminated string, or an indented block no `:` opened.
 */
export const lexicalTrouble = (source: string): boolean => {
  const tokens = tokenize(source);
  return tokens.some((t, i) => t.kind === 'error' || (t.kind === 'indent' && tokens[i - 2]?.text !== ':'));
};

/** Thrown when the model meets a construct it does not model. */
class Unmodelled extends Error {}

/** pypa's errors for `source`, innermost first, or undefined if this model finds none. */
export const pypaErrors = (source: string): PypaError[] | undefined => {
  const tokens = tokenize(source);
  const errors: PypaError[] = [];
  let at = 0;
  const cur = (): Token => tokens[Math.min(at, tokens.length - 1)] as Token;
  const is = (text: string): boolean => (cur().kind === 'op' || cur().kind === 'name') && cur().text === text;
  const accept = (text: string): boolean => {
    if (is(text)) {
      at++;
      return true;
    }
    return false;
  };
  const error = (text: string, pos: Pos = cur().pos): false => {
    errors.push({ pos, text });
    return false;
  };
  /** Runs a rule; on failure the position goes back to where it started (pypa's StateGuard). */
  const guarded = (rule: () => boolean): boolean => {
    const start = at;
    if (rule()) {
      return true;
    }
    at = start;
    return false;
  };

  // Expressions.
  const atom = (): boolean => {
    const t = cur();
    if (t.kind === 'name' && !KEYWORDS.has(t.text)) {
      at++;
      return true;
    }
    if (t.kind === 'name' && (t.text === 'None' || t.text === 'True' || t.text === 'False')) {
      at++;
      return true;
    }
    if (t.kind === 'number') {
      at++;
      return true;
    }
    if (t.kind === 'string') {
      while (cur().kind === 'string') {
        at++;
      }
      return true;
    }
    if (t.kind === 'op' && t.text in OPENERS) {
      return guarded(() => bracketed(t.text));
    }
    return false;
  };
  const bracketed = (open: string): boolean => {
    const close = OPENERS[open] ?? ')';
    at++;
    if (accept(close)) {
      return true;
    }
    if (open === '{') {
      // dict or set display: items separated by commas
      for (;;) {
        if (!test()) {
          break;
        }
        if (accept(':') && !test()) {
          return error('Expected expression after `:`');
        }
        if (!accept(',')) {
          break;
        }
      }
    } else {
      for (;;) {
        if (!test()) {
          break;
        }
        if (!accept(',')) {
          break;
        }
      }
    }
    return accept(close) || error(`Expected \`${close}\``);
  };
  const argument = (): boolean =>
    guarded(() => {
      if (cur().kind === 'name' && tokens[at + 1]?.text === '=' && tokens[at + 1]?.kind === 'op') {
        at += 2;
        return test() || error('Expected expression after `=`');
      }
      return test();
    });
  const isKeyword = (start: number): boolean => tokens[start]?.kind === 'name' && tokens[start + 1]?.text === '=' && tokens[start + 1]?.kind === 'op';
  const arglist = (): boolean => {
    // pypa's arglist: arguments while commas follow; then more arguments without a comma, which
    // must be keywords ("Expected keyword argument" otherwise, also for a positional one after a keyword).
    let keywords = false;
    for (;;) {
      const start = at;
      if (!argument()) {
        break;
      }
      if (isKeyword(start)) {
        keywords = true;
      } else if (keywords) {
        return error('Expected keyword argument');
      }
      if (!accept(',')) {
        break;
      }
    }
    accept(',');
    for (;;) {
      const start = at;
      if (!argument()) {
        break;
      }
      if (!isKeyword(start)) {
        return error('Expected keyword argument');
      }
      if (!accept(',')) {
        break;
      }
    }
    accept(',');
    return true;
  };
  const trailer = (): boolean =>
    guarded(() => {
      if (accept('(')) {
        if (accept(')')) {
          return true;
        }
        // A failed argument list goes back to its first argument: the error is reported there.
        return (guarded(arglist) && accept(')')) || error('Expected `)`');
      }
      if (accept('[')) {
        return (subscripts() && accept(']')) || error('Expected `]`');
      }
      if (accept('.')) {
        if (cur().kind === 'name' && !KEYWORDS.has(cur().text)) {
          at++;
          return true;
        }
        return error('Expected identifier after `.`');
      }
      return false;
    });
  const subscripts = (): boolean => {
    for (;;) {
      const hadTest = test();
      if (accept(':')) {
        test();
        if (accept(':')) {
          test();
        }
      } else if (!hadTest) {
        return false;
      }
      if (!accept(',') || is(']')) {
        return true;
      }
    }
  };
  const power = (): boolean => {
    if (!atom()) {
      return false;
    }
    while (trailer()) {
      // trailers bind left to right
    }
    if (accept('**')) {
      return factor() || error('Expected expression after operator');
    }
    return true;
  };
  const factor = (): boolean => {
    if (cur().kind === 'op' && (is('+') || is('-') || is('~'))) {
      return guarded(() => {
        at++;
        return factor();
      });
    }
    return power();
  };
  const binary = (operand: () => boolean, operators: readonly string[]) => (): boolean => {
    if (!operand()) {
      return false;
    }
    while (cur().kind === 'op' && operators.includes(cur().text)) {
      at++;
      if (!operand()) {
        return error('Expected expression after operator');
      }
    }
    return true;
  };
  const term = binary(factor, ['*', '/', '%', '//']);
  const arith = binary(term, ['+', '-']);
  const shift = binary(arith, ['<<', '>>']);
  const andExpr = binary(shift, ['&']);
  const xorExpr = binary(andExpr, ['^']);
  const expr = binary(xorExpr, ['|']);
  const comparison = (): boolean => {
    if (!expr()) {
      return false;
    }
    for (;;) {
      const t = cur();
      const op = t.kind === 'op' && ['<', '>', '==', '>=', '<=', '!=', '<>'].includes(t.text);
      if (!op && !(t.kind === 'name' && (t.text === 'in' || t.text === 'is' || t.text === 'not'))) {
        return true;
      }
      if (t.kind === 'name') {
        throw new Unmodelled('in / is / not in');
      }
      at++;
      if (!expr()) {
        return error('Expected expression after comparison operator');
      }
    }
  };
  const notTest = (): boolean => {
    if (accept('not')) {
      throw new Unmodelled('not');
    }
    return comparison();
  };
  const andTest = (): boolean => {
    if (!notTest()) {
      return false;
    }
    if (is('and')) {
      throw new Unmodelled('and');
    }
    return true;
  };
  const orTest = (): boolean => {
    if (!andTest()) {
      return false;
    }
    if (is('or')) {
      throw new Unmodelled('or');
    }
    return true;
  };
  const test = (): boolean => guarded(testBody);
  const testBody = (): boolean => {
    if (is('lambda')) {
      throw new Unmodelled('lambda');
    }
    if (!orTest()) {
      return false;
    }
    if (is('if')) {
      throw new Unmodelled('conditional expression');
    }
    return true;
  };
  const testlist = (): boolean => guarded(testlistBody);
  const testlistBody = (): boolean => {
    if (!test()) {
      return false;
    }
    while (accept(',')) {
      if (!test()) {
        break;
      }
    }
    return true;
  };

  // Statements.
  const endOfSimple = (): boolean => (cur().kind === 'newline' ? (at++, true) : cur().kind === 'eof' ? true : error('Expected new line after statement'));
  const exprStmt = (): boolean => {
    if (!testlist()) {
      return false;
    }
    if (cur().kind === 'op' && /^[-+*/%&|^<>]{1,2}=$/.test(cur().text) && cur().text !== '==' && cur().text !== '<=' && cur().text !== '>=') {
      throw new Unmodelled('augmented assignment');
    }
    while (accept('=')) {
      if (!testlist()) {
        return error('Expected expression after assignment operator');
      }
    }
    return true;
  };
  const simpleStmt = (): boolean => {
    const t = cur();
    if (t.kind === 'name' && (t.text === 'pass' || t.text === 'break' || t.text === 'continue')) {
      at++;
    } else if (t.kind === 'name' && t.text === 'return') {
      at++;
      if (cur().kind !== 'newline' && cur().kind !== 'eof') {
        testlist();
      }
    } else if (t.kind === 'name' && t.text === 'import') {
      at++;
      for (;;) {
        if (cur().kind !== 'name') {
          return error('Expected name of module');
        }
        at++;
        while (accept('.')) {
          if (cur().kind !== 'name') {
            return error('Expected identifier after `.`');
          }
          at++;
        }
        if (accept('as')) {
          if (cur().kind !== 'name') {
            return error('Expected identifier after `as`');
          }
          at++;
        }
        if (!accept(',')) {
          break;
        }
      }
    } else if (t.kind === 'name' && ['from', 'global', 'del', 'assert', 'raise', 'print', 'exec', 'yield'].includes(t.text)) {
      throw new Unmodelled(t.text);
    } else if (!exprStmt()) {
      return false;
    }
    return endOfSimple();
  };
  const suite = (): boolean => {
    if (cur().kind !== 'newline') {
      return simpleStmt();
    }
    at++;
    if (cur().kind !== 'indent') {
      // pypa accepts a header whose block is not indented (it reads the next statements as the block)
      throw new Unmodelled('block without indentation');
    }
    at++;
    while (cur().kind !== 'dedent' && cur().kind !== 'eof') {
      if (!stmt()) {
        return false;
      }
    }
    if (cur().kind === 'dedent') {
      at++;
    }
    return true;
  };
  /** `name[: annotation][= default], ...)` (the errors of malformed parameter lists are not modelled). */
  const parameters = (): boolean => {
    while (!accept(')')) {
      if (cur().kind !== 'name') {
        return false;
      }
      at++;
      if (accept(':') && !test()) {
        return false;
      }
      if (accept('=') && !test()) {
        return false;
      }
      if (!accept(',') && !is(')')) {
        return false;
      }
    }
    return true;
  };
  const compound = (): boolean | undefined => {
    const t = cur();
    if (t.kind !== 'name') {
      return undefined;
    }
    if (t.text === 'def') {
      at++;
      if (cur().kind !== 'name') {
        return error('Expected identifier after `def`');
      }
      at++;
      if (!accept('(')) {
        return error('Expected parameter list');
      }
      if (!guarded(parameters)) {
        throw new Unmodelled('parameters');
      }
      if (accept('->') && !test()) {
        return false;
      }
      if (!accept(':')) {
        return error('Expected `:`');
      }
      return suite();
    }
    if (t.text === 'if') {
      at++;
      if (!test()) {
        return error('Expected condition after `if`');
      }
      if (!accept(':')) {
        return error('Expected `:`');
      }
      if (!suite()) {
        return false;
      }
      if (is('elif') || is('else')) {
        throw new Unmodelled('elif / else');
      }
      return true;
    }
    if (['for', 'while', 'with', 'try', 'class', '@'].includes(t.text)) {
      throw new Unmodelled(t.text);
    }
    return undefined;
  };
  const stmt = (): boolean => guarded(() => compound() ?? simpleStmt());

  try {
    while (cur().kind !== 'eof') {
      if (cur().kind === 'newline') {
        at++;
        continue;
      }
      const start = cur().pos;
      if (!stmt()) {
        errors.push({ pos: start, text: 'invalid syntax' });
        return errors;
      }
    }
  } catch (error) {
    if (error instanceof Unmodelled) {
      return undefined;
    }
    throw error;
  }
  return errors.length > 0 ? errors : undefined;
};
