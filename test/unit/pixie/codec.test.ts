import { describe, expect, it } from 'vitest';
import type protobuf from 'protobufjs';
import {
  BooleanColumn,
  Float64Column,
  Int64Column,
  StringColumn,
  Time64NSColumn,
  UInt128Column,
} from '../../../shared/pixie/columns.ts';
import { decodeRowBatch } from '../../../shared/pixie/decode-batch.ts';
import {
  decodeExecuteScriptResponse,
  decodeGetClusterInfoResponse,
  decodeHealthCheckResponse,
} from '../../../shared/pixie/decode.ts';
import { encodeExecuteScriptRequest, encodeGetClusterInfoRequest } from '../../../shared/pixie/encode.ts';
import {
  encodeExecuteScriptResponse,
  encodeGetClusterInfoResponse,
  encodeHealthCheckResponse,
  encodeRowBatch,
} from '../../../dev/vizier/encode-response.ts';
import { ClusterStatus, DataType, LifeCycleState, type RowBatch, SemanticType } from '../../../shared/pixie/types.ts';
import { WireFormatError } from '../../../shared/pixie/wire.ts';
import { pixieRoot } from '../../support/pixie-protobufjs.ts';

const INT64_EDGES = [0n, 1n, -1n, 127n, 128n, -129n, 2n ** 31n, -(2n ** 31n), 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)];

const sampleBatch = (): RowBatch => ({
  tableId: 'a0b1c2d3-0000-4000-8000-000000000001',
  numRows: INT64_EDGES.length,
  eow: true,
  eos: true,
  cols: [
    new Time64NSColumn(BigInt64Array.from(INT64_EDGES.map((v, i) => 1_700_000_000_000_000_000n + v / 1000n + BigInt(i)))),
    new Int64Column(BigInt64Array.from(INT64_EDGES)),
    new Float64Column(Float64Array.from(INT64_EDGES.map((_, i) => (i % 2 === 0 ? i / 3 : -i * 1e300)))),
    new BooleanColumn(Uint8Array.from(INT64_EDGES.map((_, i) => i % 3 === 0 ? 1 : 0))),
    StringColumn.from(INT64_EDGES.map((_, i) => (i === 2 ? new Uint8Array([0x66, 0xff, 0xfe, 0x6f]) : i === 3 ? 'ünïcødé ✓' : `pod-${i}`))),
    new UInt128Column(
      BigUint64Array.from(INT64_EDGES.map((v) => BigInt.asUintN(64, v))),
      BigUint64Array.from(INT64_EDGES.map((v) => BigInt.asUintN(64, -v))),
    ),
  ],
});

const expectSameBatch = (actual: RowBatch, expected: RowBatch): void => {
  expect(actual.tableId).toBe(expected.tableId);
  expect(actual.numRows).toBe(expected.numRows);
  expect(actual.eow).toBe(expected.eow);
  expect(actual.eos).toBe(expected.eos);
  expect(actual.cols.map((c) => c.type)).toEqual(expected.cols.map((c) => c.type));
  actual.cols.forEach((col, i) => {
    const want = expected.cols[i]!;
    if (col.type === DataType.STRING && want.type === DataType.STRING) {
      expect(Array.from({ length: col.length }, (_, r) => Array.from(col.raw(r)))).toEqual(
        Array.from({ length: want.length }, (_, r) => Array.from(want.raw(r))),
      );
    } else if (col.type === DataType.UINT128 && want.type === DataType.UINT128) {
      expect(Array.from(col.high)).toEqual(Array.from(want.high));
      expect(Array.from(col.low)).toEqual(Array.from(want.low));
    } else if ('values' in col && 'values' in want) {
      expect(Array.from(col.values as ArrayLike<unknown>)).toEqual(Array.from(want.values as ArrayLike<unknown>));
    }
  });
};

