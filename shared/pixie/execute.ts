/**
 * ExecuteScript as an async iterable of events, following Pixie's stream semantics:
 * table metadata before data, columnar batches per table id, one `eos` batch per table, execution
 * stats last. On top of one gRPC stream it adds what Pixie's own clients do around it:
 *
 * - mutations (pxtrace scripts): while tracepoints deploy, Pixie answers `mutation_info` with code
 *   14 and ends the stream; the whole request is sent again after a delay until every tracepoint is
 *   RUNNING or the deadline passes, and a FAILED tracepoint ends the call at once, by name;
 * - resume: when the stream breaks (UNAVAILABLE, or INTERNAL with RST_STREAM / missing trailers)
 *   after a query id was received, the query is resumed by id instead of being run again, and the
 *   caller sees one continuous stream (metadata is not repeated);
 * - row caps: every table that reached the script's `max_output_rows_per_table` is reported as
 *   truncated.
 *
 * @module
 */
import type { Column } from './columns.ts';
import { decodeRowBatch } from './decode-batch.ts';
import { decodeExecuteScriptResponse } from './decode.ts';
import { encodeExecuteScriptRequest } from './encode.ts';
import type { BatchDecrypter } from './encryption.ts';
import {
  GrpcCode,
  MutationFailedError,
  PixieCancelledError,
  PixieDeadlineError,
  PixieError,
  PixieProtocolError,
  classifyGrpcError,
  errorFromStatus,
} from './errors.ts';
import { type CallOptions, checkLimits, deadlineOf, waitWithin } from './limits.ts';
import { applyMaxOutputRows, isMutationScript, maxOutputRowsOf } from './script.ts';
import { Method, type StreamingTransport } from './transport.ts';
import {
  DataType,
  type ExecuteScriptRequest,
  type ExecuteScriptResponse,
  type ExecutionStats,
  type FuncToExecute,
  LifeCycleState,
  type MutationState,
  type RowBatch,
  type TableMetadata,
  enumName,
} from './types.ts';
import { isUuid } from './uint128.ts';

/** Retry and resume timing; defaults follow Pixie's CLI, tests shorten them. */
export interface RetryPolicy {
  /** Wait between whole-request retries while tracepoints deploy (CLI: 5 s). */
  readonly mutationRetryDelayMs: number;
  /** Wait before resuming a broken stream by query id (CLI: 1 s). */
  readonly resumeDelayMs: number;
  /** Resumes allowed in a row without receiving a message in between. */
  readonly maxResumes: number;
  /** Time budget of a call that sets no `timeoutMs`. */
  readonly defaultTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  mutationRetryDelayMs: 5_000,
  resumeDelayMs: 1_000,
  maxResumes: 5,
  defaultTimeoutMs: 120_000,
};

/** What the executor needs from a client. */
export interface ExecuteContext {
  readonly transport: StreamingTransport;
  readonly clusterId: string;
  /** Resolves the client's key pair; undefined when encryption is off. */
  readonly decrypter: (() => Promise<BatchDecrypter>) | undefined;
  readonly retry: RetryPolicy;
}

export interface ExecuteScriptOptions extends CallOptions {
  /** PxL source. */
  readonly script: string;
  /** Functions of a vis-style script to run, with arguments. */
  readonly execFuncs?: readonly FuncToExecute[];
  /** Label for Pixie's metrics. */
  readonly queryName?: string;
  /** Sets `#px:set max_output_rows_per_table` (an integer from 1 to 1e9). */
  readonly maxOutputRows?: number;
  /** Overrides mutation detection (Pixie CLI's `^(from pxtrace|import pxtrace)$` rule). */
  readonly mutation?: boolean;
  /** Overrides the client's cluster id. */
  readonly clusterId?: string;
}

/** A table's final state, reported when its `eos` batch arrives. */
export interface TableEnd {
  readonly table: TableMetadata;
  /** Rows received for this table. */
  readonly rows: number;
  /** The row cap the script ran under. */
  readonly maxRows: number;
  /** True when the table reached the row cap: rows beyond it were dropped by Pixie. */
  readonly truncated: boolean;
}

/** One step of an ExecuteScript call. */
export type ExecuteEvent =
  /** Tracepoint deployment progress (mutation scripts). `ready` once all are RUNNING and the schema exists. */
  | { readonly kind: 'mutation'; readonly queryId: string; readonly states: readonly MutationState[]; readonly ready: boolean; readonly attempt: number }
  /** A table's schema; always before any of its batches, once per table. */
  | { readonly kind: 'metadata'; readonly queryId: string; readonly table: TableMetadata }
  /** Columnar rows of one table. */
  | { readonly kind: 'batch'; readonly table: TableMetadata; readonly batch: RowBatch }
  /** A table is complete (its `eos` batch arrived). Check `truncated`. */
  | ({ readonly kind: 'tableEnd' } & TableEnd)
  /** Execution statistics: the last event of a complete query. */
  | { readonly kind: 'stats'; readonly stats: ExecutionStats }
  /** The stream broke and was resumed by query id. */
  | { readonly kind: 'resumed'; readonly queryId: string; readonly attempt: number; readonly reason: string };

