/**
 * The semantic type of a computed column, as Pixie's planner infers it (44d42f1): every UDF and UDA
 * declares rules "argument semantic types -> result"; in a rule ST_NONE matches any argument; of the
 * matching rules the most specific wins (fewest ST_NONE matching another type); no matching rule,
 * or a function without rules, gives ST_NONE
 * (src/carnot/planner/compiler_state/registry_info.cc:51-58 and :232-278 SemanticRuleRegistry).
 * Operators are the UDFs of their names (src/carnot/planner/ir/func_ir.cc:27-48: `+` add, `-`
 * subtract, `*` multiply, `/` divide, ...), and a literal is ST_NONE
 * (src/carnot/planner/ir/ir_node_traits.h:110-116). So ST_BYTES + ST_BYTES stays ST_BYTES, but
 * bytes * 2, bytes + 1 and bytes + a duration are ST_NONE, and any column divided by a duration is
 * a throughput.
 *
 * @module
 */
import { enumValues } from '../proto.ts';
import { ST_NONE } from './frame.ts';

const SEMANTIC = enumValues('px.api.vizierpb.SemanticType');

/** A SemanticType enum name (ST_...). */
type Name = string;
interface Rule {
  readonly args: readonly Name[];
  readonly out: Name;
}

/**
 * `InheritTypeFromArgs::Create(types, indices)` (src/carnot/udf/type_inference.h:219-233): one rule
 * per type, that type at the given argument indices (all when none given), ST_NONE elsewhere.
 */
const inherit = (types: readonly Name[], arity: number, indices?: readonly number[]): Rule[] =>
  types.map((t) => ({ args: Array.from({ length: arity }, (_, i) => (indices === undefined || indices.includes(i) ? t : 'ST_NONE')), out: t }));

/** `CreateGeneric`: every semantic type (type_inference.h:212-215, :238-246). */
const EVERY: readonly Name[] = Object.keys(SEMANTIC);
const ARITHMETIC: readonly Name[] = ['ST_BYTES', 'ST_THROUGHPUT_PER_NS', 'ST_THROUGHPUT_BYTES_PER_NS', 'ST_DURATION_NS'];
const explicit = (out: Name, args: readonly Name[]): Rule[] => [{ args, out }];

/** Rules by UDF/UDA name; file and line of each in Pixie's source. */
const RULES: Readonly<Record<string, readonly Rule[]>> = {
  // src/carnot/funcs/builtins/math_ops.h
  add: inherit(ARITHMETIC, 2), // :38-44
  subtract: inherit(ARITHMETIC, 2), // :63-69
  divide: [...explicit('ST_THROUGHPUT_PER_NS', ['ST_NONE', 'ST_DURATION_NS']), ...explicit('ST_THROUGHPUT_BYTES_PER_NS', ['ST_BYTES', 'ST_DURATION_NS'])], // :92-97
  abs: inherit([...ARITHMETIC, 'ST_PERCENT'], 1), // :224-228
  mean: inherit([...ARITHMETIC, 'ST_PERCENT'], 1), // :597-601
  sum: inherit(['ST_BYTES', 'ST_THROUGHPUT_PER_NS', 'ST_THROUGHPUT_BYTES_PER_NS', 'ST_PERCENT'], 1), // :636-640 (no ST_DURATION_NS)
  max: inherit([...ARITHMETIC, 'ST_PERCENT'], 1), // :671-675
  min: inherit([...ARITHMETIC, 'ST_PERCENT'], 1), // :707-711
  // src/carnot/funcs/builtins/collections.h:99-101, conditionals.h:46-49
  any: inherit(EVERY, 1),
  select: inherit(EVERY, 3, [1, 2]),
  // src/carnot/funcs/metadata/metadata_ops.h
  asid: explicit('ST_ASID', []), // :81
  upid_to_asid: explicit('ST_ASID', ['ST_NONE']), // :98
  pod_id_to_pod_name: explicit('ST_POD_NAME', ['ST_NONE']), // :115
  pod_id_to_namespace: explicit('ST_NAMESPACE_NAME', ['ST_NONE']), // :205
  pod_name_to_namespace: explicit('ST_NAMESPACE_NAME', ['ST_NONE']), // :225
  upid_to_container_name: explicit('ST_CONTAINER_NAME', ['ST_NONE']), // :290
  upid_to_namespace: explicit('ST_NAMESPACE_NAME', ['ST_NONE']), // :333
  upid_to_pod_name: explicit('ST_POD_NAME', ['ST_NONE']), // :391
  upid_to_node_name: explicit('ST_NODE_NAME', ['ST_NONE']), // :638
  pod_id_to_node_name: explicit('ST_NODE_NAME', ['ST_NONE']), // :1935
};

const numberOf = (name: Name): number => SEMANTIC[name] ?? ST_NONE;

/** The result semantic type of `fn` (a UDF/UDA name, operators by their UDF name) on arguments of these semantic types. */
export const semanticOf = (fn: string, args: readonly number[]): number => {
  let best: { dist: number; out: number } | undefined;
  for (const rule of RULES[fn] ?? []) {
    if (rule.args.length !== args.length) {
      continue;
    }
    let dist = 0;
    let matches = true;
    for (const [i, want] of rule.args.entries()) {
      if (numberOf(want) === args[i]) {
        continue;
      }
      if (want !== 'ST_NONE') {
        matches = false;
        break;
      }
      dist++;
    }
    if (matches && (best === undefined || dist < best.dist)) {
      best = { dist, out: numberOf(rule.out) };
    }
  }
  return best?.out ?? ST_NONE;
};

/** The UDF a binary operator calls (func_ir.cc:27-40). */
export const OPERATOR_UDFS: Readonly<Record<string, string>> = {
  '*': 'multiply',
  '+': 'add',
  '%': 'modulo',
  '-': 'subtract',
  '/': 'divide',
  '>': 'greaterThan',
  '<': 'lessThan',
  '==': 'equal',
  '!=': 'notEqual',
  '<=': 'lessThanEqual',
  '>=': 'greaterThanEqual',
  and: 'logicalAnd',
  or: 'logicalOr',
};
