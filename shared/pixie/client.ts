/**
 * The Pixie API client: one channel, one cluster, one encryption key pair, and the calls
 * kernel-gossip needs (ExecuteScript, GetClusterInfo, HealthCheck).
 *
 * @module
 */
import { getCluster, getClusterInfo, healthCheck, type HealthStatus } from './cluster.ts';
import { collectTables, type QueryResult } from './collect.ts';
import { type BatchDecrypter, createBatchDecrypter } from './encryption.ts';
import { DEFAULT_RETRY_POLICY, type ExecuteEvent, type ExecuteScriptOptions, type RetryPolicy, executeScript } from './execute.ts';
import type { CallOptions } from './limits.ts';
import { PixieTransport, type TransportOptions } from './transport.ts';
import type { ClusterInfo } from './types.ts';
import { isUuid } from './uint128.ts';

export interface PixieClientOptions extends TransportOptions {
  /** The cluster scripts run on (routed by the request's `cluster_id`). */
  readonly clusterId: string;
  /**
   * End-to-end encryption of result batches (default on, like Pixie's Go client). `modulusLength`
   * sizes the fresh RSA key (default 4096).
   */
  readonly encryption?: boolean | { readonly modulusLength?: number };
  /** Retry/resume timing and the default ExecuteScript budget. */
  readonly retry?: Partial<RetryPolicy>;
  /** Default budget of GetClusterInfo and HealthCheck, ms (default 10 s). */
  readonly unaryTimeoutMs?: number;
}

export interface PixieClient {
  readonly clusterId: string;
  /** Runs a script and yields metadata, batches, table ends and stats (see {@link ExecuteEvent}). */
  executeScript(options: ExecuteScriptOptions): AsyncGenerator<ExecuteEvent>;
  /** Runs a script and collects every table whole. */
  runScript(options: ExecuteScriptOptions): Promise<QueryResult>;
  /** Clusters known to the cloud: the given one, or all of them with `all: true`. */
  getClusterInfo(options?: CallOptions & { readonly clusterId?: string; readonly all?: boolean }): Promise<ClusterInfo[]>;
  /** This client's cluster; throws ClusterUnavailableError if the cloud does not know it. */
  getCluster(options?: CallOptions): Promise<ClusterInfo>;
  /** The cluster's first HealthCheck status. */
  healthCheck(options?: CallOptions): Promise<HealthStatus>;
  /**
   * Generates the encryption key pair now instead of on the first script (an RSA-4096 key takes
   * a second or more); a no-op with encryption off.
   */
  prepare(): Promise<void>;
  /** Closes the channel. */
  close(): void;
}

const withClusterScope = (
  options: CallOptions & { readonly clusterId?: string; readonly all?: boolean },
  clusterId: string,
): CallOptions & { readonly clusterId?: string } => {
  const scoped: { timeoutMs?: number; signal?: AbortSignal; clusterId?: string } = {};
  if (options.timeoutMs !== undefined) {
    scoped.timeoutMs = options.timeoutMs;
  }
  if (options.signal !== undefined) {
    scoped.signal = options.signal;
  }
  if (options.all !== true) {
    scoped.clusterId = options.clusterId ?? clusterId;
  }
  return scoped;
};

/** Creates a client. No call is made until one is asked for. */
export const createPixieClient = (options: PixieClientOptions): PixieClient => {
  if (!isUuid(options.clusterId)) {
    throw new TypeError('clusterId must be a UUID');
  }
  const clusterId = options.clusterId.toLowerCase();
  const transport = new PixieTransport(options);
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const unaryTimeoutMs = options.unaryTimeoutMs ?? 10_000;
  const encryption = options.encryption ?? true;
  const modulusLength = typeof encryption === 'object' ? (encryption.modulusLength ?? 4096) : 4096;

  let keyPair: Promise<BatchDecrypter> | undefined;
  const decrypter =
    encryption === false
      ? undefined
      : (): Promise<BatchDecrypter> => {
          keyPair ??= createBatchDecrypter(modulusLength).catch((error: unknown) => {
            keyPair = undefined;
            throw error;
          });
          return keyPair;
        };
  const context = { transport, clusterId, decrypter, retry };

  return {
    clusterId,
    executeScript: (scriptOptions) => executeScript(context, scriptOptions),
    runScript: (scriptOptions) => collectTables(executeScript(context, scriptOptions)),
    getClusterInfo: (callOptions = {}) =>
      getClusterInfo(transport, withClusterScope(callOptions, clusterId), unaryTimeoutMs),
    getCluster: (callOptions = {}) => getCluster(transport, clusterId, callOptions, unaryTimeoutMs),
    healthCheck: (callOptions = {}) => healthCheck(transport, clusterId, callOptions, unaryTimeoutMs),
    prepare: async () => {
      await decrypter?.();
    },
    close: () => {
      transport.close();
    },
  };
};