interface TableState {
  readonly meta: TableMetadata;
  rows: number;
  eos: boolean;
}

const RESUMABLE_INTERNAL = /RST_STREAM|server closed the stream without sending trailers/i;

const grpcCodeOf = (error: unknown): number | undefined => {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
};

const grpcTextOf = (error: unknown): string =>
  error instanceof Error ? ((error as { details?: string }).details ?? error.message) : '';

const isResumable = (error: unknown): boolean => {
  const code = grpcCodeOf(error);
  return code === GrpcCode.UNAVAILABLE || (code === GrpcCode.INTERNAL && RESUMABLE_INTERNAL.test(grpcTextOf(error)));
};

const checkBatchShape = (meta: TableMetadata, batch: RowBatch, queryId: string): void => {
  if (batch.cols.length !== meta.columns.length) {
    throw new PixieProtocolError(
      `table ${meta.name}: batch has ${batch.cols.length} columns, its relation ${meta.columns.length}`,
      { queryId },
    );
  }
  batch.cols.forEach((col: Column, i) => {
    const expected = meta.columns[i]?.type;
    if (col.type !== expected) {
      throw new PixieProtocolError(
        `table ${meta.name}: column ${meta.columns[i]?.name ?? i} is ${enumName(DataType, col.type)} in the batch but ${enumName(DataType, expected ?? 0)} in the relation`,
        { queryId },
      );
    }
  });
};

/**
 * Runs a PxL script and yields its events. Breaking out of the loop cancels the call. Throws a
 * {@link PixieError} subclass on failure (compile error, auth, cluster, deadline, cancel...).
 */
