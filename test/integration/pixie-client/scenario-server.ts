/**
 * A small gRPC server speaking Pixie's VizierService and VizierClusterInfo for the client's
 * integration tests, run as its own process. It encodes with protobufjs from kernel-gossip's proto
 * text (an encoder independent of the client's) and encrypts with jose when asked.
 *
 * What it does is chosen by the first line of the script: `# scenario: <name> key=value ...`:
 *   tables rows=N batch=B        two tables (procs with N rows, summary), eos each, stats last
 *   cut ... after=K mode=M       like tables, but the first stream breaks after K data messages
 *                                (M = unavailable | rst); a resume by query id continues it
 *   compile-error                status with two compiler errors, then INVALID_ARGUMENT
 *   mutation pending=P           P rounds of "probe installation in progress", then tables
 *   schema-pending pending=P     P rounds of "Schema is not ready yet" (all RUNNING), then tables
 *   mutation-failed              one tracepoint FAILED
 *   slow delay=MS                waits, then tables
 *   large-batch                  metadata, then INTERNAL "Large data batch rejected..."
 * `encrypted=required` refuses a request without encryption_options; `named=required` one without
 * query_name `kg/it`. exec_funcs may call `procs_for(rows)`: the procs table then has that many
 * rows and is named by the output prefix.
 * The `#px:set max_output_rows_per_table=N` flag caps the procs table as Pixie does.
 *
 * Usage: node scenario-server.ts [--tls <dir with ca.pem server.pem server-key.pem>]
 * Prints `scenario server listening on 127.0.0.1:<port>` when ready.
 */
import * as grpc from '@grpc/grpc-js';
import { CompactEncrypt, importJWK } from 'jose';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { API_KEY, HEALTHY_CLUSTER, UNHEALTHY_CLUSTER, procRow, summaryRow } from './dataset.ts';

