/**
 * The local Vizier: one gRPC port serving `px.api.vizierpb.VizierService` (ExecuteScript,
 * HealthCheck) and `px.cloudapi.VizierClusterInfo/GetClusterInfo` the way Pixie Cloud's passthrough
 * proxy and Vizier's query broker answer them (see /work/shared/pixie/api-facts.md §3-§5, §10 and
 * docs/vizier.md), running every script through the PxL engine (dataset, replay or live backend), with
 * per-cluster fault injection (faults.ts).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { constants as http2constants, type Http2Stream } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { createBatchEncrypter, EncryptionOptionsError, type BatchEncrypter } from './encrypt.ts';
import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { uuidMessage } from '../../shared/pixie/encode.ts';
import {
  ClusterStatus as ClusterStatusEnum,
  GetClusterInfoRequestSchema,
  GetClusterInfoResponseSchema,
  PodPhase,
  type GetClusterInfoRequest,
} from '../../shared/pixie/generated/cloudapi_pb.js';
import {
  DataType,
  ExecuteScriptRequestSchema,
  ExecuteScriptResponseSchema,
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  LifeCycleState,
  SemanticType,
  type ExecuteScriptRequest,
  type HealthCheckRequest,
} from '../../shared/pixie/generated/vizierapi_pb.js';
import { uint128ToUuid } from '../../shared/pixie/uint128.ts';
import { dataTypeNumber, type Dataset, type Table } from './dataset.ts';
import { openEnum } from './encode-response.ts';
import { activeExecutionError, parseFaults, POD_PHASES, type Faults } from './faults.ts';
import { TracepointRegistry, LIFE_CYCLE, type TracepointState } from './tracepoints.ts';
import { asBuffer, encodeBatchColumns, encodeDataResponse, encodeRowBatch } from './wire.ts';
import { datasetBackend } from './pxl/dataset-backend.ts';
import { PxlEngine, type QueryFailure } from './pxl/engine.ts';
import type { ExecFunc, TracepointDecl } from './pxl/evaluate.ts';
import { ClusterAgents } from './agents.ts';
import { deployAcrossAgents } from './deploy.ts';

export const CLUSTER_STATUSES = ['CS_UNKNOWN', 'CS_HEALTHY', 'CS_UNHEALTHY', 'CS_DISCONNECTED', 'CS_UPDATING', 'CS_CONNECTED', 'CS_UPDATE_FAILED', 'CS_DEGRADED'] as const;
export type ClusterStatus = (typeof CLUSTER_STATUSES)[number];

export interface ClusterConfig {
  readonly id: string;
  readonly name: string;
  status: ClusterStatus;
  faults: Faults;
}

export interface VizierOptions {
  /** The tables of dataset mode (used when no `engine` is given). */
  readonly dataset: Dataset;
  readonly apiKeys: readonly string[];
  readonly clusters: readonly ClusterConfig[];
  /** Rows per data batch (default 1024). */
  readonly batchRows?: number;
  /** HealthCheck interval (Pixie: 5 s). */
  readonly healthIntervalMs?: number;
  /** How long a cut query can be resumed (Pixie's idle timeout: 180 s). */
  readonly resumeWindowMs?: number;
  /**
   * The PxL engine every script is compiled and run by: replay or live backend. Default: an engine
   * over `dataset` (dataset mode), so every mode shares one compile-and-execute path.
   */
  readonly engine?: PxlEngine;
  /** Called with each ExecuteScript request as received, so tests can check what a client sent. */
  readonly onRequest?: (request: ReceivedRequest) => void;
  /** One event per call (e.g. why a tracepoint went FAILED, which Pixie shows only in px.GetTracepointStatus). */
  readonly log?: (event: Record<string, unknown>) => void;
}

