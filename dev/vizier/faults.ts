/**
 * The local Vizier's fault model: what a test (in-process, `running.vizier.cluster(id).faults`) or
 * a `--faults` file (main.ts, the twin) makes one cluster do wrong. Every fault reproduces a failure
 * Pixie Cloud or Vizier really shows, with Pixie's codes and texts (../shared/pixie/api-facts.md;
 * each field says where its rule comes from). All off by default.
 *
 * @module
 */

/** How a tracepoint deployment goes on the backend's node (dataset and replay modes; live deploys for real). */
export interface TracepointFaults {
  /** Requests that see a new tracepoint as PENDING before it is RUNNING (default 1). */
  readonly pendingRequests?: number;
  /** Tracepoint names that never leave PENDING. */
  readonly neverReady?: readonly string[];
  /** Tracepoint names that go FAILED (api-facts §5.5: still code 14, the state says FAILED). */
  readonly failed?: readonly string[];
  /**
   * Requests, once every tracepoint is RUNNING, that still find an output table missing from the
   * schema (default 0): mutation_info status `{14, "Schema is not ready yet"}`, then UNAVAILABLE
   * (api-facts §5.3; Pixie 44d42f1 query_broker/controllers/mutation_executor.go:264-269).
   */
  readonly schemaPendingRequests?: number;
}

/** A simulated node of a local cluster beside the backend's own (agents.ts). */
export interface SimulatedNode {
  readonly name: string;
  /** `uname -r` of the node (default: the backend node's). */
  readonly kernel?: string;
  /** Tracepoint name -> the deploy error its PEM reports (Pixie's text), for a node where it fails. */
  readonly probeErrors?: Readonly<Record<string, string>>;
}

export const POD_PHASES = ['PHASE_UNKNOWN', 'PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TERMINATED'] as const;
export type PodPhase = (typeof POD_PHASES)[number];

/** A Vizier control-plane pod's status as the cluster's heartbeat reports it to Pixie Cloud. */
export interface ControlPlanePod {
  readonly phase: PodPhase;
  readonly restartCount?: number;
  readonly message?: string;
}

/** A time window of this process's clock (ms since the epoch). */
export interface Window {
  readonly startMs: number;
  readonly endMs: number;
}

/** Faults a test chooses per cluster. */
export interface Faults {
  /** Wait before answering each ExecuteScript (ms): a slow query broker, for client deadlines. */
  readonly delayMs?: number;
  /** Wait between data messages (ms). */
  readonly batchDelayMs?: number;
  /**
   * Cut the stream after this many data batches: `rst` resets the HTTP/2 stream (the client sees
   * INTERNAL "Received RST_STREAM with code 2"), `disconnect` drops the connection (UNAVAILABLE).
   * Only the first `times` streams (default 1) of this fault object are cut, so a resume by
   * query_id can finish (api-facts §4 "Automatic resume"; the query stays resumable 180 s).
   */
  readonly cut?: { readonly afterBatches: number; readonly mode: 'rst' | 'disconnect'; readonly times?: number };
  /**
   * End with INTERNAL "Large data batch rejected by passthrough proxy limits, ..." after this many
   * data batches (api-facts §3: a batch over the NATS payload limit).
   */
  readonly largeBatchRejectedAfter?: number;
  /**
   * A status message with `code` then that gRPC error, after `afterBatches` data batches
   * (api-facts §4.6); with `during`, only for queries that start in that window (an outage at a
   * known time of the twin's simulated day). While it is active the Vizier's own health probe
   * (`px.display(px.Version())`) fails too, so HealthCheck reports `status{code 14}`
   * (Pixie 44d42f1 query_broker/controllers/server.go CheckHealth / HealthCheck).
   */
  readonly executionError?: {
    readonly afterBatches: number;
    readonly code: number;
    readonly message: string;
    readonly during?: Window;
  };
  readonly tracepoints?: TracepointFaults;
  /**
   * Further nodes of this cluster beside the backend's own (agents.ts): each receives the programs
   * Pixie's selectors send it and reports them RUNNING, or FAILED with its configured error. They
   * count in GetClusterInfo's num_nodes.
   */
  readonly nodes?: readonly SimulatedNode[];
  /**
   * Control-plane pods by name as GetClusterInfo reports them (`control_plane_pod_statuses`), e.g.
   * a crash-looping `vizier-pem-...`; none by default.
   */
  readonly controlPlanePods?: Readonly<Record<string, ControlPlanePod>>;
}