describe('RowBatchData codec', () => {
  it.each([true, false])('round-trips every column type (packed=%s)', (packed) => {
    const batch = sampleBatch();
    const decoded = decodeRowBatch(encodeRowBatch(batch, { packed }));
    expect(decoded.cols).toHaveLength(6);
    expectSameBatch(decoded, batch);
  });

  it('reads a column whose values arrive half packed, half unpacked', () => {
    const first = new Int64Column(BigInt64Array.from([1n, -2n, 3n]));
    const second = new Int64Column(BigInt64Array.from([2n ** 40n, -(2n ** 62n)]));
    const packed = encodeRowBatch({ tableId: 't', numRows: 3, eow: false, eos: false, cols: [first] }, { packed: true });
    const unpacked = encodeRowBatch({ tableId: 't', numRows: 2, eow: false, eos: false, cols: [second] }, { packed: false });
    // Splice: one Column message whose Int64Column holds the packed run then the unpacked values.
    const innerOf = (bytes: Uint8Array): Uint8Array => {
      const decoded = decodeRowBatch(bytes);
      expect(decoded.cols).toHaveLength(1);
      // Column = 0x0a len [ 0x12 len [ Int64Column ] ] ; skip the two 1-byte length prefixes.
      return bytes.subarray(4, 4 + (bytes[3] ?? 0));
    };
    const inner = new Uint8Array([...innerOf(packed), ...innerOf(unpacked)]);
    const column = new Uint8Array([0x12, inner.length, ...inner]);
    const batch = new Uint8Array([0x0a, column.length, ...column, 0x10, 5]);
    const decoded = decodeRowBatch(batch);
    expect(decoded.numRows).toBe(5);
    expect(Array.from((decoded.cols[0] as Int64Column).values)).toEqual([1n, -2n, 3n, 2n ** 40n, -(2n ** 62n)]);
  });

  it('handles long strings, empty values and batches larger than the scratch buffer', () => {
    // 12 000 int64 values need 24 000 scratch words, more than the initial 16 384.
    const rows = 12_000;
    const long = 'x'.repeat(300);
    const text = (i: number): string => (i % 3 === 0 ? long : i % 3 === 1 ? '' : `s${i}`);
    const batch: RowBatch = {
      tableId: 't',
      numRows: rows,
      eow: false,
      eos: false,
      cols: [
        StringColumn.from(Array.from({ length: rows }, (_, i) => text(i))),
        new Int64Column(BigInt64Array.from({ length: rows }, (_, i) => BigInt(i) * -(2n ** 40n))),
        new UInt128Column(
          BigUint64Array.from({ length: rows }, (_, i) => BigInt(i)),
          BigUint64Array.from({ length: rows }, (_, i) => 2n ** 64n - 1n - BigInt(i)),
        ),
      ],
    };
    for (const packed of [true, false]) {
      const decoded = decodeRowBatch(encodeRowBatch(batch, { packed }));
      const [strings, ints, wide] = decoded.cols as [StringColumn, Int64Column, UInt128Column];
      const wrong: number[] = [];
      for (let i = 0; i < rows; i++) {
        if (strings.get(i) !== text(i) || ints.get(i) !== BigInt(i) * -(2n ** 40n) || wide.high[i] !== BigInt(i) || wide.low[i] !== 2n ** 64n - 1n - BigInt(i)) {
          wrong.push(i);
        }
      }
      expect(wrong).toEqual([]);
      expect([strings.length, ints.length, wide.length]).toEqual([rows, rows, rows]);
    }
  });

  it('skips unknown fields inside UInt128 values and columns', () => {
    // UInt128 { low=1: 5, unknown 3 (string "zz"), high=2: 9 } inside one UInt128Column inside a Column.
    const value = [0x08, 5, 0x1a, 2, 0x7a, 0x7a, 0x10, 9];
    const uint128Column = [0x0a, value.length, ...value, 0x12, 1, 0x41];
    const column = [0x1a, uint128Column.length, ...uint128Column];
    const decoded = decodeRowBatch(new Uint8Array([0x0a, column.length, ...column, 0x10, 1, 0x30, 7]));
    const col = decoded.cols[0] as UInt128Column;
    expect([col.high[0], col.low[0]]).toEqual([9n, 5n]);
  });

  it('rejects a batch whose columns disagree with num_rows', () => {
    const batch = sampleBatch();
    const bytes = encodeRowBatch({ ...batch, numRows: batch.numRows + 1 });
    expect(() => decodeRowBatch(bytes)).toThrow(WireFormatError);
  });

  it('rejects truncated bytes with a WireFormatError', () => {
    const bytes = encodeRowBatch(sampleBatch());
    expect(() => decodeRowBatch(bytes.subarray(0, bytes.length - 7))).toThrow(WireFormatError);
  });

  it('keeps invalid UTF-8 exact in raw() and replaces it in get()', () => {
    const decoded = decodeRowBatch(encodeRowBatch(sampleBatch()));
    const names = decoded.cols[4] as StringColumn;
    expect(Array.from(names.raw(2))).toEqual([0x66, 0xff, 0xfe, 0x6f]);
    expect(names.get(2)).toBe('f\uFFFD\uFFFDo');
    expect(names.get(3)).toBe('ünïcødé ✓');
    expect(names.toArray()[0]).toBe('pod-0');
  });
});