/** What a client sent in one ExecuteScript request. */
export interface ReceivedRequest {
  readonly clusterId: string;
  /** Set when the request resumes a query. */
  readonly queryId: string;
  readonly queryName: string;
  readonly mutation: boolean;
  /** The encryption_options' algorithms, when the client asked for encrypted batches. */
  readonly encryption: { readonly keyAlg: string; readonly contentAlg: string; readonly compressionAlg: string } | undefined;
  readonly execFuncs: readonly ExecFunc[];
}

const STATUS = grpc.status;
export const MESSAGES = {
  auth: 'Auth middleware failed: failed to fetch token - unauthenticated',
  badCluster: 'missing/malformed cluster_id',
  unknownCluster: 'failed to fetch creds for cluster',
  unhealthy: 'cluster is not in a healthy state',
  probesPending: 'probe installation in progress',
  schemaPending: 'Schema is not ready yet',
  largeBatch: 'Large data batch rejected by passthrough proxy limits, please add a head() to your query',
} as const;

/** The Go error text the cloud returns as a gRPC status message (§3 "Terminal status"). */
const goErrorText = (code: number, desc: string): string => {
  const names: Record<number, string> = { 3: 'InvalidArgument', 13: 'Internal', 14: 'Unavailable', 2: 'Unknown', 5: 'NotFound', 9: 'FailedPrecondition', 8: 'ResourceExhausted' };
  return `rpc error: code = ${names[code] ?? `Code(${code})`} desc = ${desc}`;
};

