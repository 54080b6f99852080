/**
 * Pixie's semantic type lookup (src/carnot/planner/compiler_state/registry_info.cc:232-278, rules
 * of src/carnot/funcs/builtins/math_ops.h and metadata_ops.h at 44d42f1; see semantic-rules.ts):
 * exact rules, ST_NONE as a wildcard, the most specific match, and ST_NONE when nothing matches.
 */
import { describe, expect, it } from 'vitest';
import { enumValues } from '../../../dev/vizier/proto.ts';
import { semanticOf } from '../../../dev/vizier/pxl/semantic-rules.ts';

const ST = enumValues('px.api.vizierpb.SemanticType');
const st = (name: string): number => {
  const n = ST[name];
  if (n === undefined) {
    throw new Error(`no semantic type ${name}`);
  }
  return n;
};

describe('semanticOf', () => {
  it.each([
    // add/subtract: InheritTypeFromArgs over both arguments (math_ops.h:38-44, :63-69)
    ['add', ['ST_DURATION_NS', 'ST_DURATION_NS'], 'ST_DURATION_NS'],
    ['subtract', ['ST_BYTES', 'ST_BYTES'], 'ST_BYTES'],
    ['add', ['ST_DURATION_NS', 'ST_NONE'], 'ST_NONE'],
    ['add', ['ST_BYTES', 'ST_DURATION_NS'], 'ST_NONE'],
    ['add', ['ST_PERCENT', 'ST_PERCENT'], 'ST_NONE'],
    // divide: (NONE, DURATION) -> per ns, (BYTES, DURATION) -> bytes per ns; the exact one wins (math_ops.h:92-97)
    ['divide', ['ST_BYTES', 'ST_DURATION_NS'], 'ST_THROUGHPUT_BYTES_PER_NS'],
    ['divide', ['ST_NONE', 'ST_DURATION_NS'], 'ST_THROUGHPUT_PER_NS'],
    ['divide', ['ST_DURATION_NS', 'ST_DURATION_NS'], 'ST_THROUGHPUT_PER_NS'],
    ['divide', ['ST_BYTES', 'ST_NONE'], 'ST_NONE'],
    // no rules at all
    ['multiply', ['ST_BYTES', 'ST_NONE'], 'ST_NONE'],
    ['count', ['ST_DURATION_NS'], 'ST_NONE'],
    // aggregates (math_ops.h:597-711; collections.h:99-101)
    ['sum', ['ST_DURATION_NS'], 'ST_NONE'],
    ['sum', ['ST_BYTES'], 'ST_BYTES'],
    ['mean', ['ST_PERCENT'], 'ST_PERCENT'],
    ['max', ['ST_UPID'], 'ST_NONE'],
    ['any', ['ST_UPID'], 'ST_UPID'],
    // select inherits from its 2nd and 3rd arguments, whatever the 1st (conditionals.h:46-49)
    ['select', ['ST_NONE', 'ST_POD_NAME', 'ST_POD_NAME'], 'ST_POD_NAME'],
    ['select', ['ST_NONE', 'ST_POD_NAME', 'ST_NONE'], 'ST_NONE'],
    // explicit metadata rules with a wildcard argument (metadata_ops.h:391, :81)
    ['upid_to_pod_name', ['ST_UPID'], 'ST_POD_NAME'],
    ['asid', [], 'ST_ASID'],
    // an argument count no rule has
    ['upid_to_pod_name', ['ST_UPID', 'ST_UPID'], 'ST_NONE'],
  ] as const)('%s(%j) is %s', (fn, args, out) => {
    expect(semanticOf(fn, args.map(st))).toBe(st(out));
  });
});
