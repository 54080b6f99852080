/**
 * Typed errors for everything a Pixie call can end with. Each keeps the gRPC status code (when
 * there is one) and the original error as `cause`, and none carries a credential.
 *
 * @module
 */
import type { CompilerError, Status } from './types.ts';

/** gRPC status codes used here (numbers as on the wire). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export interface PixieErrorOptions {
  readonly code?: number | undefined;
  readonly cause?: unknown;
  readonly queryId?: string | undefined;
}

/** Any failure of a Pixie call. */
export class PixieError extends Error {
  override readonly name: string = 'PixieError';
  /** gRPC status code, when the failure came with one. */
  readonly code: number | undefined;
  /** The query id, when the server had assigned one. */
  readonly queryId: string | undefined;

  constructor(message: string, options: PixieErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.queryId = options.queryId;
  }
}

/** One compiler error with the line of the submitted script it points at. */
export interface LocatedCompilerError extends CompilerError {
  /** The offending line of the submitted script ('' when the line number is out of range). */
  readonly sourceLine: string;
}

const formatCompilerError = (error: LocatedCompilerError): string => {
  const where = `line ${error.line}, column ${error.column}: ${error.message}`;
  if (error.sourceLine === '') {
    return where;
  }
  const caret = `${' '.repeat(Math.max(0, error.column - 1))}^`;
  return `${where}\n    ${error.sourceLine}\n    ${caret}`;
};

/** The PxL script did not compile. Carries every error with its line, column and source line. */
export class PxlCompileError extends PixieError {
  override readonly name = 'PxlCompileError';
  readonly errors: readonly LocatedCompilerError[];

  constructor(errors: readonly CompilerError[], script: string, options: PixieErrorOptions = {}) {
    const lines = script.split(/\r?\n/);
    const located = errors.map((error) => ({ ...error, sourceLine: lines[error.line - 1] ?? '' }));
    super(`PxL compilation failed:\n${located.map(formatCompilerError).join('\n')}`, options);
    this.errors = located;
  }
}

/** The API key (or token) was refused. Pixie Cloud answers INTERNAL "Auth middleware failed". */
export class PixieAuthError extends PixieError {
  override readonly name = 'PixieAuthError';
}

/** The cluster is unknown to the cloud, or not healthy enough to run scripts. */
export class ClusterUnavailableError extends PixieError {
  override readonly name = 'ClusterUnavailableError';
}

/** The call was cancelled (AbortSignal or the server). */
export class PixieCancelledError extends PixieError {
  override readonly name = 'PixieCancelledError';
}

/** The call's deadline passed. */
export class PixieDeadlineError extends PixieError {
  override readonly name = 'PixieDeadlineError';
}

/** A batch exceeded the cloud's passthrough size limit; the script needs a `head()`. */
export class LargeBatchRejectedError extends PixieError {
  override readonly name = 'LargeBatchRejectedError';
}

/** A tracepoint of a mutation script reached FAILED_STATE. */
export class MutationFailedError extends PixieError {
  override readonly name = 'MutationFailedError';
  /** Names of the tracepoints that failed. */
  readonly tracepoints: readonly string[];

  constructor(tracepoints: readonly string[], options: PixieErrorOptions = {}) {
    super(`could not deploy tracepoint${tracepoints.length === 1 ? '' : 's'}: ${tracepoints.join(', ')} (FAILED_STATE)`, options);
    this.tracepoints = tracepoints;
  }
}

/** The server broke the protocol (undecodable message, data before metadata, data after eos...). */
export class PixieProtocolError extends PixieError {
  override readonly name = 'PixieProtocolError';
}

/** What the gRPC layer reports: a code and its text (grpc-js ServiceError has both). */
interface GrpcLikeError {
  readonly code: number;
  readonly details?: string;
  readonly message: string;
}

const isGrpcLike = (error: unknown): error is GrpcLikeError =>
  error instanceof Error && typeof (error as Partial<GrpcLikeError>).code === 'number';

/** Picks the error class for a gRPC code and message, from Pixie's known failure texts. */
export const errorForCode = (code: number, message: string, options: PixieErrorOptions = {}): PixieError => {
  const full = { ...options, code };
  if (code === GrpcCode.CANCELLED) {
    return new PixieCancelledError(`call cancelled: ${message}`, full);
  }
  if (code === GrpcCode.DEADLINE_EXCEEDED) {
    return new PixieDeadlineError(`deadline exceeded: ${message}`, full);
  }
  if (/Auth middleware failed|invalid auth token/i.test(message) || code === GrpcCode.UNAUTHENTICATED) {
    return new PixieAuthError(`Pixie refused the credentials: ${message}`, full);
  }
  if (/Large data batch rejected/i.test(message)) {
    return new LargeBatchRejectedError(`${message} (add a head() to the script to send less data)`, full);
  }
  if (
    /cluster is not in a healthy state|failed to fetch creds for cluster|cluster_id/i.test(message) ||
    (code === GrpcCode.NOT_FOUND && /cluster/i.test(message))
  ) {
    return new ClusterUnavailableError(`cluster unavailable: ${message}`, full);
  }
  return new PixieError(message === '' ? `Pixie call failed with gRPC code ${code}` : message, full);
};

/** Turns a gRPC (or any) error into a typed {@link PixieError}, keeping it as `cause`. */
export const classifyGrpcError = (error: unknown, queryId?: string): PixieError => {
  if (error instanceof PixieError) {
    return error;
  }
  if (isGrpcLike(error)) {
    return errorForCode(error.code, error.details ?? error.message, { cause: error, queryId });
  }
  return new PixieError(error instanceof Error ? error.message : 'Pixie call failed', { cause: error, queryId });
};

/** Turns a non-OK status carried inside a response message into a typed error. */
export const errorFromStatus = (status: Status, script: string, queryId?: string): PixieError => {
  if (status.compilerErrors.length > 0) {
    return new PxlCompileError(status.compilerErrors, script, { code: status.code, queryId });
  }
  return errorForCode(status.code, status.message, { queryId });
};