class CallError extends Error {
  readonly code: grpc.status;
  constructor(code: grpc.status, message: string) {
    super(message);
    this.code = code;
  }
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Stream position of a query, kept so a cut stream can be resumed by query_id. */
interface QueryState {
  readonly id: string;
  readonly tables: readonly { readonly name: string; readonly source: Table; readonly id: string; readonly rows: number; next: number; done: boolean }[];
  readonly cluster: ClusterConfig;
  readonly compileNs: bigint;
  readonly startedAt: bigint;
  bytes: number;
  records: number;
  expires: NodeJS.Timeout | undefined;
}

const identity = (b: Buffer): Buffer => b;

const service = (name: string, methods: Record<string, { request: (b: Buffer) => unknown; stream: boolean }>): grpc.ServiceDefinition =>
  Object.fromEntries(
    Object.entries(methods).map(([method, spec]) => [
      method,
      {
        path: `/${name}/${method}`,
        requestStream: false,
        responseStream: spec.stream,
        requestSerialize: identity,
        requestDeserialize: spec.request,
        responseSerialize: identity,
        responseDeserialize: identity,
        originalName: method,
      },
    ]),
  );

// Requests are read, and responses written, by the generated codec (shared/pixie/generated); row
// batches alone are encoded by hand (wire.ts).
const VIZIER_SERVICE = service('px.api.vizierpb.VizierService', {
  ExecuteScript: { request: (b) => fromBinary(ExecuteScriptRequestSchema, b), stream: true },
  HealthCheck: { request: (b) => fromBinary(HealthCheckRequestSchema, b), stream: true },
});
const CLUSTER_INFO_SERVICE = service('px.cloudapi.VizierClusterInfo', {
  GetClusterInfo: { request: (b) => fromBinary(GetClusterInfoRequestSchema, b), stream: false },
});

/** One serialized ExecuteScriptResponse. */
const response = (init: MessageInitShape<typeof ExecuteScriptResponseSchema>): Buffer =>
  asBuffer(toBinary(ExecuteScriptResponseSchema, create(ExecuteScriptResponseSchema, init)));

const execFuncsOf = (request: ExecuteScriptRequest): ExecFunc[] =>
  request.execFuncs.map((f) => ({
    funcName: f.funcName,
    outputTablePrefix: f.outputTablePrefix,
    args: f.argValues.map((a) => ({ name: a.name, value: a.value })),
  }));

const receivedRequest = (request: ExecuteScriptRequest): ReceivedRequest => {
  const encryption = request.encryptionOptions;
  return {
    clusterId: request.clusterId,
    queryId: request.queryId,
    queryName: request.queryName,
    mutation: request.mutation,
    encryption:
      encryption === undefined ? undefined : { keyAlg: encryption.keyAlg, contentAlg: encryption.contentAlg, compressionAlg: encryption.compressionAlg },
    execFuncs: execFuncsOf(request),
  };
};

/** The HTTP/2 stream under a grpc-js server call (internal field; checked at runtime). */
const http2StreamOf = (call: object): Http2Stream => {
  const inner = (call as { call?: { stream?: unknown } }).call;
  const stream = inner?.stream;
  if (typeof stream !== 'object' || stream === null || typeof (stream as Http2Stream).close !== 'function') {
    throw new Error('cannot reach the HTTP/2 stream of this call (grpc-js internals changed)');
  }
  return stream as Http2Stream;
};

const sleep = async (ms: number, signal: AbortSignal): Promise<void> => {
  if (ms <= 0) {
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
};

/** The local Vizier's handlers and state; `register` adds its services to a grpc-js server. */
export class LocalVizier {
  private readonly options: VizierOptions;
  private readonly engine: PxlEngine;
  private readonly clusters: Map<string, ClusterConfig>;
  private readonly queries = new Map<string, QueryState>();
  private readonly tracepoints = new Map<string, TracepointRegistry>();
  private readonly agents = new Map<string, ClusterAgents>();
  private readonly batchCache = new Map<string, Buffer>();
  /** Tables computed per query (engine outputs): never cached by name. */
  private readonly uncached = new WeakSet<Table>();
  /** How many streams each `cut` fault object has cut so far. */
  private readonly cutCounts = new WeakMap<object, number>();
  private readonly healthTimers = new Set<NodeJS.Timeout>();

  constructor(options: VizierOptions) {
    if (options.apiKeys.length === 0) {
      throw new Error('the local Vizier needs at least one API key');
    }
    for (const cluster of options.clusters) {
      if (!UUID_TEXT.test(cluster.id)) {
        throw new Error(`cluster id ${JSON.stringify(cluster.id)} is not a UUID`);
      }
    }
    this.options = options;
    this.engine = options.engine ?? new PxlEngine(datasetBackend(options.dataset));
    this.clusters = new Map(options.clusters.map((c) => [c.id.toLowerCase(), c]));
    // A bad fault is a start-up error, not a failure of some later query.
    for (const cluster of options.clusters) {
      parseFaults(cluster.faults, `cluster ${cluster.id} faults`);
      this.agentsOf(cluster);
    }
  }

  /** A configured cluster, for tests to change its status or faults between calls. */
  cluster(id: string): ClusterConfig {
    const cluster = this.clusters.get(id.toLowerCase());
    if (cluster === undefined) {
      throw new Error(`no cluster ${id}`);
    }
    return cluster;
  }

  register(server: grpc.Server): void {
    server.addService(VIZIER_SERVICE, {
      ExecuteScript: (call: grpc.ServerWritableStream<ExecuteScriptRequest, Buffer>) => {
        void this.executeScript(call);
      },
      HealthCheck: (call: grpc.ServerWritableStream<HealthCheckRequest, Buffer>) => {
        this.healthCheck(call);
      },
    });
    server.addService(CLUSTER_INFO_SERVICE, {
      GetClusterInfo: (call: grpc.ServerUnaryCall<GetClusterInfoRequest, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        try {
          callback(null, this.getClusterInfo(call));
        } catch (error) {
          callback(error instanceof CallError ? { code: error.code, details: error.message } : { code: STATUS.INTERNAL, details: String(error) });
        }
      },
    });
  }

  /** Stops HealthCheck timers and forgets resumable queries. */
  close(): void {
    for (const timer of this.healthTimers) {
      clearInterval(timer);
    }
    for (const query of this.queries.values()) {
      clearTimeout(query.expires);
    }
    this.queries.clear();
  }

  /**
   * Pixie Cloud reads API keys only from `pixie-api-key`; an `authorization: bearer` value is a
   * user token, which an API key is not, so it is refused (Pixie 44d42f1
   * src/cloud/api/controllers/session_middleware.go:142-204, getAugmentedToken: the key from the
   * `pixie-api-key` header at :146, a bearer value only as a token at :181). This Vizier issues no
   * user tokens, so only the header counts.
   */
  private authenticate(metadata: grpc.Metadata): void {
    const key = metadata.get('pixie-api-key')[0];
    if (typeof key === 'string' && this.options.apiKeys.includes(key)) {
      return;
    }
    throw new CallError(STATUS.INTERNAL, MESSAGES.auth);
  }

  /** The passthrough proxy's gate: cluster_id must parse, exist, and be HEALTHY or DEGRADED. */
  private gate(clusterId: string): ClusterConfig {
    if (!UUID_TEXT.test(clusterId)) {
      throw new CallError(STATUS.INVALID_ARGUMENT, MESSAGES.badCluster);
    }
    const cluster = this.clusters.get(clusterId.toLowerCase());
    if (cluster === undefined) {
      throw new CallError(STATUS.INTERNAL, MESSAGES.unknownCluster);
    }
    if (cluster.status !== 'CS_HEALTHY' && cluster.status !== 'CS_DEGRADED') {
      throw new CallError(STATUS.UNAVAILABLE, MESSAGES.unhealthy);
    }
    return cluster;
  }

  private getClusterInfo(call: grpc.ServerUnaryCall<GetClusterInfoRequest, Buffer>): Buffer {
    this.authenticate(call.metadata);
    const { id } = call.request;
    let clusters = [...this.clusters.values()];
    if (id !== undefined) {
      const wanted = uint128ToUuid(id.highBits, id.lowBits);
      // An unknown id is an empty list, not an error (pxapi then reports ErrClusterNotFound).
      clusters = clusters.filter((c) => c.id.toLowerCase() === wanted);
    }
    const clusterInfo = create(GetClusterInfoResponseSchema, {
      clusters: clusters.map((c) => ({
        id: uuidMessage(c.id),
        status: openEnum(ClusterStatusEnum, CLUSTER_STATUSES.indexOf(c.status)),
        lastHeartbeatNs: 1_000_000_000n,
        config: { passthroughEnabled: true },
        clusterUid: c.id,
        clusterName: c.name,
        prettyClusterName: c.name,
        clusterVersion: 'local',
        vizierVersion: '0.14.15-local',
        operatorVersion: '0.0.0-local',
        numNodes: this.agentsOf(c).agents().length,
        numInstrumentedNodes: this.agentsOf(c).agents().length,
        controlPlanePodStatuses: Object.fromEntries(
          Object.entries(c.faults.controlPlanePods ?? {}).map(([name, pod]) => [
            name,
            { name, status: openEnum(PodPhase, POD_PHASES.indexOf(pod.phase)), statusMessage: pod.message ?? '', restartCount: BigInt(pod.restartCount ?? 0) },
          ]),
        ),
        statusMessage: c.status === 'CS_HEALTHY' ? '' : 'fault injected by the local Vizier',
      })),
    });
    return asBuffer(toBinary(GetClusterInfoResponseSchema, clusterInfo));
  }

  private healthCheck(call: grpc.ServerWritableStream<HealthCheckRequest, Buffer>): void {
    try {
      this.authenticate(call.metadata);
      this.gate(call.request.clusterId);
    } catch (error) {
      call.emit('error', toStatus(error));
      return;
    }
    const cluster = this.clusters.get(call.request.clusterId.toLowerCase());
    // Vizier's health probe runs a query; while queries fail, it answers code 14 with no message
    // (44d42f1 query_broker/controllers/server.go CheckHealth, HealthCheck).
    const beat = (): void => {
      const failing = cluster !== undefined && activeExecutionError(cluster.faults, Date.now()) !== undefined;
      call.write(asBuffer(toBinary(HealthCheckResponseSchema, create(HealthCheckResponseSchema, { status: { code: failing ? STATUS.UNAVAILABLE : 0 } }))));
    };
    beat();
    const timer = setInterval(beat, this.options.healthIntervalMs ?? 5_000);
    this.healthTimers.add(timer);
    const stop = (): void => {
      clearInterval(timer);
      this.healthTimers.delete(timer);
    };
    call.once('cancelled', stop);
    call.once('close', stop);
  }

  private async executeScript(call: grpc.ServerWritableStream<ExecuteScriptRequest, Buffer>): Promise<void> {
    const abort = new AbortController();
    call.once('cancelled', () => {
      abort.abort();
    });
    try {
      this.authenticate(call.metadata);
      const request = call.request;
      this.options.onRequest?.(receivedRequest(request));
      const cluster = this.gate(request.clusterId);
      await sleep(cluster.faults.delayMs ?? 0, abort.signal);
      const encryption = request.encryptionOptions;
      let encrypter: BatchEncrypter | undefined;
      if (encryption !== undefined) {
        encrypter = await createBatchEncrypter({
          jwkKey: encryption.jwkKey,
          keyAlg: encryption.keyAlg,
          contentAlg: encryption.contentAlg,
          compressionAlg: encryption.compressionAlg,
        });
      }
      const queryId = request.queryId;
      if (queryId !== '') {
        const query = this.queries.get(queryId);
        if (query === undefined) {
          // Pixie skips compiling on a resume and StreamResults fails with a plain Go error, which
          // the proxies pass on as UNKNOWN (44d42f1 query_result_forwarder.go:515-516,
          // query_executor.go:531-537; the proxies as in queryFailure).
          const notRegistered = `error in StreamResults: Query ${queryId} not registered in query forwarder`;
          throw new CallError(STATUS.UNKNOWN, goErrorText(STATUS.UNKNOWN, notRegistered));
        }
        clearTimeout(query.expires);
        query.expires = undefined;
        await this.streamData(call, query, encrypter, abort.signal);
        return;
      }
      await this.runNewQuery(call, request, cluster, encrypter, abort.signal);
    } catch (error) {
      if (!abort.signal.aborted) {
        call.emit('error', toStatus(error));
      }
    }
  }

  /** Writes with backpressure; gives up waiting if the client goes away (cancel or close). */
  private async write(call: grpc.ServerWritableStream<ExecuteScriptRequest, Buffer>, message: Buffer): Promise<void> {
    if (call.write(message)) {
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        call.off('drain', done);
        call.off('cancelled', done);
        call.off('close', done);
        resolve();
      };
      call.once('drain', done);
      call.once('cancelled', done);
      call.once('close', done);
    });
  }

