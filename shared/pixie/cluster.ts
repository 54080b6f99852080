/**
 * Cluster-level calls: GetClusterInfo from Pixie Cloud (names, versions, health) and Vizier's
 * HealthCheck stream (first status only).
 *
 * @module
 */
import { decodeGetClusterInfoResponse, decodeHealthCheckResponse } from './decode.ts';
import { encodeGetClusterInfoRequest, encodeHealthCheckRequest } from './encode.ts';
import { ClusterUnavailableError, GrpcCode, PixieCancelledError, PixieError, PixieProtocolError, classifyGrpcError } from './errors.ts';
import { type CallOptions, checkLimits, deadlineOf } from './limits.ts';
import { Method, type PixieTransport } from './transport.ts';
import { ClusterStatus, type ClusterInfo } from './types.ts';
import { isUuid } from './uint128.ts';

/** Statuses in which Pixie Cloud lets ExecuteScript and HealthCheck through. */
export const isClusterUsable = (info: ClusterInfo): boolean =>
  info.status === ClusterStatus.CS_HEALTHY || info.status === ClusterStatus.CS_DEGRADED;

const requireUuid = (clusterId: string): void => {
  if (!isUuid(clusterId)) {
    throw new PixieError('cluster id must be a UUID');
  }
};

const rethrow = (error: unknown, signal: AbortSignal | undefined): never => {
  if (signal?.aborted === true) {
    throw new PixieCancelledError('call cancelled by its AbortSignal', { cause: signal.reason });
  }
  throw classifyGrpcError(error);
};

/** GetClusterInfo: one cluster by id, or every cluster of the organisation when `clusterId` is omitted. */
export const getClusterInfo = async (
  transport: PixieTransport,
  options: CallOptions & { readonly clusterId?: string },
  defaultTimeoutMs: number,
): Promise<ClusterInfo[]> => {
  if (options.clusterId !== undefined) {
    requireUuid(options.clusterId);
  }
  const deadline = deadlineOf(options, defaultTimeoutMs);
  checkLimits(deadline, options.signal);
  let bytes: Uint8Array;
  try {
    bytes = await transport.unary(Method.GET_CLUSTER_INFO, encodeGetClusterInfoRequest(options.clusterId), { deadline, signal: options.signal });
  } catch (error) {
    return rethrow(error, options.signal);
  }
  try {
    return decodeGetClusterInfoResponse(bytes);
  } catch (error) {
    throw new PixieProtocolError(`undecodable GetClusterInfoResponse: ${(error as Error).message}`, { cause: error });
  }
};

/** The info of one cluster; throws {@link ClusterUnavailableError} if the cloud does not know it. */
export const getCluster = async (
  transport: PixieTransport,
  clusterId: string,
  options: CallOptions,
  defaultTimeoutMs: number,
): Promise<ClusterInfo> => {
  const clusters = await getClusterInfo(transport, { ...options, clusterId }, defaultTimeoutMs);
  const found = clusters.find((cluster) => cluster.id === clusterId.toLowerCase()) ?? (clusters.length === 1 ? clusters[0] : undefined);
  if (found === undefined) {
    throw new ClusterUnavailableError(`cluster ${clusterId} is not known to Pixie Cloud`, { code: GrpcCode.NOT_FOUND });
  }
  return found;
};

/** What HealthCheck reported first. */
export interface HealthStatus {
  readonly healthy: boolean;
  /** gRPC code number of the reported status (0 when healthy). */
  readonly code: number;
  readonly message: string;
}

/**
 * Vizier's HealthCheck: reads the first status of the stream and closes it. A stream that ends
 * cleanly without a message counts as healthy (Pixie's standalone PEM answers that way).
 */
export const healthCheck = async (
  transport: PixieTransport,
  clusterId: string,
  options: CallOptions,
  defaultTimeoutMs: number,
): Promise<HealthStatus> => {
  requireUuid(clusterId);
  const deadline = deadlineOf(options, defaultTimeoutMs);
  checkLimits(deadline, options.signal);
  const call = transport.serverStream(Method.HEALTH_CHECK, encodeHealthCheckRequest(clusterId), { deadline, signal: options.signal });
  try {
    for await (const raw of call.messages) {
      let status;
      try {
        status = decodeHealthCheckResponse(raw);
      } catch (error) {
        throw new PixieProtocolError(`undecodable HealthCheckResponse: ${(error as Error).message}`, { cause: error });
      }
      const code = status?.code ?? 0;
      return { healthy: code === GrpcCode.OK, code, message: status?.message ?? '' };
    }
    return { healthy: true, code: 0, message: '' };
  } catch (error) {
    if (error instanceof PixieError) {
      throw error;
    }
    return rethrow(error, options.signal);
  } finally {
    call.cancel();
  }
};