export async function* executeScript(context: ExecuteContext, options: ExecuteScriptOptions): AsyncGenerator<ExecuteEvent> {
  const deadline = deadlineOf(options, context.retry.defaultTimeoutMs);
  const signal = options.signal;
  const clusterId = options.clusterId ?? context.clusterId;
  if (!isUuid(clusterId)) {
    throw new PixieError('cluster id must be a UUID');
  }
  const script = options.maxOutputRows === undefined ? options.script : applyMaxOutputRows(options.script, options.maxOutputRows).script;
  const maxRows = maxOutputRowsOf(script);
  const mutation = options.mutation ?? isMutationScript(script);
  const decrypter = context.decrypter ? await context.decrypter() : undefined;

  const fullRequest: ExecuteScriptRequest = {
    queryStr: script,
    clusterId,
    mutation,
    ...(options.execFuncs === undefined ? {} : { execFuncs: options.execFuncs }),
    ...(options.queryName === undefined ? {} : { queryName: options.queryName }),
    ...(decrypter ? { encryptionOptions: decrypter.options } : {}),
  };

  const tables = new Map<string, TableState>();
  let queryId = '';
  let request = fullRequest;
  let resumes = 0;
  let mutationAttempt = 1;
  let statsSeen = false;
  /** Tracepoints not yet RUNNING as last reported: named if the deadline passes while they deploy. */
  let deploying: readonly MutationState[] | undefined;
  const deployingDeadline = (cause?: unknown): PixieDeadlineError => {
    const waiting = (deploying ?? [])
      .filter((state) => state.state !== LifeCycleState.RUNNING_STATE)
      .map((state) => `${state.name} (${enumName(LifeCycleState, state.state)})`);
    return new PixieDeadlineError(
      `deadline exceeded while tracepoints deploy: ${waiting.length > 0 ? waiting.join(', ') : 'schema not ready yet'}`,
      { code: GrpcCode.DEADLINE_EXCEEDED, queryId, cause },
    );
  };

  for (;;) {
    if (deploying !== undefined && Date.now() >= deadline) {
      throw deployingDeadline();
    }
    checkLimits(deadline, signal, queryId);
    const call = context.transport.serverStream(Method.EXECUTE_SCRIPT, encodeExecuteScriptRequest(request), { deadline, signal });
    let mutationPending: readonly MutationState[] | undefined;
    let ended = false;
    try {
      for await (const raw of call.messages) {
        let message: ExecuteScriptResponse;
        try {
          message = decodeExecuteScriptResponse(raw);
        } catch (error) {
          throw new PixieProtocolError(`undecodable ExecuteScriptResponse: ${(error as Error).message}`, { cause: error, queryId });
        }
        if (message.queryId !== '') {
          queryId = message.queryId;
        }
        resumes = 0;

        if (message.mutationInfo) {
          const { states, status } = message.mutationInfo;
          const failed = states.filter((state) => state.state === LifeCycleState.FAILED_STATE);
          if (failed.length > 0) {
            throw new MutationFailedError(
              failed.map((state) => state.name),
              { code: status?.code, queryId },
            );
          }
          const ready = status === undefined || status.code === GrpcCode.OK;
          if (!ready && status.code !== GrpcCode.UNAVAILABLE) {
            throw errorFromStatus(status, script, queryId);
          }
          mutationPending = ready ? undefined : states;
          deploying = mutationPending;
          yield { kind: 'mutation', queryId, states, ready, attempt: mutationAttempt };
        }
        if (message.status && message.status.code !== GrpcCode.OK) {
          if (mutationPending !== undefined && message.status.code === GrpcCode.UNAVAILABLE) {
            continue;
          }
          throw errorFromStatus(message.status, script, queryId);
        }

        if (message.metaData) {
          const meta = message.metaData;
          if (!tables.has(meta.id)) {
            tables.set(meta.id, { meta, rows: 0, eos: false });
            yield { kind: 'metadata', queryId, table: meta };
          }
        }

        let batch = message.batch;
        if (message.encryptedBatch) {
          if (!decrypter) {
            throw new PixieProtocolError('received an encrypted batch but encryption was not requested', { queryId });
          }
          let plain: Uint8Array;
          try {
            plain = await decrypter.decrypt(message.encryptedBatch);
          } catch (error) {
            throw new PixieProtocolError(`could not decrypt a batch: ${(error as Error).message}`, { cause: error, queryId });
          }
          try {
            batch = decodeRowBatch(plain);
          } catch (error) {
            throw new PixieProtocolError(`undecodable decrypted batch: ${(error as Error).message}`, { cause: error, queryId });
          }
        }
        if (batch) {
          const table = tables.get(batch.tableId);
          if (!table) {
            throw new PixieProtocolError(`batch for table ${batch.tableId} arrived before its metadata`, { queryId });
          }
          if (table.eos) {
            throw new PixieProtocolError(`table ${table.meta.name} got data after its end of stream`, { queryId });
          }
          checkBatchShape(table.meta, batch, queryId);
          table.rows += batch.numRows;
          table.eos = batch.eos;
          yield { kind: 'batch', table: table.meta, batch };
          if (batch.eos) {
            yield { kind: 'tableEnd', table: table.meta, rows: table.rows, maxRows, truncated: table.rows >= maxRows };
          }
        }

        if (message.executionStats) {
          statsSeen = true;
          yield { kind: 'stats', stats: message.executionStats };
        }
      }
      ended = true;
    } catch (error) {
      if (error instanceof PixieError) {
        throw error;
      }
      if (signal?.aborted === true) {
        throw new PixieCancelledError('call cancelled by its AbortSignal', { cause: signal.reason, queryId });
      }
      const code = grpcCodeOf(error);
      if (code === GrpcCode.DEADLINE_EXCEEDED && deploying !== undefined) {
        throw deployingDeadline(error);
      }
      if (statsSeen && isResumable(error) && [...tables.values()].every((table) => table.eos)) {
        // The stream broke after the last message of a complete result: nothing is missing.
        return;
      }
      if (mutationPending !== undefined && (code === GrpcCode.UNAVAILABLE || code === GrpcCode.CANCELLED)) {
        // Tracepoints still deploying: handled below by resending the whole request.
      } else if (mutationPending === undefined && queryId !== '' && !statsSeen && isResumable(error) && resumes < context.retry.maxResumes) {
        resumes++;
        request = { clusterId, queryId, ...(decrypter ? { encryptionOptions: decrypter.options } : {}) };
        yield { kind: 'resumed', queryId, attempt: resumes, reason: grpcTextOf(error) };
        await waitWithin(context.retry.resumeDelayMs, deadline, signal);
        if (Date.now() >= deadline) {
          throw new PixieDeadlineError('deadline exceeded while resuming a broken stream', { cause: error, queryId });
        }
        continue;
      } else {
        throw classifyGrpcError(error, queryId === '' ? undefined : queryId);
      }
    } finally {
      call.cancel();
    }

    if (mutationPending !== undefined) {
      await waitWithin(context.retry.mutationRetryDelayMs, deadline, signal);
      if (Date.now() >= deadline) {
        throw deployingDeadline();
      }
      mutationAttempt++;
      tables.clear();
      queryId = '';
      request = fullRequest;
      continue;
    }

    if (ended) {
      const open = [...tables.values()].filter((table) => !table.eos);
      // Streaming scripts never send eos; a finished stream (stats seen) with an open table broke.
      if (open.length > 0 && (statsSeen || !script.includes('.stream()'))) {
        throw new PixieProtocolError(
          `stream closed before end of stream for table${open.length === 1 ? '' : 's'} ${open.map((t) => t.meta.name).join(', ')}`,
          { queryId },
        );
      }
      return;
    }
  }
}