  /** Compile (flags, PxL), deploy the script's tracepoints (mutation lifecycle), run it, stream the outputs. */
  private async runNewQuery(
    call: grpc.ServerWritableStream<ExecuteScriptRequest, Buffer>,
    request: ExecuteScriptRequest,
    cluster: ClusterConfig,
    encrypter: BatchEncrypter | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const id = randomUUID();
    const started = process.hrtime.bigint();
    const engine = this.engine;
    const execFuncs = execFuncsOf(request);
    // A mutation request deploys its tracepoints before the rest of the script is compiled
    // (engine.compile's `stage`): its table and column errors come only once they run.
    const source = request.queryStr;
    const compiled = engine.compile(source, execFuncs, request.mutation, request.mutation ? 'mutations' : 'plan');
    if (!compiled.ok) {
      await this.queryFailure(call, id, compiled.failure);
      return;
    }
    let script = compiled.script;
    const mutation = request.mutation && script.usesPxtrace;
    const agents = this.agentsOf(cluster);
    let deployed: readonly TracepointDecl[] = script.tracepoints;
    if (mutation) {
      const deployment = await deployAcrossAgents({
        tracepoints: script.tracepoints,
        agents,
        registry: this.registryOf(cluster),
        faults: cluster.faults.tracepoints ?? {},
        ...(engine.backend.upsertTracepoints === undefined ? {} : { live: engine.backend }),
        ...(engine.backend.printfLayouts === undefined ? {} : { printfLayouts: (program: string) => engine.backend.printfLayouts?.(program) }),
        ...(this.options.log === undefined ? {} : { log: this.options.log }),
      });
      const ready = await this.mutation(call, id, deployment.states, deployment.schemaReady);
      if (!ready) {
        return;
      }
      deployed = deployment.deployed;
      engine.deploy(deployed);
    }
    if (request.mutation) {
      const planned = engine.compile(source, execFuncs, true, 'plan');
      if (!planned.ok) {
        await this.queryFailure(call, id, planned.failure);
        return;
      }
      script = planned.script;
    }
    const compileNs = process.hrtime.bigint() - started;
    const ran = engine.run(script, execFuncs, mutation, { agents }, deployed);
    if (!ran.ok) {
      await this.queryFailure(call, id, ran.failure);
      return;
    }
    const query: QueryState = {
      id,
      cluster,
      startedAt: started,
      compileNs,
      bytes: 0,
      records: 0,
      expires: undefined,
      tables: ran.tables.map((o) => {
        this.uncached.add(o.table);
        return { name: o.name, source: o.table, id: randomUUID(), rows: Math.max(0, Math.min(o.table.numRows, script.maxRowsPerTable)), next: 0, done: false };
      }),
    };
    this.queries.set(id, query);
    // All metadata before any data (api-facts §4.3).
    for (const t of query.tables) {
      await this.write(call, this.metadataMessage(id, t.name, t.id, t.source));
    }
    await this.streamData(call, query, encrypter, signal);
  }

