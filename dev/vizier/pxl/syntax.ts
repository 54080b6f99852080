/**
 * PxL source to a small typed syntax tree, through `@lezer/python` (a maintained Python 3 grammar
 * with positions and error recovery). Only the Python that PxL and the evaluator support is turned
 * into nodes; any other valid construct becomes a {@link PxlError} naming it, so nothing is ever
 * silently ignored. Positions are 1-based line and column, as Pixie's compiler reports them.
 *
 * @module
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@lezer/python';
import { lexicalTrouble, type PypaError, pypaErrors } from './pypa-errors.ts';

/** A compile (or evaluation) error at a 1-based source position. */
export class PxlError extends Error {
  override readonly name: string = 'PxlError';
  readonly line: number;
  readonly column: number;
  constructor(message: string, pos: Pos, options?: ErrorOptions) {
    super(message, options);
    this.line = pos.line;
    this.column = pos.column;
  }
}

/**
 * A syntax error, as Pixie's parser reports one (src/carnot/planner/parser/parser.cc
 * PypaErrorHandler): every error pypa met, innermost first, each a compiler error
 * `SyntaxError: <text>`; the status message is their texts concatenated. `errors` are pypa's as
 * pypa-errors.ts models them; when it does not model the script, one error of our own: `Expected
 * \`)\`` for a bracket left open at the end of the script (compiler_test.cc:2435), `invalid
 * syntax` otherwise (compiler_test.cc:2443).
 */
export class PxlSyntaxError extends PxlError {
  readonly errors: readonly PypaError[];
  constructor(errors: readonly [PypaError, ...PypaError[]]) {
    super(errors.map((e) => e.text).join(''), errors[0].pos);
    this.errors = errors;
  }
}

export interface Pos {
  readonly line: number;
  readonly column: number;
}

export type Expr =
  | { readonly k: 'name'; readonly id: string; readonly pos: Pos }
  | { readonly k: 'str'; readonly value: string; readonly pos: Pos }
  | { readonly k: 'int'; readonly value: bigint; readonly pos: Pos }
  | { readonly k: 'float'; readonly value: number; readonly pos: Pos }
  | { readonly k: 'const'; readonly value: boolean | null; readonly pos: Pos }
  | { readonly k: 'attr'; readonly obj: Expr; readonly name: string; readonly pos: Pos; readonly namePos: Pos }
  | { readonly k: 'index'; readonly obj: Expr; readonly index: Expr; readonly pos: Pos }
  | { readonly k: 'call'; readonly fn: Expr; readonly args: readonly Expr[]; readonly kwargs: readonly Kwarg[]; readonly pos: Pos }
  | { readonly k: 'list' | 'tuple'; readonly items: readonly Expr[]; readonly pos: Pos }
  | { readonly k: 'dict'; readonly entries: readonly (readonly [Expr, Expr])[]; readonly pos: Pos }
  | { readonly k: 'bin'; readonly op: string; readonly left: Expr; readonly right: Expr; readonly pos: Pos }
  | { readonly k: 'unary'; readonly op: string; readonly operand: Expr; readonly pos: Pos };

export interface Kwarg {
  readonly name: string;
  readonly value: Expr;
  readonly pos: Pos;
}

export interface Param {
  readonly name: string;
  readonly type: string | undefined;
  readonly default: Expr | undefined;
  readonly pos: Pos;
}

export type Stmt =
  | { readonly k: 'assign'; readonly target: Expr; readonly value: Expr; readonly pos: Pos }
  | { readonly k: 'expr'; readonly expr: Expr; readonly pos: Pos }
  | { readonly k: 'def'; readonly name: string; readonly params: readonly Param[]; readonly body: readonly Stmt[]; readonly pos: Pos }
  | { readonly k: 'return'; readonly value: Expr | undefined; readonly pos: Pos }
  | { readonly k: 'import'; readonly module: string; readonly pos: Pos }
  | { readonly k: 'pass'; readonly pos: Pos };

