import { describe, expect, it } from 'vitest';
import { collectTables } from '../../../shared/pixie/collect.ts';
import { Int64Column, StringColumn } from '../../../shared/pixie/columns.ts';
import { decodeExecuteScriptResponse } from '../../../shared/pixie/decode.ts';
import { encodeExecuteScriptResponse, type ExecuteScriptResponseInit } from '../../../shared/pixie/encode-response.ts';
import { PixieProtocolError, PxlCompileError } from '../../../shared/pixie/errors.ts';
import { DEFAULT_RETRY_POLICY, type ExecuteEvent, executeScript } from '../../../shared/pixie/execute.ts';
import type { OpenStream, StreamingTransport } from '../../../shared/pixie/transport.ts';
import { DataType, SemanticType, type TableMetadata } from '../../../shared/pixie/types.ts';

const CLUSTER = '5b27f024-eccb-4d07-b28d-84ab8d88e6a3';

/** Feeds prepared responses to the executor in process (the network path is the integration tier's). */
const scriptedTransport = (replies: readonly (readonly ExecuteScriptResponseInit[])[]): StreamingTransport & { requests: Uint8Array[] } => {
  const requests: Uint8Array[] = [];
  return {
    requests,
    serverStream(_path, request): OpenStream {
      requests.push(request);
      const reply = replies[requests.length - 1] ?? [];
      return {
        messages: (async function* () {
          await Promise.resolve();
          for (const message of reply) {
            yield encodeExecuteScriptResponse(message);
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

  it('refuses a batch whose columns disagree with the relation', async () => {
    const wrong: ExecuteScriptResponseInit = {
      queryId: 'q',
      batch: { tableId: table.id, numRows: 1, eow: false, eos: true, cols: [StringColumn.from(['a']), StringColumn.from(['b'])] },
    };
    await expect(collectTables(run(scriptedTransport([[{ queryId: 'q', metaData: table }, wrong]]), 'import px'))).rejects.toThrow(/is STRING in the batch but INT64/);
  });
});

/** Reads back the two request fields this test cares about, through the response decoder's reader. */
const decodeRequest = (bytes: Uint8Array): { queryStr: string; mutation: boolean } => {
  // ExecuteScriptRequest field 1 (query_str) and 5 (mutation); reuse the wire reader via a tiny walk.
  let queryStr = '';
  let mutation = false;
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        return value;
      }
      shift += 7;
    }
  };
  while (pos < bytes.length) {
    const tag = varint();
    if ((tag & 7) === 2) {
      const length = varint();
      if (tag >>> 3 === 1) {
        queryStr = new TextDecoder().decode(bytes.subarray(pos, pos + length));
      }
      pos += length;
    } else {
      const value = varint();
      if (tag >>> 3 === 5) {
        mutation = value === 1;
      }
    }
  }
  return { queryStr, mutation };
};

// Keep the decoder import meaningful: responses the scripted transport sends are valid wire bytes.
it('scripted replies are valid ExecuteScriptResponse bytes', () => {
  expect(decodeExecuteScriptResponse(encodeExecuteScriptResponse(batch(0, 2, true))).batch?.numRows).toBe(2);
});
