import { describe, expect, it } from 'vitest';
import {
  ClusterUnavailableError,
  GrpcCode,
  LargeBatchRejectedError,
  MutationFailedError,
  PixieAuthError,
  PixieCancelledError,
  PixieDeadlineError,
  PixieError,
  PxlCompileError,
  classifyGrpcError,
  errorFromStatus,
} from '../../../shared/pixie/errors.ts';

const grpcError = (code: number, details: string): Error => Object.assign(new Error(`${code} ${details}`), { code, details });

describe('classifying gRPC failures', () => {
  it.each([
    [GrpcCode.INTERNAL, 'Auth middleware failed: failed to fetch token - unauthenticated', PixieAuthError],
    [GrpcCode.UNAUTHENTICATED, 'invalid auth token: bad', PixieAuthError],
    [GrpcCode.UNAVAILABLE, 'cluster is not in a healthy state', ClusterUnavailableError],
    [GrpcCode.INTERNAL, 'failed to fetch creds for cluster', ClusterUnavailableError],
    [GrpcCode.INVALID_ARGUMENT, 'missing/malformed cluster_id', ClusterUnavailableError],
    [GrpcCode.INTERNAL, 'Large data batch rejected by passthrough proxy limits, please add a head() to your query', LargeBatchRejectedError],
    [GrpcCode.CANCELLED, 'Cancelled on client', PixieCancelledError],
    [GrpcCode.DEADLINE_EXCEEDED, 'Deadline exceeded', PixieDeadlineError],
    [GrpcCode.UNAVAILABLE, 'No connection established', PixieError],
  ])('code %i %j -> %o', (code, details, expected) => {
    const cause = grpcError(code, details);
    const error = classifyGrpcError(cause, 'qid');
    expect(error).toBeInstanceOf(expected);
    expect(error.code).toBe(code);
    expect(error.cause).toBe(cause);
    expect(error.queryId).toBe('qid');
    expect(error.message).toContain(details);
  });

  it('keeps typed errors as they are and wraps anything else', () => {
    const typed = new PixieAuthError('x');
    expect(classifyGrpcError(typed)).toBe(typed);
    const plain = classifyGrpcError('boom');
    expect(plain).toBeInstanceOf(PixieError);
    expect(plain.code).toBeUndefined();
  });
});

describe('status messages', () => {
  const script = 'import px\ndf = px.DataFrame(table="process_stats")\npx.display(dff)\n';

  it('formats every compiler error with line, column and the offending source line', () => {
    const error = errorFromStatus(
      {
        code: 3,
        message: 'compile failed',
        compilerErrors: [
          { line: 3, column: 12, message: "name 'dff' is not defined" },
          { line: 2, column: 6, message: 'second' },
          { line: 99, column: 1, message: 'beyond the script' },
        ],
      },
      script,
      'q',
    );
    if (!(error instanceof PxlCompileError)) {
      throw new Error(`expected a PxlCompileError, got ${error.name}`);
    }
    const compile = error;
    expect(compile.code).toBe(3);
    expect(compile.errors.map((e) => [e.line, e.column, e.sourceLine])).toEqual([
      [3, 12, 'px.display(dff)'],
      [2, 6, 'df = px.DataFrame(table="process_stats")'],
      [99, 1, ''],
    ]);
    expect(compile.message).toBe(
      [
        'PxL compilation failed:',
        "line 3, column 12: name 'dff' is not defined",
        '    px.display(dff)',
        '               ^',
        'line 2, column 6: second',
        '    df = px.DataFrame(table="process_stats")',
        '         ^',
        'line 99, column 1: beyond the script',
      ].join('\n'),
    );
  });

  it('maps status codes without compiler errors by code and text', () => {
    expect(errorFromStatus({ code: 3, message: 'missing argument start', compilerErrors: [] }, script)).toBeInstanceOf(PixieError);
    expect(errorFromStatus({ code: 13, message: 'Large data batch rejected', compilerErrors: [] }, script)).toBeInstanceOf(LargeBatchRejectedError);
    expect(errorFromStatus({ code: 14, message: 'cluster is not in a healthy state', compilerErrors: [] }, script)).toBeInstanceOf(
      ClusterUnavailableError,
    );
  });

  it('names failed tracepoints', () => {
    const error = new MutationFailedError(['tcp_drops', 'oom_kill']);
    expect(error.tracepoints).toEqual(['tcp_drops', 'oom_kill']);
    expect(error.message).toContain('tcp_drops, oom_kill');
  });
});
