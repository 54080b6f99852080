/**
 * Pixie's order for a mutation request: the tracepoints are compiled and deployed first, the rest of
 * the script is compiled only once they run. Pixie's query broker (44d42f1,
 * src/vizier/services/query_broker/controllers/query_executor.go:469-491 prepareScript) parses the
 * `#px:set` flags, then with `req.Mutation` calls runMutation (:294-324): the mutation executor
 * compiles the mutations with the planner's CompileTrace (mutation_executor.go:95-102), which parses
 * and walks the AST but never runs the Analyzer nor checks for a result sink
 * (src/carnot/planner/compiler/compiler.cc:111-134, against CompileToIR :62-71); it registers the
 * tracepoints and answers mutation_info, ending the stream with UNAVAILABLE while one is not RUNNING
 * (:320-322). Only then does compilePlan (:326-395) compile the whole script, whose errors come back
 * as a status message and InvalidArgument. So in a mutation request:
 * - a syntax or AST-walk error (an unknown px function) stops it before anything is deployed;
 * - an analyzer error (an unknown table or column) or a missing px.display() comes back only once
 *   the tracepoints were deployed and are RUNNING; until then the answer is "probe installation in
 *   progress", with the tracepoint registered;
 * - the same script without the mutation flag fails at once with the analyzer's error.
 * Dataset mode, whose simulated tracepoints are PENDING for their first request, RUNNING after.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningVizier } from '../../../dev/vizier/server.ts';
import { CLUSTER, rawExecute, startTestVizier, type StreamResult } from './support.ts';

const PENDING = 1;
const RUNNING = 2;
const IN_PROGRESS = 'rpc error: code = Unavailable desc = probe installation in progress';

/** A tracepoint script; `rest` follows the upsert (line 5 on). */
const script = (name: string, rest: string): string => `import px
import pxtrace
program = """tracepoint:syscalls:sys_enter_openat { printf("time_:%llu pid:%u", nsecs, pid); }"""
pxtrace.UpsertTracepoint('${name}', '${name}', program, pxtrace.kprobe(), '10m')
${rest}
`;

const mutationInfo = (r: StreamResult): { status: { code: number }; states: { name: string; state: number }[] } | undefined =>
  r.messages.find((m) => m['mutation_info'] !== null && m['mutation_info'] !== undefined)?.['mutation_info'] as { status: { code: number }; states: { name: string; state: number }[] } | undefined;

/** The compiler errors of the answer's status message (line and column as numbers). */
const compilerErrors = (r: StreamResult): { line: number; column: number; message: string }[] | undefined =>
  (r.messages.find((m) => m['status'] !== null && m['status'] !== undefined)?.['status'] as { error_details: { compiler_error: { line: string; column: string; message: string } }[] } | undefined)?.error_details.map(
    ({ compiler_error: e }) => ({ line: Number(e.line), column: Number(e.column), message: e.message }),
  );

let vizier: RunningVizier;
const run = async (query: string, mutation: boolean): Promise<StreamResult> => rawExecute(vizier.address, { cluster_id: CLUSTER, query_str: query, mutation });

beforeAll(async () => {
  vizier = await startTestVizier('dev/vizier/datasets/demo');
});
afterAll(async () => {
  await vizier.stop();
});

describe('a mutation request deploys its tracepoints before the rest of the script is compiled', () => {
  it('an unknown column of the tracepoint table: probe installation in progress first, the column error once RUNNING', async () => {
    const query = script('order_column', "df = px.DataFrame(table='order_column')\npx.display(df[df.no_such_column > 1], 'out')");
    const first = await run(query, true);
    expect({ status: first.status, mutation: mutationInfo(first), compile: compilerErrors(first) }).toEqual({
      status: { code: grpc.status.UNAVAILABLE, details: IN_PROGRESS },
      mutation: expect.objectContaining({ states: [expect.objectContaining({ name: 'order_column', state: PENDING })] }) as unknown,
      compile: undefined,
    });
    const second = await run(query, true);
    expect(mutationInfo(second)).toMatchObject({ status: { code: 0 }, states: [{ name: 'order_column', state: RUNNING }] });
    expect(second.status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(compilerErrors(second)).toEqual([{ line: 6, column: 15, message: "Column 'no_such_column' not found in parent dataframe" }]);
  });

  it('no px.display(): deployed first, then refused as a query without a result', async () => {
    const query = script('order_nodisplay', "df = px.DataFrame(table='order_nodisplay')");
    const first = await run(query, true);
    expect(first.status).toEqual({ code: grpc.status.UNAVAILABLE, details: IN_PROGRESS });
    expect(mutationInfo(first)?.states).toMatchObject([{ name: 'order_nodisplay', state: PENDING }]);
    const second = await run(query, true);
    expect(mutationInfo(second)?.states).toMatchObject([{ name: 'order_nodisplay', state: RUNNING }]);
    expect(second.status).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'rpc error: code = InvalidArgument desc = query does not output a result, please add a px.display() statement' });
  });

  it('an unknown table elsewhere in the script: also only after the deployment', async () => {
    const query = script('order_table', "px.display(px.DataFrame(table='order_table'), 'a')\npx.display(px.DataFrame(table='no_such_table'), 'b')");
    const first = await run(query, true);
    expect(first.status.details).toBe(IN_PROGRESS);
    const second = await run(query, true);
    expect(mutationInfo(second)?.states).toMatchObject([{ name: 'order_table', state: RUNNING }]);
    expect(compilerErrors(second)).toEqual([{ line: 6, column: 12, message: "Table 'no_such_table' not found." }]);
  });

  it('without the mutation flag the same script fails at once with the analyzer error, nothing deployed', async () => {
    const query = script('order_plain', "df = px.DataFrame(table='order_plain')\npx.display(df, 'out')");
    const plain = await run(query, false);
    expect(mutationInfo(plain)).toBeUndefined();
    expect(plain.status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(compilerErrors(plain)).toEqual([{ line: 5, column: 6, message: "Table 'order_plain' not found." }]);
  });

  it('a syntax error or an unknown px function stops the request before anything is deployed', async () => {
    for (const [name, rest, message] of [
      ['order_syntax', "px.display(px.DataFrame(table='order_syntax')", /^SyntaxError: /],
      ['order_ast', "df = px.DataFrame(table='order_ast')\ndf.x = px.not_a_function(df.pid)\npx.display(df, 'out')", /not_a_function/],
    ] as const) {
      const answer = await run(script(name, rest), true);
      expect({ name, mutation: mutationInfo(answer), code: answer.status.code }).toEqual({ name, mutation: undefined, code: grpc.status.INVALID_ARGUMENT });
      const errors = compilerErrors(answer) ?? [];
      // A syntax error is reported as every error Pixie's parser met (pypa-errors.ts), the last one
      // "invalid syntax" at the failing statement; any other compile error stops at the first.
      expect({ name, some: errors.length > 0, all: errors.every((e) => message.test(e.message)) }).toEqual({ name, some: true, all: true });
      // Nothing was registered: a later request with the mutation flag sees the tracepoint for the first time.
      const fixed = await run(script(name, `px.display(px.DataFrame(table='${name}'), 'out')`), true);
      expect({ name, states: mutationInfo(fixed)?.states }).toMatchObject({ name, states: [{ name, state: PENDING }] });
    }
  });
});