describe('cross-check with protobufjs on the same proto text', () => {
  const root: protobuf.Root = pixieRoot;

  it('decodes an ExecuteScriptResponse batch that protobufjs encoded (packed)', () => {
    const type = root.lookupType('px.api.vizierpb.ExecuteScriptResponse');
    const bytes = type
      .encode(
        type.fromObject({
          query_id: 'q-1',
          data: {
            batch: {
              table_id: 't-1',
              num_rows: 3,
              eos: true,
              cols: [
                { time64ns_data: { data: ['1700000000000000000', '1700000001000000000', '-5'] } },
                { int64_data: { data: ['9223372036854775807', '-9223372036854775808', '42'] } },
                { float64_data: { data: [0.5, -1.25, 1e-300] } },
                { boolean_data: { data: [true, false, true] } },
                { string_data: { data: [Buffer.from('a'), Buffer.from(''), Buffer.from([0xc3, 0x28])] } },
                { uint128_data: { data: [{ high: '18446744073709551615', low: '1' }, { high: '0', low: '0' }, { high: '4294967296', low: '7' }] } },
              ],
            },
          },
        }),
      )
      .finish();
    const decoded = decodeExecuteScriptResponse(bytes);
    expect(decoded.queryId).toBe('q-1');
    const batch = decoded.batch!;
    expect(batch.eos).toBe(true);
    expect(Array.from((batch.cols[0] as Time64NSColumn).values)).toEqual([1_700_000_000_000_000_000n, 1_700_000_001_000_000_000n, -5n]);
    expect(Array.from((batch.cols[1] as Int64Column).values)).toEqual([2n ** 63n - 1n, -(2n ** 63n), 42n]);
    expect(Array.from((batch.cols[2] as Float64Column).values)).toEqual([0.5, -1.25, 1e-300]);
    expect(Array.from((batch.cols[3] as BooleanColumn).values)).toEqual([1, 0, 1]);
    expect((batch.cols[4] as StringColumn).toArray()).toEqual(['a', '', '\uFFFD(']);
    const upids = batch.cols[5] as UInt128Column;
    expect(Array.from(upids.high)).toEqual([2n ** 64n - 1n, 0n, 2n ** 32n]);
    expect(upids.upid(2)).toEqual({ asid: 1, pid: 0, startTicks: 7n });
  });

  it('decodes metadata, status with compiler errors, mutation info and stats that protobufjs encoded', () => {
    const type = root.lookupType('px.api.vizierpb.ExecuteScriptResponse');
    const meta = decodeExecuteScriptResponse(
      type
        .encode(
          type.fromObject({
            query_id: 'q',
            meta_data: {
              id: 'tid',
              name: 'out',
              relation: {
                columns: [
                  { column_name: 'time_', column_type: 'TIME64NS', column_semantic_type: 'ST_NONE' },
                  { column_name: 'upid', column_type: 'UINT128', column_desc: 'process', column_semantic_type: 'ST_UPID' },
                ],
              },
            },
          }),
        )
        .finish(),
    );
    expect(meta.metaData).toEqual({
      id: 'tid',
      name: 'out',
      columns: [
        { name: 'time_', type: DataType.TIME64NS, description: '', semanticType: SemanticType.ST_NONE },
        { name: 'upid', type: DataType.UINT128, description: 'process', semanticType: SemanticType.ST_UPID },
      ],
    });

    const status = decodeExecuteScriptResponse(
      type
        .encode(
          type.fromObject({
            query_id: 'q',
            status: {
              code: 3,
              message: 'compile failed',
              error_details: [
                { compiler_error: { line: 2, column: 5, message: 'name x is not defined' } },
                { compiler_error: { line: 7, column: 1, message: 'bad' } },
              ],
            },
          }),
        )
        .finish(),
    );
    expect(status.status).toEqual({
      code: 3,
      message: 'compile failed',
      compilerErrors: [
        { line: 2, column: 5, message: 'name x is not defined' },
        { line: 7, column: 1, message: 'bad' },
      ],
    });

    const mutation = decodeExecuteScriptResponse(
      type
        .encode(
          type.fromObject({
            query_id: 'q',
            mutation_info: {
              status: { code: 14, message: 'probe installation in progress' },
              states: [
                { id: 'tp1', state: 'PENDING_STATE', name: 'tcp_drops' },
                { id: 'tp2', state: 'FAILED_STATE', name: 'oom' },
              ],
            },
          }),
        )
        .finish(),
    );
    expect(mutation.mutationInfo?.status?.code).toBe(14);
    expect(mutation.mutationInfo?.states).toEqual([
      { id: 'tp1', state: LifeCycleState.PENDING_STATE, name: 'tcp_drops' },
      { id: 'tp2', state: LifeCycleState.FAILED_STATE, name: 'oom' },
    ]);

    const stats = decodeExecuteScriptResponse(
      type
        .encode(
          type.fromObject({
            query_id: 'q',
            data: { execution_stats: { timing: { execution_time_ns: 1234, compilation_time_ns: 56 }, bytes_processed: 789, records_processed: 10 } },
          }),
        )
        .finish(),
    );
    expect(stats.executionStats).toEqual({ executionTimeNs: 1234, compilationTimeNs: 56, bytesProcessed: 789, recordsProcessed: 10 });
  });

  it('encodes requests protobufjs reads back field by field', () => {
    const type = root.lookupType('px.api.vizierpb.ExecuteScriptRequest');
    const bytes = encodeExecuteScriptRequest({
      queryStr: 'import px\npx.display(px.DataFrame("process_stats"))',
      clusterId: '5b27f024-eccb-4d07-b28d-84ab8d88e6a3',
      execFuncs: [{ funcName: 'mod.f', args: { start: '-5m', ns: 'default' }, outputTablePrefix: 'out' }],
      mutation: true,
      encryptionOptions: { jwkKey: '{"kty":"RSA"}', keyAlg: 'RSA-OAEP-256', contentAlg: 'A256GCM', compressionAlg: 'DEF' },
      queryId: 'qid',
      queryName: 'kernel-gossip/pod-birth',
    });
    expect(type.toObject(type.decode(bytes))).toEqual({
      query_str: 'import px\npx.display(px.DataFrame("process_stats"))',
      cluster_id: '5b27f024-eccb-4d07-b28d-84ab8d88e6a3',
      exec_funcs: [
        {
          func_name: 'mod.f',
          arg_values: [
            { name: 'start', value: '-5m' },
            { name: 'ns', value: 'default' },
          ],
          output_table_prefix: 'out',
        },
      ],
      mutation: true,
      encryption_options: { jwk_key: '{"kty":"RSA"}', key_alg: 'RSA-OAEP-256', content_alg: 'A256GCM', compression_alg: 'DEF' },
      query_id: 'qid',
      query_name: 'kernel-gossip/pod-birth',
    });

    const info = root.lookupType('px.cloudapi.GetClusterInfoRequest');
    const decoded = info.toObject(info.decode(encodeGetClusterInfoRequest('ffeeddcc-bbaa-9988-7766-554433221100')), { longs: String });
    expect(decoded).toEqual({ id: { high_bits: '18441921395520346504', low_bits: '8603657889541918976' } });
    expect(info.toObject(info.decode(encodeGetClusterInfoRequest()))).toEqual({});
  });

  it('decodes my response encoders the same way protobufjs does', () => {
    const type = root.lookupType('px.api.vizierpb.ExecuteScriptResponse');
    const bytes = encodeExecuteScriptResponse({ queryId: 'q', batch: sampleBatch(), encoding: { packed: false } });
    const viaProtobufjs = type.toObject(type.decode(bytes), { longs: String }) as { data: { batch: { num_rows: string; cols: { int64_data?: { data: string[] } }[] } } };
    expect(viaProtobufjs.data.batch.num_rows).toBe(String(INT64_EDGES.length));
    expect(viaProtobufjs.data.batch.cols[1]?.int64_data?.data).toEqual(INT64_EDGES.map(String));
  });

  it('reads GetClusterInfoResponse and HealthCheckResponse', () => {
    const clusters = decodeGetClusterInfoResponse(
      encodeGetClusterInfoResponse([
        { id: '5b27f024-eccb-4d07-b28d-84ab8d88e6a3', status: ClusterStatus.CS_HEALTHY, clusterName: 'gke_p_z_c', prettyClusterName: 'c', vizierVersion: '0.14.15', numNodes: 3, numInstrumentedNodes: 3 },
      ]),
    );
    expect(clusters).toHaveLength(1);
    expect(clusters[0]).toMatchObject({
      id: '5b27f024-eccb-4d07-b28d-84ab8d88e6a3',
      statusName: 'CS_HEALTHY',
      clusterName: 'gke_p_z_c',
      vizierVersion: '0.14.15',
      numNodes: 3,
    });
    const type = root.lookupType('px.cloudapi.GetClusterInfoResponse');
    const viaProtobufjs = decodeGetClusterInfoResponse(
      type
        .encode(
          type.fromObject({
            clusters: [
              {
                id: { high_bits: '6568482622925393159', low_bits: '12866085582816208547' },
                status: 'CS_UNHEALTHY',
                control_plane_pod_statuses: { 'vizier-pem-x': { name: 'vizier-pem-x', status: 'FAILED', restart_count: 4 } },
                previous_status_time: { seconds: 5 },
                operator_version: '0.0.40',
              },
            ],
          }),
        )
        .finish(),
    );
    expect(viaProtobufjs[0]).toMatchObject({
      id: '5b27f024-eccb-4d07-b28d-84ab8d88e6a3',
      status: ClusterStatus.CS_UNHEALTHY,
      operatorVersion: '0.0.40',
      controlPlanePodStatuses: { 'vizier-pem-x': { name: 'vizier-pem-x', status: 4, restartCount: 4 } },
    });
    expect(decodeHealthCheckResponse(encodeHealthCheckResponse({ code: 14, message: 'unhealthy' }))).toEqual({
      code: 14,
      message: 'unhealthy',
      compilerErrors: [],
    });
  });
});
