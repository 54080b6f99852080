/**
 * gRPC transport to Pixie Cloud (or a local Vizier) over `@grpc/grpc-js`, with no generated code
 * and no proto loading at run time: requests are serialized by our encoders, responses arrive as
 * raw bytes and are decoded by the caller (so decode failures become typed errors, and encrypted
 * batches can be decrypted asynchronously).
 *
 * @module
 */
import * as grpc from '@grpc/grpc-js';

/** Pixie Cloud's gRPC address used by the official Go client. */
export const DEFAULT_CLOUD_ADDR = 'work.withpixie.ai:443';

/** Sent as `pixie-api-client` so the cloud can tell this client apart. */
export const DEFAULT_API_CLIENT = 'kernel-gossip';

/** gRPC method paths. */
export const Method = {
  EXECUTE_SCRIPT: '/px.api.vizierpb.VizierService/ExecuteScript',
  HEALTH_CHECK: '/px.api.vizierpb.VizierService/HealthCheck',
  GET_CLUSTER_INFO: '/px.cloudapi.VizierClusterInfo/GetClusterInfo',
} as const;

/** How to secure the connection. */
export type ChannelSecurity =
  /** TLS verified against the system roots (Pixie Cloud). */
  | { readonly kind: 'tls' }
  /** TLS verified against a custom CA (a local Vizier with its own CA). */
  | { readonly kind: 'tls-ca'; readonly caPem: Uint8Array | string; readonly serverName?: string }
  /** No TLS: only for local servers. */
  | { readonly kind: 'plaintext' };

export interface TransportOptions {
  /** `host:port`; defaults to {@link DEFAULT_CLOUD_ADDR}. */
  readonly address?: string;
  readonly security?: ChannelSecurity;
  /** Sent as `pixie-api-key` on every call when set. */
  readonly apiKey?: string;
  /** Sent as `pixie-api-client`; defaults to {@link DEFAULT_API_CLIENT}. */
  readonly apiClient?: string;
  /** Largest response message accepted, bytes (default 256 MiB: Pixie batches can be big). */
  readonly maxReceiveBytes?: number;
}

/** Per-call limits: an absolute deadline and a signal that cancels the call. */
export interface CallLimits {
  /** Epoch milliseconds; `Infinity` means none. */
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
}

/** An open server-streaming call. Iterating throws the gRPC error the call ended with. */
export interface OpenStream {
  readonly messages: AsyncIterable<Uint8Array>;
  cancel(): void;
}

/** The part of a transport ExecuteScript needs (lets unit tests feed bytes without a network). */
export interface StreamingTransport {
  serverStream(path: string, request: Uint8Array, limits: CallLimits): OpenStream;
}

const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const identity = (bytes: Buffer): Buffer => bytes;

const credentialsFor = (security: ChannelSecurity): grpc.ChannelCredentials => {
  switch (security.kind) {
    case 'plaintext':
      return grpc.credentials.createInsecure();
    case 'tls-ca':
      return grpc.credentials.createSsl(
        typeof security.caPem === 'string' ? Buffer.from(security.caPem) : toBuffer(security.caPem),
      );
    default:
      return grpc.credentials.createSsl();
  }
};

/** One channel to one address, shared by every call of a client. */
export class PixieTransport implements StreamingTransport {
  readonly address: string;
  private readonly client: grpc.Client;
  private readonly apiKey: string | undefined;
  private readonly apiClient: string;

  constructor(options: TransportOptions = {}) {
    this.address = options.address ?? DEFAULT_CLOUD_ADDR;
    const security = options.security ?? { kind: 'tls' };
    // No client keepalive pings: Go gRPC servers (Pixie Cloud) answer pings more often than every
    // 5 minutes with GOAWAY "too_many_pings", which would break long result streams.
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': options.maxReceiveBytes ?? 256 * 1024 * 1024,
    };
    if (security.kind === 'tls-ca' && security.serverName !== undefined) {
      channelOptions['grpc.ssl_target_name_override'] = security.serverName;
      channelOptions['grpc.default_authority'] = security.serverName;
    }
    this.client = new grpc.Client(this.address, credentialsFor(security), channelOptions);
    this.apiKey = options.apiKey;
    this.apiClient = options.apiClient ?? DEFAULT_API_CLIENT;
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.apiKey !== undefined) {
      metadata.set('pixie-api-key', this.apiKey);
    }
    metadata.set('pixie-api-client', this.apiClient);
    return metadata;
  }

  private static callOptions(limits: CallLimits): grpc.CallOptions {
    return Number.isFinite(limits.deadline) ? { deadline: new Date(limits.deadline) } : {};
  }

  /** Opens a server-streaming call. Aborting `limits.signal` cancels it. */
  serverStream(path: string, request: Uint8Array, limits: CallLimits): OpenStream {
    const call = this.client.makeServerStreamRequest(
      path,
      toBuffer,
      identity,
      request,
      this.metadata(),
      PixieTransport.callOptions(limits),
    );
    const onAbort = (): void => {
      call.cancel();
    };
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    if (limits.signal?.aborted === true) {
      call.cancel();
    }
    call.on('close', () => limits.signal?.removeEventListener('abort', onAbort));
    return {
      messages: call as AsyncIterable<Uint8Array>,
      cancel: () => {
        limits.signal?.removeEventListener('abort', onAbort);
        call.cancel();
      },
    };
  }

  /** Makes a unary call and resolves with the response bytes. Aborting `limits.signal` cancels it. */
  unary(path: string, request: Uint8Array, limits: CallLimits): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        path,
        toBuffer,
        identity,
        request,
        this.metadata(),
        PixieTransport.callOptions(limits),
        (error: grpc.ServiceError | null, response?: Buffer) => {
          limits.signal?.removeEventListener('abort', onAbort);
          if (error !== null || response === undefined) {
            reject(error ?? new Error('empty response'));
          } else {
            resolve(response);
          }
        },
      );
      const onAbort = (): void => {
        call.cancel();
      };
      limits.signal?.addEventListener('abort', onAbort, { once: true });
      if (limits.signal?.aborted === true) {
        call.cancel();
      }
    });
  }

  /** Closes the channel; calls in flight are cancelled. */
  close(): void {
    this.client.close();
  }
}
