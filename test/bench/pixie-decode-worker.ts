/**
 * One measured consumer of the decode benchmark, run in its own process so its peak RSS is its own.
 * Prints one JSON line: {mode, rows, seconds, cpuSeconds, maxRssKiB, bytes}.
 *
 * Modes:
 * - baseline: load the same modules and make no call (idle RSS of this process);
 * - transport: grpc-js delivers each ExecuteScriptResponse as raw bytes; nothing is decoded
 *   (the cost of receiving the stream at all);
 * - protobufjs: the same bytes fully decoded by protobufjs (reflection decoder, int64 as Long),
 *   rows counted from num_rows, no row handling: the "bare protobuf decode" floor;
 * - ts: the project's TypeScript client (shared/pixie), encryption off, rows counted from batches
 *   (columns decoded into typed arrays, no per-row objects);
 * - ts-values: the TS client plus reading every value of every row through the column getters
 *   (what a consumer that touches all data pays; comparable to pxapi building a Row per row);
 * - ts-encrypted: the TS client with its default end-to-end encryption (fresh RSA-4096 key, JWE).
 *
 * Usage: node test/bench/pixie-decode-worker.ts --mode M --addr HOST:PORT --cluster UUID --script FILE
 * (API key from the PX_BENCH_API_KEY environment variable).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { encode, pb } from '../support/pixie-protobufjs.ts';
import { DataType, createPixieClient } from '../../shared/pixie/index.ts';

const { values } = parseArgs({
  options: { mode: { type: 'string' }, addr: { type: 'string' }, cluster: { type: 'string' }, script: { type: 'string' } },
});
const mode = values.mode ?? '';
const addr = values.addr ?? '';
const cluster = values.cluster ?? '';
const script = readFileSync(values.script ?? '', 'utf8');
const apiKey = process.env['PX_BENCH_API_KEY'] ?? '';

const raw = async (onMessage: (bytes: Buffer) => number): Promise<{ rows: number; bytes: number }> => {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
  const metadata = new grpc.Metadata();
  metadata.set('pixie-api-key', apiKey);
  let rows = 0;
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const call = client.makeServerStreamRequest(
      '/px.api.vizierpb.VizierService/ExecuteScript',
      (r: Record<string, unknown>) => encode(pb.ExecuteScriptRequest, r),
      (b: Buffer) => b,
      { cluster_id: cluster, query_str: script },
      metadata,
    );
    call.on('data', (b: Buffer) => {
      bytes += b.length;
      rows += onMessage(b);
    });
    call.on('error', reject);
    call.on('end', resolve);
  });
  client.close();
  return { rows, bytes };
};

const viaClient = async (encryption: boolean, touch: boolean): Promise<{ rows: number; bytes: number }> => {
  const client = createPixieClient({
    address: addr,
    security: { kind: 'plaintext' },
    apiKey,
    clusterId: cluster,
    encryption,
    retry: { defaultTimeoutMs: 600_000 },
  });
  let rows = 0;
  let checksum = 0;
  for await (const event of client.executeScript({ script })) {
    if (event.kind !== 'batch') {
      continue;
    }
    rows += event.batch.numRows;
    if (touch) {
      for (const col of event.batch.cols) {
        for (let r = 0; r < event.batch.numRows; r++) {
          switch (col.type) {
            case DataType.STRING:
              checksum += col.get(r).length;
              break;
            case DataType.UINT128:
              checksum += col.uuid(r).length;
              break;
            case DataType.FLOAT64:
              checksum += col.get(r);
              break;
            case DataType.BOOLEAN:
              checksum += col.get(r) ? 1 : 0;
              break;
            default:
              checksum += Number(col.get(r) & 1n);
          }
        }
      }
    }
  }
  client.close();
  if (touch && checksum === 0) {
    throw new Error('no values read');
  }
  return { rows, bytes: 0 };
};

const started = performance.now();
const cpuStart = process.cpuUsage();
let result: { rows: number; bytes: number };
switch (mode) {
  case 'baseline':
    // Same modules loaded, no call: the idle RSS the other modes' peaks should be read against.
    result = { rows: 0, bytes: 0 };
    break;
  case 'transport':
    result = await raw(() => 0);
    break;
  case 'protobufjs':
    result = await raw((b) => {
      const message = pb.ExecuteScriptResponse.decode(b) as unknown as { data?: { batch?: { num_rows?: { toNumber(): number } | number } | null } | null };
      const n = message.data?.batch?.num_rows;
      return typeof n === 'number' ? n : (n?.toNumber() ?? 0);
    });
    break;
  case 'ts':
    result = await viaClient(false, false);
    break;
  case 'ts-values':
    result = await viaClient(false, true);
    break;
  case 'ts-encrypted':
    result = await viaClient(true, false);
    break;
  default:
    throw new Error(`unknown mode ${mode}`);
}
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
// cpuSeconds: user + system time of this process (all threads) during the call: the consumer's own
// cost, which wall time on a shared 2-core machine cannot isolate from the server's.
console.log(JSON.stringify({ mode, rows: result.rows, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssKiB: process.resourceUsage().maxRSS, bytes: result.bytes }));