  private metadataMessage(queryId: string, name: string, tableId: string, table: Table): Buffer {
    return response({
      queryId,
      result: {
        case: 'metaData',
        value: {
          name,
          id: tableId,
          relation: {
            columns: table.columns.map((c) => ({
              columnName: c.name,
              columnType: openEnum(DataType, dataTypeNumber(c.type)),
              columnDesc: c.desc,
              columnSemanticType: openEnum(SemanticType, c.semantic),
            })),
          },
        },
      },
    });
  }

  /**
   * Ends a query that did not run the way Pixie's broker does (query_executor.go): a compile
   * failure is a status message (code 3, the planner's message, its compiler errors as
   * error_details) then INVALID_ARGUMENT; a plain Go error (bad flags) is gRPC UNKNOWN alone,
   * because the proxy passes the stream error on with its code (ptproxy/pt_proxy.go:226-227,
   * cloud/api/ptproxy/request_proxyer.go:302-307).
   */
  private async queryFailure(call: grpc.ServerWritableStream<ExecuteScriptRequest, Buffer>, queryId: string, failure: QueryFailure): Promise<void> {
    if (failure.kind === 'plain') {
      call.emit('error', { code: STATUS.UNKNOWN, details: goErrorText(STATUS.UNKNOWN, failure.message) });
      return;
    }
    await this.write(
      call,
      response({
        queryId,
        status: {
          code: STATUS.INVALID_ARGUMENT,
          message: failure.message,
          errorDetails: failure.errors.map((e) => ({
            error: { case: 'compilerError', value: { line: BigInt(e.line), column: BigInt(e.column), message: e.message } },
          })),
        },
      }),
    );
    call.emit('error', { code: STATUS.INVALID_ARGUMENT, details: goErrorText(STATUS.INVALID_ARGUMENT, failure.message) });
  }

