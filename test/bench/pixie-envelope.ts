/**
 * In-process decode benchmark of the client's message decoders (shared/pixie/decode.ts), this tree
 * against another checkout (`--before DIR`), interleaved in one process so both see the same load:
 * - `batch`: ExecuteScriptResponses each carrying a 1,024-row RowBatchData of the decode
 *   benchmark's columns (time_, upid, five int64, a float64, two strings): the hot path;
 * - `cold`: the other messages of a query (table metadata, execution stats, a status with compiler
 *   errors, mutation info), a HealthCheckResponse and a GetClusterInfoResponse: the cold paths.
 * Every message is encoded once by this tree's encoders; each round decodes all of them with each
 * tree's decoders and keeps the fastest round (least disturbed by other processes).
 *
 * Usage: node test/bench/pixie-envelope.ts [--before DIR] [--rounds 15] [--batches 200]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  encodeExecuteScriptResponse,
  encodeGetClusterInfoResponse,
  encodeHealthCheckResponse,
  encodeRowBatch,
} from '../../dev/vizier/encode-response.ts';
import * as decoders from '../../shared/pixie/decode.ts';
import { Float64Column, Int64Column, StringColumn, Time64NSColumn, UInt128Column } from '../../shared/pixie/columns.ts';
import { DataType, LifeCycleState, SemanticType, type RowBatch } from '../../shared/pixie/types.ts';

const { values } = parseArgs({
  options: { before: { type: 'string' }, rounds: { type: 'string', default: '15' }, batches: { type: 'string', default: '200' } },
});
const rounds = Number(values.rounds);
const batchCount = Number(values.batches);
const ROWS = 1024;

type Decoders = typeof decoders;
const trees: [string, Decoders][] = [['after', decoders]];
if (values.before !== undefined) {
  trees.unshift(['before', (await import(path.resolve(values.before, 'shared/pixie/decode.ts'))) as Decoders]);
}

const batchOf = (seed: number): RowBatch => {
  const int = (k: number): BigInt64Array => BigInt64Array.from({ length: ROWS }, (_, i) => BigInt((seed * ROWS + i) * k));
  return {
    tableId: '5f0c3d1e-1111-4222-8333-944455566677',
    numRows: ROWS,
    eow: false,
    eos: false,
    cols: [
      new Time64NSColumn(BigInt64Array.from({ length: ROWS }, (_, i) => 1_764_000_000_000_000_000n + BigInt(seed * ROWS + i) * 1_000_000n)),
      new UInt128Column(BigUint64Array.from({ length: ROWS }, (_, i) => BigInt(i % 200)), BigUint64Array.from({ length: ROWS }, (_, i) => BigInt(seed + i))),
      ...[1, 3, 7, 11, 13].map((k) => new Int64Column(int(k))),
      new Float64Column(Float64Array.from({ length: ROWS }, (_, i) => i / 7)),
      StringColumn.from(Array.from({ length: ROWS }, (_, i) => `pod-${i % 200}`)),
      StringColumn.from(Array.from({ length: ROWS }, (_, i) => `namespace-${i % 17}/container-${i % 5}`)),
    ],
  };
};

const batches = Array.from({ length: batchCount }, (_, seed) =>
  encodeExecuteScriptResponse({ queryId: 'q-1', batchBytes: encodeRowBatch(batchOf(seed)) }),
);
const columns = ['time_', 'upid', 'a', 'b', 'c', 'd', 'e', 'cpu', 'pod', 'container'];
const metadata = encodeExecuteScriptResponse({
  queryId: 'q-1',
  metaData: {
    id: '5f0c3d1e-1111-4222-8333-944455566677',
    name: 'pod_cpu',
    columns: columns.map((name, i) => ({ name, type: i === 0 ? DataType.TIME64NS : DataType.INT64, description: `column ${name}`, semanticType: SemanticType.ST_NONE })),
  },
});
const stats = encodeExecuteScriptResponse({ queryId: 'q-1', executionStats: { executionTimeNs: 123_456_789, compilationTimeNs: 4_567_890, bytesProcessed: 104_000_000, recordsProcessed: 1_000_000 } });
const status = encodeExecuteScriptResponse({
  queryId: 'q-1',
  status: { code: 3, message: 'compile failed', compilerErrors: [{ line: 3, column: 7, message: "name 'dx' is not defined" }] },
});
const mutation = encodeExecuteScriptResponse({
  queryId: 'q-1',
  mutationInfo: { status: { code: 14, message: 'probe pending', compilerErrors: [] }, states: [{ id: 't-1', state: LifeCycleState.PENDING_STATE, name: 'cpu_throttle' }] },
});
const health = encodeHealthCheckResponse({ code: 0 });
const clusters = encodeGetClusterInfoResponse([
  { id: '0b3e6a8c-1d2f-4a5b-9c8d-7e6f5a4b3c2d', status: 1, clusterName: 'gke-prod', vizierVersion: '0.14.15', numNodes: 12, numInstrumentedNodes: 12, lastHeartbeatNs: 1_000_000_000 },
]);

interface Workload {
  readonly name: string;
  readonly messages: number;
  readonly run: (decoders: Decoders) => number;
}

const workloads: Workload[] = [
  {
    name: `batch (${ROWS} rows each)`,
    messages: batches.length,
    run: (d) => batches.reduce((rows, bytes) => rows + (d.decodeExecuteScriptResponse(bytes).batch?.numRows ?? 0), 0),
  },
  {
    name: 'cold (metadata, stats, status, mutation, health, cluster info)',
    messages: 6 * 500,
    run: (d) => {
      let seen = 0;
      for (let i = 0; i < 500; i++) {
        seen += d.decodeExecuteScriptResponse(metadata).metaData?.columns.length ?? 0;
        seen += d.decodeExecuteScriptResponse(stats).executionStats === undefined ? 0 : 1;
        seen += d.decodeExecuteScriptResponse(status).status?.compilerErrors.length ?? 0;
        seen += d.decodeExecuteScriptResponse(mutation).mutationInfo?.states.length ?? 0;
        seen += d.decodeHealthCheckResponse(health) === undefined ? 0 : 1;
        seen += d.decodeGetClusterInfoResponse(clusters).length;
      }
      return seen;
    },
  },
];

const best = new Map<string, number>();
for (let round = 0; round < rounds; round++) {
  for (const workload of workloads) {
    // Alternate which tree goes first, so neither always inherits the other's garbage.
    for (const [tree, decoders] of round % 2 === 0 ? trees : [...trees].reverse()) {
      const started = process.hrtime.bigint();
      const seen = workload.run(decoders);
      const ns = Number(process.hrtime.bigint() - started) / workload.messages;
      if (seen <= 0) {
        throw new Error(`${tree} decoded nothing in ${workload.name}`);
      }
      const key = `${workload.name}\u0000${tree}`;
      // Round 0 warms up the JIT and is not counted.
      if (round > 0) {
        best.set(key, Math.min(best.get(key) ?? Number.POSITIVE_INFINITY, ns));
      }
    }
  }
}

console.log(`best of ${rounds - 1} rounds (after one warm-up), node ${process.version}\n`);
console.log(`| messages | ${trees.map(([tree]) => `${tree}: µs per message`).join(' | ')} |${trees.length > 1 ? ' after / before |' : ''}`);
console.log(`|---|${trees.map(() => '---:').join('|')}|${trees.length > 1 ? '---:|' : ''}`);
for (const workload of workloads) {
  const times = trees.map(([tree]) => best.get(`${workload.name}\u0000${tree}`) ?? Number.NaN);
  const ratio = times.length > 1 ? ` ${((times[1] ?? 0) / (times[0] ?? 1)).toFixed(2)} |` : '';
  console.log(`| ${workload.name} | ${times.map((ns) => (ns / 1000).toFixed(2)).join(' | ')} |${ratio}`);
}