/** The execution error a query started at `nowMs` meets, if any. */
export const activeExecutionError = (faults: Faults, nowMs: number): Faults['executionError'] => {
  const error = faults.executionError;
  const during = error?.during;
  return during === undefined || (nowMs >= during.startMs && nowMs < during.endMs) ? error : undefined;
};

/** A `--faults` file or object that does not fit the model. */
export class FaultsError extends Error {
  override readonly name = 'FaultsError';
}

type Check = (value: unknown, where: string) => void;

const fail = (where: string, want: string, value: unknown): never => {
  throw new FaultsError(`${where}: expected ${want}, got ${JSON.stringify(value)}`);
};
const count: Check = (v, where) => {
  if (!Number.isInteger(v) || (v as number) < 0) {
    fail(where, 'a non-negative integer', v);
  }
};
const text: Check = (v, where) => {
  if (typeof v !== 'string') {
    fail(where, 'a string', v);
  }
};
const names: Check = (v, where) => {
  if (!Array.isArray(v) || v.some((n) => typeof n !== 'string')) {
    fail(where, 'an array of strings', v);
  }
};
const oneOf = (allowed: readonly string[]): Check => (v, where) => {
  if (!allowed.includes(v as string)) {
    fail(where, `one of ${allowed.join(', ')}`, v);
  }
};

/** Checks an object's keys against their checks; `required` keys must be present. */
const shape = (fields: Readonly<Record<string, Check>>, required: readonly string[] = []): Check => (v, where) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail(where, 'an object', v);
  }
  const doc = v as Record<string, unknown>;
  for (const key of required) {
    if (doc[key] === undefined) {
      throw new FaultsError(`${where}.${key} is required`);
    }
  }
  for (const [key, value] of Object.entries(doc)) {
    const check = fields[key];
    if (check === undefined) {
      throw new FaultsError(`${where}.${key} is not a fault (known: ${Object.keys(fields).join(', ')})`);
    }
    check(value, `${where}.${key}`);
  }
};
const each = (check: Check): Check => (v, where) => {
  if (!Array.isArray(v)) {
    fail(where, 'an array', v);
  }
  (v as unknown[]).forEach((item, i) => {
    check(item, `${where}[${i}]`);
  });
};
const values = (check: Check): Check => (v, where) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail(where, 'an object', v);
  }
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    check(value, `${where}.${key}`);
  }
};

const FAULTS = shape({
  delayMs: count,
  batchDelayMs: count,
  cut: shape({ afterBatches: count, mode: oneOf(['rst', 'disconnect']), times: count }, ['afterBatches', 'mode']),
  largeBatchRejectedAfter: count,
  executionError: shape(
    { afterBatches: count, code: count, message: text, during: shape({ startMs: count, endMs: count }, ['startMs', 'endMs']) },
    ['afterBatches', 'code', 'message'],
  ),
  tracepoints: shape({ pendingRequests: count, neverReady: names, failed: names, schemaPendingRequests: count }),
  nodes: each(shape({ name: text, kernel: text, probeErrors: values(text) }, ['name'])),
  controlPlanePods: values(shape({ phase: oneOf(POD_PHASES), restartCount: count, message: text }, ['phase'])),
});

/** `doc` as Faults, or a FaultsError naming the first field that does not fit (`where` prefixes it). */
export const parseFaults = (doc: unknown, where: string): Faults => {
  FAULTS(doc, where);
  return doc as Faults;
};