  private registryOf(cluster: ClusterConfig): TracepointRegistry {
    let registry = this.tracepoints.get(cluster.id);
    if (registry === undefined) {
      registry = new TracepointRegistry();
      this.tracepoints.set(cluster.id, registry);
    }
    return registry;
  }

  /** The cluster's agents: the backend's node, plus the nodes its faults simulate. */
  private agentsOf(cluster: ClusterConfig): ClusterAgents {
    let agents = this.agents.get(cluster.id);
    if (agents === undefined) {
      const backend = this.engine.backend;
      agents = new ClusterAgents(
        { asid: backend.metadata.asid, hostname: backend.metadata.hostname === '' ? 'local-node' : backend.metadata.hostname, release: backend.kernelRelease },
        cluster.faults.nodes ?? [],
        () => backend.nowNs(),
      );
      this.agents.set(cluster.id, agents);
    }
    return agents;
  }

  /**
   * Mutation lifecycle (§5): sends the tracepoints' states; returns whether the query may run now.
   * Not ready: status 14 "probe installation in progress" while a tracepoint is not RUNNING, else
   * "Schema is not ready yet" while an output table is not in the schema; the stream then ends
   * UNAVAILABLE with that message (mutation_executor.go:250-269, query_executor.go:320-321).
   */
  private async mutation(
    call: grpc.ServerWritableStream<ExecuteScriptRequest, Buffer>,
    queryId: string,
    states: readonly TracepointState[],
    schemaReady: boolean,
  ): Promise<boolean> {
    const running = states.every((s) => s.state === LIFE_CYCLE.RUNNING_STATE);
    const ready = running && schemaReady;
    const pending = running ? MESSAGES.schemaPending : MESSAGES.probesPending;
    await this.write(
      call,
      response({
        queryId,
        mutationInfo: {
          status: ready ? { code: 0 } : { code: STATUS.UNAVAILABLE, message: pending },
          states: states.map((s) => ({ id: s.id, state: openEnum(LifeCycleState, s.state), name: s.name })),
        },
      }),
    );
    if (!ready) {
      call.emit('error', { code: STATUS.UNAVAILABLE, details: goErrorText(STATUS.UNAVAILABLE, pending) });
    }
    return ready;
  }

