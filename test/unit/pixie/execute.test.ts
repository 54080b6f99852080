import { describe, expect, it } from 'vitest';
import { collectTables } from '../../../shared/pixie/collect.ts';
import { Int64Column, StringColumn } from '../../../shared/pixie/columns.ts';
import { decodeExecuteScriptResponse } from '../../../shared/pixie/decode.ts';
import { encodeExecuteScriptResponse, type ExecuteScriptResponseInit } from '../../../dev/vizier/encode-response.ts';
import { PixieProtocolError, PxlCompileError } from '../../../shared/pixie/errors.ts';
import { DEFAULT_RETRY_POLICY, type ExecuteEvent, executeScript } from '../../../shared/pixie/execute.ts';
import type { OpenStream, StreamingTransport } from '../../../shared/pixie/transport.ts';
import { pixieRoot } from '../../support/pixie-protobufjs.ts';
import { DataType, SemanticType, type TableMetadata } from '../../../shared/pixie/types.ts';

const CLUSTER = '5b27f024-eccb-4d07-b28d-84ab8d88e6a3';

/** Feeds prepared responses to the executor in process (the network path is the integration tier's). */
const scriptedTransport = (
  replies: readonly (readonly ExecuteScriptResponseInit[])[],
  endings: readonly (Error | undefined)[] = [],
): StreamingTransport & { requests: Uint8Array[] } => {
  const requests: Uint8Array[] = [];
  return {
    requests,
    serverStream(_path, request): OpenStream {
      requests.push(request);
      const reply = replies[requests.length - 1] ?? [];
      const ending = endings[requests.length - 1];
      return {
        messages: (async function* () {
          await Promise.resolve();
          for (const message of reply) {
            yield encodeExecuteScriptResponse(message);
          }
          if (ending) {
            throw ending;
          }
        })(),
        cancel: () => undefined,
      };
    },
  };
};

const table: TableMetadata = {
  id: 'c9b6c1f0-0000-4000-8000-000000000001',
  name: 'output',
  columns: [
    { name: 'n', type: DataType.INT64, description: '', semanticType: SemanticType.ST_NONE },
    { name: 's', type: DataType.STRING, description: '', semanticType: SemanticType.ST_POD_NAME },
  ],
};

const batch = (from: number, count: number, eos: boolean): ExecuteScriptResponseInit => ({
  queryId: 'q',
  batch: {
    tableId: table.id,
    numRows: count,
    eow: eos,
    eos,
    cols: [
      new Int64Column(BigInt64Array.from({ length: count }, (_, i) => BigInt(from + i))),
      StringColumn.from(Array.from({ length: count }, (_, i) => `v${from + i}`)),
    ],
  },
});

const run = (transport: StreamingTransport, script: string, maxOutputRows?: number): AsyncGenerator<ExecuteEvent> =>
  executeScript(
    { transport, clusterId: CLUSTER, decrypter: undefined, retry: { ...DEFAULT_RETRY_POLICY, resumeDelayMs: 1 } },
    { script, timeoutMs: 5_000, ...(maxOutputRows === undefined ? {} : { maxOutputRows }) },
  );

