/**
 * Helpers for the local Vizier tests: a dataset written to a temp dir, an in-process server, a raw
 * gRPC client that decodes every response with protobufjs (independent of the server's hand
 * encoder), and Pixie's official Python client run as a child process.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadDataset } from '../../../dev/vizier/dataset.ts';
import { decode, encode, pb } from '../../support/pixie-protobufjs.ts';
import { startVizier, type ClusterConfig, type RunningVizier, type VizierOptions } from '../../../dev/vizier/server.ts';

export const API_KEY = 'test-api-key-0123456789';
export const CLUSTER = '11111111-2222-4333-8444-555555555555';
export const SICK_CLUSTER = '99999999-2222-4333-8444-555555555555';

/** A small table with every data type, including a non-UTF-8 string and negative int64. */
export const ALL_TYPES_TABLE = {
  name: 'all_types',
  relation: [
    { name: 'time_', type: 'TIME64NS' },
    { name: 'upid', type: 'UINT128', semantic: 'ST_UPID' },
    { name: 'count', type: 'INT64' },
    { name: 'ratio', type: 'FLOAT64', semantic: 'ST_PERCENT' },
    { name: 'ok', type: 'BOOLEAN' },
    { name: 'pod', type: 'STRING', semantic: 'ST_POD_NAME' },
  ],
  columns: {
    time_: ['1764000000000000000', '1764000001000000000', '1764000002000000000'],
    upid: ['00000001-0000-04d2-0000-000000003039', { high: '18446744073709551615', low: '1' }, '00000000-0000-0000-0000-000000000000'],
    count: ['0', '-9223372036854775808', '9223372036854775807'],
    ratio: [0.1, -1e-300, 12345.678],
    ok: [true, false, true],
    pod: ['default/web-1', '', { base64: Buffer.from([0xff, 0xfe, 0x41]).toString('base64') }],
  },
};

/** A dataset dir with `all_types` plus a `pod_cpu`-like table of `rows` rows (sequential values). */
export const writeDataset = (rows = 2500): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vizier-ds-'));
  writeFileSync(path.join(dir, 'all_types.json'), JSON.stringify(ALL_TYPES_TABLE));
  const time = Array.from({ length: rows }, (_, i) => String(1764000000000000000n + BigInt(i) * 1000n));
  writeFileSync(
    path.join(dir, 'seq.json'),
    JSON.stringify({
      relation: [
        { name: 'time_', type: 'TIME64NS' },
        { name: 'n', type: 'INT64' },
        { name: 'label', type: 'STRING' },
      ],
      columns: { time_: time, n: time.map((_, i) => String(i)), label: time.map((_, i) => `row-${i}`) },
    }),
  );
  writeFileSync(path.join(dir, 'empty.json'), JSON.stringify({ relation: [{ name: 'time_', type: 'TIME64NS' }], columns: { time_: [] } }));
  // Recorded output of a `printf("time_:%llu pid:%u", nsecs, pid)` tracepoint, and of one that is
  // never deployed: served only once a mutation deployed a tracepoint writing that table.
  for (const table of ['tcp_drops', 'never_deployed']) {
    writeFileSync(
      path.join(dir, `${table}.json`),
      JSON.stringify({ relation: [{ name: 'time_', type: 'TIME64NS' }, { name: 'pid', type: 'INT64' }], columns: { time_: ['1764000000000000000', '1764000000000001000', '1764000000000002000'], pid: ['10', '11', '12'] } }),
    );
  }
  return dir;
};

export const startTestVizier = async (dir: string, extra: Partial<VizierOptions> = {}): Promise<RunningVizier> => {
  const clusters: ClusterConfig[] = [
    { id: CLUSTER, name: 'local-test', status: 'CS_HEALTHY', faults: {} },
    { id: SICK_CLUSTER, name: 'sick', status: 'CS_UNHEALTHY', faults: {} },
  ];
  return startVizier({ dataset: loadDataset(dir), apiKeys: [API_KEY], clusters, batchRows: 1000, ...extra });
};

export interface StreamResult {
  readonly messages: Record<string, unknown>[];
  readonly status: { code: number; details: string };
}

/** Runs ExecuteScript with a raw client; every response decoded by protobufjs. */
export const rawExecute = async (
  address: string,
  request: Record<string, unknown>,
  options: { apiKey?: string; credentials?: grpc.ChannelCredentials; onMessage?: (m: Record<string, unknown>, call: grpc.ClientReadableStream<Buffer>) => void } = {},
): Promise<StreamResult> => {
  const client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('pixie-api-key', options.apiKey ?? API_KEY);
  metadata.set('pixie-api-client', 'kernel-gossip-test');
  const messages: Record<string, unknown>[] = [];
  try {
    return await new Promise<StreamResult>((resolve) => {
      const call = client.makeServerStreamRequest(
        '/px.api.vizierpb.VizierService/ExecuteScript',
        (r: Record<string, unknown>) => encode(pb.ExecuteScriptRequest, r),
        (b: Buffer) => b,
        request,
        metadata,
      );
      call.on('data', (bytes: Buffer) => {
        const message = decode(pb.ExecuteScriptResponse, bytes);
        // protobufjs leaves unset oneof members out; make "absent" uniformly null.
        message['meta_data'] ??= null;
        message['data'] ??= null;
        messages.push(message);
        options.onMessage?.(message, call);
      });
      call.on('error', (error: grpc.ServiceError) => {
        resolve({ messages, status: { code: error.code, details: error.details } });
      });
      call.on('end', () => {
        resolve({ messages, status: { code: 0, details: '' } });
      });
    });
  } finally {
    client.close();
  }
};