const protoDir = path.resolve(import.meta.dirname, '../../../shared/pixie/proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : path.join(protoDir, target));
await root.load(['vizierapi.proto', 'cloudapi.proto'], { keepCase: true });
root.resolveAll();

type Obj = Record<string, unknown>;
const typeOf = (name: string): protobuf.Type => root.lookupType(name);
const ExecuteScriptRequest = typeOf('px.api.vizierpb.ExecuteScriptRequest');
const ExecuteScriptResponse = typeOf('px.api.vizierpb.ExecuteScriptResponse');
const RowBatchData = typeOf('px.api.vizierpb.RowBatchData');
const HealthCheckRequest = typeOf('px.api.vizierpb.HealthCheckRequest');
const HealthCheckResponse = typeOf('px.api.vizierpb.HealthCheckResponse');
const GetClusterInfoRequest = typeOf('px.cloudapi.GetClusterInfoRequest');
const GetClusterInfoResponse = typeOf('px.cloudapi.GetClusterInfoResponse');

const method = (service: string, name: string, request: protobuf.Type, response: protobuf.Type, responseStream: boolean) => ({
  path: `/${service}/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: (value: Obj) => Buffer.from(request.encode(request.fromObject(value)).finish()),
  requestDeserialize: (bytes: Buffer) => request.toObject(request.decode(bytes), { longs: String, enums: String, defaults: true }),
  responseSerialize: (value: Obj) => Buffer.from(response.encode(response.fromObject(value)).finish()),
  responseDeserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), { longs: String }),
});

const fail = (code: grpc.status, details: string): grpc.StatusObject => ({ code, details, metadata: new grpc.Metadata() });

/** Ends a stream with a status after the messages already written (grpc-js turns 'error' into the status). */
const endWith = (call: grpc.ServerWritableStream<Obj, Obj>, status: grpc.StatusObject): void => {
  call.emit('error', Object.assign(new Error(status.details), status));
};

const authError = (call: grpc.ServerWritableStream<Obj, Obj> | grpc.ServerUnaryCall<Obj, Obj>): grpc.StatusObject | undefined => {
  const key = call.metadata.get('pixie-api-key')[0];
  if (key !== API_KEY) {
    return fail(grpc.status.INTERNAL, 'Auth middleware failed: failed to fetch token - unauthenticated');
  }
  if (call.metadata.get('pixie-api-client').length === 0) {
    return fail(grpc.status.INVALID_ARGUMENT, 'pixie-api-client header missing');
  }
  return undefined;
};

const clusterError = (clusterId: string): grpc.StatusObject | undefined => {
  if (clusterId === UNHEALTHY_CLUSTER) {
    return fail(grpc.status.UNAVAILABLE, 'cluster is not in a healthy state');
  }
  if (clusterId !== HEALTHY_CLUSTER) {
    return fail(grpc.status.INTERNAL, 'failed to fetch creds for cluster');
  }
  return undefined;
};

interface Scenario {
  readonly name: string;
  readonly args: Readonly<Record<string, string>>;
}

const parseScenario = (script: string): Scenario => {
  const match = /^# scenario: (\S+)(.*)$/m.exec(script);
  const args: Record<string, string> = {};
  for (const pair of (match?.[2] ?? '').trim().split(/\s+/).filter(Boolean)) {
    const [key, value] = pair.split('=');
    args[key ?? ''] = value ?? '';
  }
  return { name: match?.[1] ?? 'tables', args };
};

const numberArg = (scenario: Scenario, key: string, fallback: number): number => Number(scenario.args[key] ?? fallback);

const rowCap = (script: string): number => {
  const match = /^#px:set max_output_rows_per_table=(\d+)$/m.exec(script);
  return match?.[1] === undefined ? 10_000 : Number(match[1]);
};

const PROCS_RELATION = [
  ['time_', 'TIME64NS', 'ST_NONE'],
  ['upid', 'UINT128', 'ST_UPID'],
  ['counter', 'INT64', 'ST_NONE'],
  ['ratio', 'FLOAT64', 'ST_PERCENT'],
  ['pod', 'STRING', 'ST_POD_NAME'],
  ['alive', 'BOOLEAN', 'ST_NONE'],
] as const;

const procsBatch = (tableId: string, from: number, count: number, eos: boolean): Obj => {
  const rows = Array.from({ length: count }, (_, i) => procRow(from + i));
  return {
    table_id: tableId,
    num_rows: count,
    eow: eos,
    eos,
    cols: [
      { time64ns_data: { data: rows.map((r) => r.time.toString()) } },
      {
        uint128_data: {
          data: rows.map((r) => ({ high: ((BigInt(r.asid) << 32n) | BigInt(r.pid)).toString(), low: r.startTicks.toString() })),
        },
      },
      { int64_data: { data: rows.map((r) => r.counter.toString()) } },
      { float64_data: { data: rows.map((r) => r.ratio) } },
      { string_data: { data: rows.map((r) => Buffer.from(r.pod)) } },
      { boolean_data: { data: rows.map((r) => r.alive) } },
    ],
  };
};

/** A query's planned messages; resumable by id from where the last stream stopped. */
interface Query {
  readonly messages: Obj[];
  next: number;
  cutAfter: number | undefined;
  readonly cutMode: string;
  jwk: Obj | undefined;
}

const queries = new Map<string, Query>();
const mutationRounds = new Map<string, number>();

interface TablePlan {
  readonly rows?: number;
  readonly procsName?: string;
}

const planTables = (queryId: string, script: string, scenario: Scenario, plan: TablePlan = {}): Obj[] => {
  const procsId = crypto.randomUUID();
  const summaryId = crypto.randomUUID();
  const rows = Math.min(plan.rows ?? numberArg(scenario, 'rows', 10), rowCap(script));
  const batchSize = Math.max(1, numberArg(scenario, 'batch', 4));
  const messages: Obj[] = [
    {
      query_id: queryId,
      meta_data: {
        id: procsId,
        name: plan.procsName ?? 'procs',
        relation: { columns: PROCS_RELATION.map(([n, t, s]) => ({ column_name: n, column_type: t, column_semantic_type: s })) },
      },
    },
    {
      query_id: queryId,
      meta_data: {
        id: summaryId,
        name: 'summary',
        relation: {
          columns: [
            { column_name: 'name', column_type: 'STRING', column_semantic_type: 'ST_NONE' },
            { column_name: 'total', column_type: 'INT64', column_semantic_type: 'ST_NONE' },
          ],
        },
      },
    },
  ];
  for (let from = 0; from < rows || from === 0; from += batchSize) {
    const count = Math.min(batchSize, rows - from);
    messages.push({ query_id: queryId, data: { batch: procsBatch(procsId, from, count, from + count >= rows) } });
    if (from === 0) {
      const summary = summaryRow(rows);
      messages.push({
        query_id: queryId,
        data: {
          batch: {
            table_id: summaryId,
            num_rows: 1,
            eos: true,
            cols: [{ string_data: { data: [Buffer.from(summary.name)] } }, { int64_data: { data: [summary.total.toString()] } }],
          },
        },
      });
    }
  }
  messages.push({
    query_id: queryId,
    data: { execution_stats: { timing: { execution_time_ns: 1500, compilation_time_ns: 300 }, bytes_processed: rows * 64, records_processed: rows + 1 } },
  });
  return messages;
};

const encryptBatch = async (batch: Obj, jwk: Obj): Promise<Buffer> => {
  const key = await importJWK(jwk, 'RSA-OAEP-256');
  const plain = RowBatchData.encode(RowBatchData.fromObject(batch)).finish();
  const jwe = await new CompactEncrypt(plain).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', zip: 'DEF' }).encrypt(key);
  return Buffer.from(jwe);
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Streams the query's messages from where it stopped; breaks the stream if a cut is due. */
const stream = async (call: grpc.ServerWritableStream<Obj, Obj>, query: Query): Promise<void> => {
  let sentData = 0;
  while (query.next < query.messages.length) {
    if (call.cancelled) {
      return;
    }
    const message = query.messages[query.next] as Obj;
    const data = message.data as Obj | undefined;
    if (data?.batch !== undefined && query.cutAfter !== undefined && sentData >= query.cutAfter) {
      query.cutAfter = undefined;
      endWith(
        call,
        query.cutMode === 'rst'
          ? fail(grpc.status.INTERNAL, 'Received RST_STREAM with code 2 triggered by internal client error')
          : fail(grpc.status.UNAVAILABLE, 'transport is closing'),
      );
      return;
    }
    query.next++;
    if (data?.batch !== undefined && query.jwk !== undefined) {
      call.write({ query_id: message.query_id, data: { encrypted_batch: await encryptBatch(data.batch as Obj, query.jwk) } });
    } else {
      call.write(message);
    }
    if (data?.batch !== undefined) {
      sentData++;
    }
    await sleep(0);
  }
  call.end();
};

const executeScript = async (call: grpc.ServerWritableStream<Obj, Obj>): Promise<void> => {
  const request = call.request;
  const denied = authError(call) ?? clusterError(String(request.cluster_id));
  if (denied) {
    endWith(call, denied);
    return;
  }
  const encryption = request.encryption_options as { jwk_key?: string } | null | undefined;
  const jwk = encryption?.jwk_key ? (JSON.parse(encryption.jwk_key) as Obj) : undefined;

  const resumeId = typeof request.query_id === 'string' ? request.query_id : '';
  if (resumeId !== '') {
    const query = queries.get(resumeId);
    if (!query) {
      endWith(call, fail(grpc.status.NOT_FOUND, `query ${resumeId} not registered in query forwarder`));
      return;
    }
    query.jwk = jwk;
    // Vizier's forwarder re-announces the tables on a resumed stream; the client must not repeat them.
    const metadata = query.messages.filter((m) => m.meta_data !== undefined);
    for (const m of metadata) {
      call.write(m);
    }
    await stream(call, query);
    return;
  }

  const script = String(request.query_str);
  const scenario = parseScenario(script);
  if (scenario.args.named === 'required' && request.query_name !== 'kg/it') {
    endWith(call, fail(grpc.status.INVALID_ARGUMENT, 'this scenario needs query_name kg/it'));
    return;
  }
  // exec_funcs: one function `procs_for(rows: int)` whose table is named by its output prefix.
  const funcs = (request.exec_funcs ?? []) as { func_name: string; arg_values: { name: string; value: string }[]; output_table_prefix: string }[];
  let plan: TablePlan = {};
  if (funcs.length > 0) {
    const func = funcs[0];
    const rowsArg = func?.arg_values.find((arg) => arg.name === 'rows');
    if (func?.func_name !== 'procs_for' || rowsArg === undefined || !/^\d+$/.test(rowsArg.value) || func.arg_values.length !== 1) {
      endWith(call, fail(grpc.status.INVALID_ARGUMENT, 'exec_funcs: expected procs_for(rows: int)'));
      return;
    }
    plan = { rows: Number(rowsArg.value), procsName: func.output_table_prefix };
  }
  if (scenario.args.encrypted === 'required' && jwk === undefined) {
    endWith(call, fail(grpc.status.INVALID_ARGUMENT, 'this scenario needs encryption_options'));
    return;
  }
  const queryId = crypto.randomUUID();

  if (scenario.name.startsWith('mutation') || scenario.name === 'schema-pending') {
    if (request.mutation !== true) {
      endWith(call, fail(grpc.status.INVALID_ARGUMENT, 'mutation flag not set for a pxtrace script'));
      return;
    }
    const round = (mutationRounds.get(script) ?? 0) + 1;
    mutationRounds.set(script, round);
    const pending = numberArg(scenario, 'pending', 0);
    const failed = scenario.name === 'mutation-failed';
    if (failed || round <= pending) {
      const schema = scenario.name === 'schema-pending';
      call.write({
        query_id: queryId,
        mutation_info: {
          status: { code: 14, message: schema ? 'Schema is not ready yet' : 'probe installation in progress' },
          states: [
            { id: 'tp-1', state: schema ? 'RUNNING_STATE' : 'PENDING_STATE', name: 'tcp_drops' },
            { id: 'tp-2', state: failed ? 'FAILED_STATE' : 'RUNNING_STATE', name: 'oom_probe' },
          ],
        },
      });
      await sleep(5);
      endWith(call, fail(grpc.status.UNAVAILABLE, 'rpc error: code = Unavailable desc = probe installation in progress'));
      return;
    }
    call.write({
      query_id: queryId,
      mutation_info: {
        status: { code: 0 },
        states: [
          { id: 'tp-1', state: 'RUNNING_STATE', name: 'tcp_drops' },
          { id: 'tp-2', state: 'RUNNING_STATE', name: 'oom_probe' },
        ],
      },
    });
  }

  switch (scenario.name) {
    case 'compile-error':
      call.write({
        query_id: queryId,
        status: {
          code: 3,
          message: 'Script compilation failed',
          error_details: [
            { compiler_error: { line: 2, column: 5, message: "name 'dff' is not defined" } },
            { compiler_error: { line: 3, column: 1, message: 'second problem' } },
          ],
        },
      });
      endWith(call, fail(grpc.status.INVALID_ARGUMENT, 'Script compilation failed'));
      return;
    case 'large-batch': {
      const messages = planTables(queryId, script, scenario);
      call.write(messages[0] as Obj);
      endWith(call, fail(grpc.status.INTERNAL, 'Large data batch rejected by passthrough proxy limits, please add a head() to your query'));
      return;
    }
    case 'slow':
      await sleep(numberArg(scenario, 'delay', 1000));
      break;
    default:
      break;
  }
  const query: Query = {
    messages: planTables(queryId, script, scenario, plan),
    next: 0,
    cutAfter: scenario.name === 'cut' ? numberArg(scenario, 'after', 2) : undefined,
    cutMode: scenario.args.mode ?? 'unavailable',
    jwk,
  };
  queries.set(queryId, query);
  await stream(call, query);
};

const healthCheck = (call: grpc.ServerWritableStream<Obj, Obj>): void => {
  const denied = authError(call);
  if (denied) {
    endWith(call, denied);
    return;
  }
  const healthy = call.request.cluster_id === HEALTHY_CLUSTER;
  const send = (): void => {
    call.write({ status: healthy ? { code: 0 } : { code: 14, message: 'vizier is not healthy' } });
  };
  send();
  const timer = setInterval(send, 5_000);
  call.on('cancelled', () => { clearInterval(timer); });
  call.on('close', () => { clearInterval(timer); });
};

const uuidMessage = (uuid: string): Obj => {
  const hex = uuid.replaceAll('-', '');
  return { high_bits: BigInt(`0x${hex.slice(0, 16)}`).toString(), low_bits: BigInt(`0x${hex.slice(16)}`).toString() };
};

const uuidOf = (message: Obj | null | undefined): string | undefined => {
  if (!message) {
    return undefined;
  }
  const hex = BigInt(String(message.high_bits)).toString(16).padStart(16, '0') + BigInt(String(message.low_bits)).toString(16).padStart(16, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

const clusters = [
  { id: uuidMessage(HEALTHY_CLUSTER), status: 'CS_HEALTHY', cluster_name: 'gke_demo_europe-west1_kg', pretty_cluster_name: 'kg', cluster_version: 'v1.33.5-gke.1', vizier_version: '0.14.15', operator_version: '0.0.40', num_nodes: 3, num_instrumented_nodes: 3 },
  { id: uuidMessage(UNHEALTHY_CLUSTER), status: 'CS_UNHEALTHY', cluster_name: 'broken', status_message: 'PEMs crash looping', control_plane_pod_statuses: { 'vizier-pem-abc': { name: 'vizier-pem-abc', status: 'FAILED', restart_count: 12 } } },
];

const getClusterInfo = (call: grpc.ServerUnaryCall<Obj, Obj>, callback: grpc.sendUnaryData<Obj>): void => {
  const denied = authError(call);
  if (denied) {
    callback(denied);
    return;
  }
  const wanted = uuidOf(call.request.id as Obj | null);
  callback(null, { clusters: clusters.filter((c) => wanted === undefined || uuidOf(c.id) === wanted) });
};

const server = new grpc.Server();
server.addService(
  {
    ExecuteScript: method('px.api.vizierpb.VizierService', 'ExecuteScript', ExecuteScriptRequest, ExecuteScriptResponse, true),
    HealthCheck: method('px.api.vizierpb.VizierService', 'HealthCheck', HealthCheckRequest, HealthCheckResponse, true),
  },
  {
    ExecuteScript: (call: grpc.ServerWritableStream<Obj, Obj>) => {
      executeScript(call).catch((error: unknown) => {
        endWith(call, fail(grpc.status.UNKNOWN, (error as Error).message));
      });
    },
    HealthCheck: healthCheck,
  },
);
server.addService(
  { GetClusterInfo: method('px.cloudapi.VizierClusterInfo', 'GetClusterInfo', GetClusterInfoRequest, GetClusterInfoResponse, false) },
  { GetClusterInfo: getClusterInfo },
);

const tlsIndex = process.argv.indexOf('--tls');
const tlsDir = tlsIndex === -1 ? undefined : process.argv[tlsIndex + 1];
const credentials =
  tlsDir === undefined
    ? grpc.ServerCredentials.createInsecure()
    : grpc.ServerCredentials.createSsl(null, [
        { cert_chain: readFileSync(path.join(tlsDir, 'server.pem')), private_key: readFileSync(path.join(tlsDir, 'server-key.pem')) },
      ]);
server.bindAsync('127.0.0.1:0', credentials, (error, port) => {
  if (error) {
    process.stderr.write(`bind failed: ${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`scenario server listening on 127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => {
  server.forceShutdown();
  process.exit(0);
});