  private batch(table: Table, start: number, end: number): Buffer {
    if (this.uncached.has(table)) {
      return encodeBatchColumns(table, start, end);
    }
    const key = `${table.name}\u0000${start}\u0000${end}`;
    let cols = this.batchCache.get(key);
    if (cols === undefined) {
      cols = encodeBatchColumns(table, start, end);
      this.batchCache.set(key, cols);
    }
    return cols;
  }

  private async streamData(
    call: grpc.ServerWritableStream<ExecuteScriptRequest, Buffer>,
    query: QueryState,
    encrypter: BatchEncrypter | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const faults = query.cluster.faults;
    const batchRows = this.options.batchRows ?? 1024;
    let sent = 0;
    const cutsSoFar = faults.cut === undefined ? 0 : (this.cutCounts.get(faults.cut) ?? 0);
    const cut = faults.cut !== undefined && cutsSoFar < (faults.cut.times ?? 1) ? faults.cut : undefined;
    const executionError = activeExecutionError(faults, Date.now());
    // Interleave tables round-robin, one batch each, until every table has sent its eos batch.
    while (query.tables.some((t) => !t.done)) {
      for (const t of query.tables) {
        if (t.done) {
          continue;
        }
        if (signal.aborted) {
          // The client went away mid-stream: keep the query resumable for a while, like a cut.
          this.keepForResume(query);
          return;
        }
        if (cut !== undefined && sent >= cut.afterBatches) {
          this.cutCounts.set(cut, cutsSoFar + 1);
          this.keepForResume(query);
          await this.cutStream(call, cut.mode);
          return;
        }
        if (faults.largeBatchRejectedAfter !== undefined && sent >= faults.largeBatchRejectedAfter) {
          this.queries.delete(query.id);
          call.emit('error', { code: STATUS.INTERNAL, details: MESSAGES.largeBatch });
          return;
        }
        const error = executionError;
        if (error !== undefined && sent >= error.afterBatches) {
          this.queries.delete(query.id);
          await this.write(call, response({ queryId: query.id, status: { code: error.code, message: error.message } }));
          call.emit('error', { code: error.code, details: goErrorText(error.code, error.message) });
          return;
        }
        const start = t.next;
        const end = Math.min(t.rows, start + batchRows);
        const eos = end >= t.rows;
        const cols = this.batch(t.source, start, end);
        const rowBatch = encodeRowBatch(cols, end - start, eos, t.id);
        const message = encrypter === undefined ? encodeDataResponse(query.id, { batch: rowBatch }) : encodeDataResponse(query.id, { encrypted: await encrypter(rowBatch) });
        await this.write(call, message);
        t.next = end;
        t.done = eos;
        query.bytes += rowBatch.length;
        query.records += end - start;
        sent++;
        await sleep(faults.batchDelayMs ?? 0, signal);
      }
    }
    this.queries.delete(query.id);
    const now = process.hrtime.bigint();
    // execution_stats last (§4.5), then OK.
    await this.write(
      call,
      response({
        queryId: query.id,
        result: {
          case: 'data',
          value: {
            executionStats: {
              timing: { executionTimeNs: now - query.startedAt, compilationTimeNs: query.compileNs },
              bytesProcessed: BigInt(query.bytes),
              recordsProcessed: BigInt(query.records),
            },
          },
        },
      }),
    );
    call.end();
  }