type Batch = { table_id: string; num_rows: string; eos: boolean; eow: boolean; cols: Record<string, { data: unknown[] } | null>[] };
/** The RowBatchData of a data message, or undefined. */
export const batchOf = (m: Record<string, unknown>): Batch | undefined => {
  const data = m['data'] as { batch: Batch | null } | null;
  return data?.batch ?? undefined;
};

export const pythonPath = (): string => path.join(process.env['KG_CACHE'] ?? path.join(process.env['HOME'] ?? '/root', '.cache', 'kernel-gossip'), 'pxapi-venv-0.9.0', 'bin', 'python');

/** Pixie's Python client, or a clear failure telling how to install it. */
export const requirePython = (): string => {
  const python = pythonPath();
  if (!existsSync(python)) {
    throw new Error(`Pixie's Python client is not installed at ${python}: run 'bash dev/setup/20-pixie-clients.sh' (KG_CACHE=${process.env['KG_CACHE'] ?? '~/.cache/kernel-gossip'})`);
  }
  return python;
};

export const PXAPI_RUNNER = path.resolve('dev/vizier/conformance/python/pxapi_run.py');

export interface PxapiOutput {
  readonly lines: Record<string, unknown>[];
  readonly exitCode: number;
  readonly stderr: string;
}

/** Runs a script through pxapi; parses its JSON lines. */
export const runPxapi = async (address: string, script: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<PxapiOutput> => {
  const python = requirePython();
  const scriptFile = path.join(mkdtempSync(path.join(tmpdir(), 'pxl-')), 'script.pxl');
  writeFileSync(scriptFile, script);
  return new Promise((resolve) => {
    execFile(
      python,
      [PXAPI_RUNNER, '--addr', address, '--cluster', CLUSTER, '--api-key-env', 'PX_TEST_API_KEY', '--script', scriptFile, ...args],
      { env: { ...process.env, PX_TEST_API_KEY: API_KEY, ...env }, maxBuffer: 256 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        const lines = stdout
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        resolve({ lines, exitCode: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stderr });
      },
    );
  });
};

const UTF8 = new TextDecoder('utf-8', { fatal: true });

const hex64 = (v: bigint): string => v.toString(16).padStart(16, '0');

/** A UInt128 as Pixie's clients print it: 16 big-endian bytes, high then low, as a UUID. */
export const uint128Text = (high: bigint, low: bigint): string => {
  const h = hex64(high) + hex64(low);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** The same canonical value form pxapi_run.py prints (see its docstring). */
export const canonicalValue = (value: unknown, type: number): unknown => {
  switch (type) {
    case 2:
    case 6:
      return String(value);
    case 3: {
      const v = value as { high: string; low: string };
      return uint128Text(BigInt(v.high), BigInt(v.low));
    }
    case 4: {
      const buf = Buffer.alloc(8);
      buf.writeDoubleBE(value as number);
      return buf.toString('hex');
    }
    case 5: {
      const bytes = value as Buffer;
      try {
        return UTF8.decode(bytes);
      } catch {
        return { base64: bytes.toString('base64') };
      }
    }
    default:
      return value;
  }
};

const COLUMN_KEYS = ['boolean_data', 'int64_data', 'uint128_data', 'time64ns_data', 'float64_data', 'string_data'] as const;

/** Table name -> canonical rows, from a raw (protobufjs-decoded) stream. */
export const canonicalTables = (messages: readonly Record<string, unknown>[]): Map<string, unknown[][]> => {
  const metas = new Map<string, { name: string; types: number[] }>();
  const out = new Map<string, unknown[][]>();
  for (const m of messages) {
    const meta = m['meta_data'] as { id: string; name: string; relation: { columns: { column_type: number }[] } } | null;
    if (meta !== null) {
      metas.set(meta.id, { name: meta.name, types: meta.relation.columns.map((c) => c.column_type) });
      out.set(meta.name, []);
    }
    const batch = batchOf(m);
    if (batch === undefined) {
      continue;
    }
    const info = metas.get(batch.table_id);
    if (info === undefined) {
      throw new Error(`batch for unknown table ${batch.table_id}`);
    }
    const columns = batch.cols.map((c) => {
      const key = COLUMN_KEYS.find((k) => c[k] !== null && c[k] !== undefined);
      return key === undefined ? [] : (c[key]?.data ?? []);
    });
    for (let r = 0; r < Number(batch.num_rows); r++) {
      out.get(info.name)?.push(columns.map((col, i) => canonicalValue(col[r], info.types[i] ?? 0)));
    }
  }
  return out;
};

/** Table name -> rows from pxapi_run.py output lines. */
export const pxapiTables = (lines: readonly Record<string, unknown>[]): Map<string, unknown[][]> => {
  const out = new Map<string, unknown[][]>();
  for (const line of lines) {
    const table = line['table'];
    if (typeof table !== 'string') {
      continue;
    }
    if (!out.has(table)) {
      out.set(table, []);
    }
    if (Array.isArray(line['row'])) {
      out.get(table)?.push(line['row'] as unknown[]);
    }
  }
  return out;
};