describe('executeScript stream handling', () => {
  it('flags a table that reached the row cap as truncated, and a smaller one as complete', async () => {
    const reply = [{ queryId: 'q', metaData: table }, batch(0, 3, false), batch(3, 2, true), { queryId: 'q', executionStats: { executionTimeNs: 1, compilationTimeNs: 1, bytesProcessed: 1, recordsProcessed: 5 } }];
    const capped = await collectTables(run(scriptedTransport([reply]), 'import px', 5));
    expect(capped.tables.get('output')).toMatchObject({ rows: 5, complete: true, truncated: true, maxRows: 5 });
    expect(capped.truncatedTables).toEqual(['output']);

    const roomy = await collectTables(run(scriptedTransport([reply]), 'import px', 6));
    expect(roomy.tables.get('output')).toMatchObject({ rows: 5, complete: true, truncated: false, maxRows: 6 });
    const col = roomy.tables.get('output')!.column('n');
    expect(col.type === DataType.INT64 && Array.from(col.values)).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(roomy.tables.get('output')!.column('s').type).toBe(DataType.STRING);
  });

  it('sends the capped script and the mutation flag', async () => {
    const transport = scriptedTransport([[{ queryId: 'q', metaData: table }, batch(0, 1, true)]]);
    await collectTables(run(transport, 'import pxtrace\nimport px', 10));
    const sent = decodeRequest(transport.requests[0]!);
    expect(sent).toEqual({ queryStr: '#px:set max_output_rows_per_table=10\nimport pxtrace\nimport px', mutation: true });
  });

  it('throws PxlCompileError from an in-stream status', async () => {
    const transport = scriptedTransport([[{ queryId: 'q', status: { code: 3, message: 'bad', compilerErrors: [{ line: 1, column: 2, message: 'oops' }] } }]]);
    await expect(collectTables(run(transport, 'x = 1'))).rejects.toThrow(PxlCompileError);
  });

  it.each([
    ['a batch before its metadata', [batch(0, 1, true)]],
    ['data after eos', [{ queryId: 'q', metaData: table }, batch(0, 1, true), batch(1, 1, true)]],
    ['a stream that ends with an open table', [{ queryId: 'q', metaData: table }, batch(0, 1, false)]],
  ])('refuses %s', async (_name, reply) => {
    await expect(collectTables(run(scriptedTransport([reply]), 'import px'))).rejects.toThrow(PixieProtocolError);
  });

  it('resumes only resumable failures after a query id, a bounded number of times in a row', async () => {
    const grpcError = (code: number, details: string): Error => Object.assign(new Error(details), { code, details });
    const head = [{ queryId: 'q', metaData: table }];

    const internal = scriptedTransport([head], [grpcError(13, 'boom')]);
    await expect(collectTables(run(internal, 'import px'))).rejects.toMatchObject({ name: 'PixieError', code: 13, queryId: 'q' });
    expect(internal.requests).toHaveLength(1);

    const early = scriptedTransport([[]], [grpcError(14, 'connection refused')]);
    await expect(collectTables(run(early, 'import px'))).rejects.toMatchObject({ code: 14 });
    expect(early.requests).toHaveLength(1);

    const flapping = scriptedTransport([head], Array.from({ length: 10 }, () => grpcError(14, 'transport is closing')));
    await expect(collectTables(run(flapping, 'import px'))).rejects.toMatchObject({ code: 14 });
    expect(flapping.requests).toHaveLength(1 + DEFAULT_RETRY_POLICY.maxResumes);
    const resumed = decodeRequest(flapping.requests[1]!);
    expect(resumed).toEqual({ queryStr: '', mutation: false });

    const stats = { queryId: 'q', executionStats: { executionTimeNs: 1, compilationTimeNs: 1, bytesProcessed: 1, recordsProcessed: 1 } };
    const brokenAfterEnd = scriptedTransport([[...head, batch(0, 1, true), stats]], [grpcError(14, 'transport is closing')]);
    await expect(collectTables(run(brokenAfterEnd, 'import px'))).resolves.toMatchObject({ truncatedTables: [] });
    expect(brokenAfterEnd.requests).toHaveLength(1);

    const healed = scriptedTransport([head, [batch(0, 2, true)]], [grpcError(13, 'Received RST_STREAM with code 2')]);
    const result = await collectTables(run(healed, 'import px'));
    expect(result.tables.get('output')).toMatchObject({ rows: 2, complete: true });
  });

  it('refuses a batch whose columns disagree with the relation', async () => {
    const wrong: ExecuteScriptResponseInit = {
      queryId: 'q',
      batch: { tableId: table.id, numRows: 1, eow: false, eos: true, cols: [StringColumn.from(['a']), StringColumn.from(['b'])] },
    };
    await expect(collectTables(run(scriptedTransport([[{ queryId: 'q', metaData: table }, wrong]]), 'import px'))).rejects.toThrow(/is STRING in the batch but INT64/);
  });
});

/** Reads the request back with protobufjs (an independent decoder of the same proto text). */
const decodeRequest = (bytes: Uint8Array): { queryStr: string; mutation: boolean } => {
  const type = pixieRoot.lookupType('px.api.vizierpb.ExecuteScriptRequest');
  const request = type.toObject(type.decode(bytes), { defaults: true }) as { query_str: string; mutation: boolean };
  return { queryStr: request.query_str, mutation: request.mutation };
};

// Keep the decoder import meaningful: responses the scripted transport sends are valid wire bytes.
it('scripted replies are valid ExecuteScriptResponse bytes', () => {
  expect(decodeExecuteScriptResponse(encodeExecuteScriptResponse(batch(0, 2, true))).batch?.numRows).toBe(2);
});