  private keepForResume(query: QueryState): void {
    query.expires = setTimeout(() => this.queries.delete(query.id), this.options.resumeWindowMs ?? 180_000);
    query.expires.unref();
  }

  /** Cuts the call like a broken proxy would, once what was written has left grpc-js. */
  private async cutStream(call: grpc.ServerWritableStream<ExecuteScriptRequest, Buffer>, mode: 'rst' | 'disconnect'): Promise<void> {
    const stream = http2StreamOf(call);
    // Let what was written reach the client first (bounded: a stalled client must not hang us).
    for (let waited = 0; call.writableLength > 0 && waited < 1_000; waited += 10) {
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 50));
    if (mode === 'rst') {
      stream.close(http2constants.NGHTTP2_INTERNAL_ERROR);
    } else {
      stream.session?.destroy();
    }
  }
}


const toStatus = (error: unknown): Partial<grpc.StatusObject> => {
  if (error instanceof CallError) {
    return { code: error.code, details: error.message };
  }
  if (error instanceof EncryptionOptionsError) {
    return { code: STATUS.INVALID_ARGUMENT, details: `invalid encryption_options: ${error.message}` };
  }
  return { code: STATUS.INTERNAL, details: error instanceof Error ? error.message : String(error) };
};

export interface RunningVizier {
  readonly vizier: LocalVizier;
  readonly server: grpc.Server;
  readonly port: number;
  readonly address: string;
  stop(): Promise<void>;
}

/** Starts a gRPC server with the local Vizier on `host:port` (port 0 picks one). */
export const startVizier = async (
  options: VizierOptions & { readonly host?: string; readonly port?: number; readonly tls?: { readonly key: Buffer; readonly cert: Buffer } },
): Promise<RunningVizier> => {
  const vizier = new LocalVizier(options);
  const server = new grpc.Server({ 'grpc.max_send_message_length': 64 * 1024 * 1024, 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  vizier.register(server);
  const host = options.host ?? '127.0.0.1';
  const credentials = options.tls === undefined ? grpc.ServerCredentials.createInsecure() : grpc.ServerCredentials.createSsl(null, [{ private_key: options.tls.key, cert_chain: options.tls.cert }], false);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, credentials, (error, bound) => {
      if (error === null) {
        resolve(bound);
      } else {
        reject(error);
      }
    });
  });
  return {
    vizier,
    server,
    port,
    address: `${host}:${port}`,
    stop: async () => {
      vizier.close();
      await new Promise<void>((resolve) => {
        server.tryShutdown(() => {
          resolve();
        });
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000).unref();
      });
    },
  };
};