/** Python string literal body to its value (escapes decoded unless raw). */
const decodeString = (text: string, pos: Pos): string => {
  const match = /^([rRbBuUfF]*)('''|"""|'|")/.exec(text);
  if (match === null) {
    throw new PxlError(`unsupported PxL construct: string literal ${text.slice(0, 20)}`, pos);
  }
  const prefix = (match[1] ?? '').toLowerCase();
  const quote = match[2] ?? "'";
  if (prefix.includes('f') || prefix.includes('b')) {
    throw new PxlError(`unsupported PxL construct: ${prefix}-string`, pos);
  }
  const body = text.slice(match[0].length, text.length - quote.length);
  if (prefix.includes('r')) {
    return body;
  }
  const simple: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', '\n': '' };
  return body.replace(/\\(x[0-9a-fA-F]{2}|.|\n)/g, (all, esc: string) => {
    if (esc.startsWith('x') && esc.length === 3) {
      return String.fromCharCode(parseInt(esc.slice(1), 16));
    }
    return simple[esc] ?? all;
  });
};

const COMPARE_OPS = new Set(['==', '!=', '<', '>', '<=', '>=']);

/** Parses PxL source; throws {@link PxlError} at the first syntax error or unsupported construct. */
export const parsePxl = (source: string): Stmt[] => {
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) {
    if (source[i] === '\n') {
      lineStarts.push(i + 1);
    }
  }
  const posOf = (offset: number): Pos => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return { line: lo + 1, column: offset - (lineStarts[lo] ?? 0) + 1 };
  };
  const text = (node: SyntaxNode): string => source.slice(node.from, node.to);
  const children = (node: SyntaxNode): SyntaxNode[] => {
    const out: SyntaxNode[] = [];
    for (let c = node.firstChild; c !== null; c = c.nextSibling) {
      if (c.name !== 'Comment') {
        out.push(c);
      }
    }
    return out;
  };
  const unsupported = (node: SyntaxNode, what = node.name): never => {
    throw new PxlError(`unsupported PxL construct: ${what}`, posOf(node.from));
  };

  // What pypa's lexer refuses but Python's grammar (lezer) lets through.
  if (lexicalTrouble(source)) {
    const [first, ...rest] = pypaErrors(source) ?? [];
    if (first !== undefined) {
      throw new PxlSyntaxError([first, ...rest]);
    }
  }
  const tree = parser.parse(source);
  const closers: Readonly<Record<string, string>> = { ArgList: ')', ParamList: ')', ParenthesizedExpression: ')', TupleExpression: ')', ArrayExpression: ']', DictionaryExpression: '}', SetExpression: '}' };
  const atEnd = source.trimEnd().length;
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) {
        const open = node.node.parent === null ? undefined : closers[node.node.parent.name];
        const text = open !== undefined && node.from >= atEnd ? `Expected \`${open}\`` : 'invalid syntax';
        const [first, ...rest] = pypaErrors(source) ?? [];
        throw new PxlSyntaxError(first === undefined ? [{ text, pos: posOf(node.from) }] : [first, ...rest]);
      }
    },
  });

  const expr = (node: SyntaxNode): Expr => {
    const pos = posOf(node.from);
    const kids = children(node);
    switch (node.name) {
      case 'VariableName':
        return { k: 'name', id: text(node), pos };
      case 'String':
        return { k: 'str', value: decodeString(text(node), pos), pos };
      case 'ContinuedString':
        return { k: 'str', value: kids.map((s) => decodeString(text(s), posOf(s.from))).join(''), pos };
      case 'Number': {
        const raw = text(node).replace(/_/g, '');
        if (/^\d+$/.test(raw) || /^0[xXoObB][0-9a-fA-F]+$/.test(raw)) {
          return { k: 'int', value: BigInt(raw), pos };
        }
        const value = Number(raw);
        return Number.isFinite(value) ? { k: 'float', value, pos } : unsupported(node, `number ${raw}`);
      }
      case 'Boolean':
        return { k: 'const', value: text(node) === 'True', pos };
      case 'None':
        return { k: 'const', value: null, pos };
      case 'ParenthesizedExpression': {
        const inner = kids.filter((c) => c.name !== '(' && c.name !== ')');
        return inner.length === 1 ? expr(inner[0] as SyntaxNode) : unsupported(node);
      }
      case 'MemberExpression': {
        const [obj, op, prop] = kids;
        if (obj === undefined || op === undefined || prop === undefined) {
          return unsupported(node);
        }
        if (op.name === '.') {
          return { k: 'attr', obj: expr(obj), name: text(prop), pos, namePos: posOf(prop.from) };
        }
        const inner = kids.slice(2, -1);
        if (inner.length !== 1 || inner[0]?.name === ':') {
          return unsupported(node, 'slice');
        }
        return { k: 'index', obj: expr(obj), index: expr(inner[0] as SyntaxNode), pos };
      }
      case 'CallExpression': {
        const [fn, argList] = kids;
        if (fn === undefined || argList?.name !== 'ArgList') {
          return unsupported(node);
        }
        const args: Expr[] = [];
        const kwargs: Kwarg[] = [];
        const items = children(argList).filter((c) => c.name !== '(' && c.name !== ')' && c.name !== ',');
        for (let i = 0; i < items.length; i++) {
          const item = items[i] as SyntaxNode;
          const next = items[i + 1];
          if (item.name === 'VariableName' && next?.name === 'AssignOp') {
            const value = items[i + 2];
            if (value === undefined) {
              return unsupported(item, 'keyword argument');
            }
            kwargs.push({ name: text(item), value: expr(value), pos: posOf(item.from) });
            i += 2;
          } else if (item.name === '*' || item.name === '**' || text(item) === '*' || text(item) === '**') {
            return unsupported(item, 'starred argument');
          } else {
            if (kwargs.length > 0) {
              throw new PxlError('positional argument follows keyword argument', posOf(item.from));
            }
            args.push(expr(item));
          }
        }
        return { k: 'call', fn: expr(fn), args, kwargs, pos };
      }
      case 'ArrayExpression':
      case 'TupleExpression': {
        const items = kids.filter((c) => !['[', ']', '(', ')', ','].includes(c.name)).map(expr);
        return { k: node.name === 'ArrayExpression' ? 'list' : 'tuple', items, pos };
      }
      case 'DictionaryExpression': {
        const items = kids.filter((c) => !['{', '}', ',', ':'].includes(c.name));
        const entries: (readonly [Expr, Expr])[] = [];
        for (let i = 0; i + 1 < items.length; i += 2) {
          entries.push([expr(items[i] as SyntaxNode), expr(items[i + 1] as SyntaxNode)]);
        }
        return { k: 'dict', entries, pos };
      }
      case 'BinaryExpression': {
        const [left, op, right] = kids;
        if (left === undefined || op === undefined || right === undefined || kids.length !== 3) {
          return unsupported(node);
        }
        const opText = text(op);
        if (!['+', '-', '*', '/', '%', 'and', 'or', ...COMPARE_OPS].includes(opText)) {
          return unsupported(op, `operator ${opText}`);
        }
        return { k: 'bin', op: opText, left: expr(left), right: expr(right), pos: posOf(op.from) };
      }
      case 'UnaryExpression': {
        const [op, operand] = kids;
        if (op === undefined || operand === undefined) {
          return unsupported(node);
        }
        const opText = text(op);
        if (!['-', '+', 'not', '~'].includes(opText)) {
          return unsupported(op, `operator ${opText}`);
        }
        // @lezer/python groups `not a and b` as `not (a and b)`; Python means `(not a) and b`.
        // Rather than guess, ask for parentheses.
        const inner = operand.name === 'BinaryExpression' ? children(operand)[1] : undefined;
        if (opText === 'not' && inner !== undefined && (text(inner) === 'and' || text(inner) === 'or')) {
          return unsupported(op, '`not` before and/or without parentheses (write `(not a) and b` or `not (a and b)`)');
        }
        return { k: 'unary', op: opText, operand: expr(operand), pos };
      }
      default:
        return unsupported(node);
    }
  };

  const body = (node: SyntaxNode): Stmt[] => children(node).filter((c) => c.name !== ':').flatMap(stmt);

  const stmt = (node: SyntaxNode): Stmt[] => {
    const pos = posOf(node.from);
    const kids = children(node);
    switch (node.name) {
      case 'ExpressionStatement': {
        const [inner] = kids;
        return inner === undefined ? [] : [{ k: 'expr', expr: expr(inner), pos }];
      }
      case 'AssignStatement': {
        if (kids.length !== 3 || kids[1]?.name !== 'AssignOp' || text(kids[1]) !== '=') {
          return unsupported(node, kids[1] === undefined ? 'assignment' : `assignment ${text(kids[1])}`);
        }
        const target = expr(kids[0] as SyntaxNode);
        if (target.k !== 'name' && target.k !== 'attr' && target.k !== 'index') {
          return unsupported(kids[0] as SyntaxNode, 'assignment target');
        }
        return [{ k: 'assign', target, value: expr(kids[2] as SyntaxNode), pos }];
      }
      case 'ImportStatement': {
        const names = kids.filter((c) => c.name === 'VariableName');
        if (kids[0]?.name !== 'import' || names.length !== 1 || kids.some((c) => c.name === 'as' || c.name === 'from')) {
          return unsupported(node, 'import form (only `import px` / `import pxtrace` / `import pxconfig`)');
        }
        return [{ k: 'import', module: text(names[0] as SyntaxNode), pos }];
      }
      case 'PassStatement':
        return [{ k: 'pass', pos }];
      case 'ReturnStatement': {
        const value = kids[1];
        return [{ k: 'return', value: value === undefined ? undefined : expr(value), pos }];
      }
      case 'FunctionDefinition': {
        const name = kids.find((c) => c.name === 'VariableName');
        const paramList = kids.find((c) => c.name === 'ParamList');
        const bodyNode = kids.find((c) => c.name === 'Body');
        if (name === undefined || paramList === undefined || bodyNode === undefined || kids.some((c) => c.name === 'async')) {
          return unsupported(node, 'function definition form');
        }
        const params: Param[] = [];
        const items = children(paramList).filter((c) => c.name !== '(' && c.name !== ')');
        let current: { name: string; type: string | undefined; default: Expr | undefined; pos: Pos } | undefined;
        for (let i = 0; i < items.length; i++) {
          const item = items[i] as SyntaxNode;
          if (item.name === 'VariableName') {
            current = { name: text(item), type: undefined, default: undefined, pos: posOf(item.from) };
            params.push(current);
          } else if (item.name === 'TypeDef' && current !== undefined) {
            current.type = text(item).replace(/^:\s*/, '');
          } else if (item.name === 'AssignOp' && current !== undefined && items[i + 1] !== undefined) {
            current.default = expr(items[i + 1] as SyntaxNode);
            i++;
          } else if (item.name !== ',') {
            return unsupported(item, 'parameter form');
          }
        }
        return [{ k: 'def', name: text(name), params, body: body(bodyNode), pos }];
      }
      case 'DecoratedStatement':
        return unsupported(node, 'decorator (e.g. @pxtrace.probe)');
      default:
        return unsupported(node, node.name.replace(/Statement$/, ' statement'));
    }
  };

  return children(tree.topNode).flatMap(stmt);
};
