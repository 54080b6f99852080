/**
 * The environment a function that talks to Pixie reads, and how it becomes client options.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { boolean, duration, hostPort, optional, secret, string, uuid } from '../config.ts';
import type { PixieClientOptions } from './client.ts';
import { DEFAULT_API_CLIENT, DEFAULT_CLOUD_ADDR, type ChannelSecurity } from './transport.ts';

/** Pixie variables; spread into a function's ConfigSpec. */
export const pixieConfigSpec = {
  /** API key for Pixie Cloud (secret). */
  PIXIE_API_KEY: secret(),
  /** The cluster scripts run on. */
  PIXIE_CLUSTER_ID: uuid(),
  /** gRPC address of Pixie Cloud (or a local Vizier). */
  PIXIE_CLOUD_ADDR: hostPort({ default: DEFAULT_CLOUD_ADDR }),
  /** PEM file of a CA to trust instead of the system roots (a local Vizier with its own CA). */
  PIXIE_CA_FILE: optional(string({ expected: 'a path to a PEM CA certificate' })),
  /** Plaintext gRPC, for a local Vizier only. */
  PIXIE_INSECURE: boolean({ default: false }),
  /** End-to-end encryption of result batches (on by default). */
  PIXIE_ENCRYPTION: boolean({ default: true }),
  /** Budget of one script run, retries and resumes included. */
  PIXIE_SCRIPT_TIMEOUT: duration({ default: 120_000 }),
  /** Sent as `pixie-api-client`. */
  PIXIE_API_CLIENT: string({ default: DEFAULT_API_CLIENT }),
} as const;

/** The parsed Pixie part of a config. */
export interface PixieConfig {
  readonly PIXIE_API_KEY: string;
  readonly PIXIE_CLUSTER_ID: string;
  readonly PIXIE_CLOUD_ADDR: string;
  readonly PIXIE_CA_FILE: string | undefined;
  readonly PIXIE_INSECURE: boolean;
  readonly PIXIE_ENCRYPTION: boolean;
  readonly PIXIE_SCRIPT_TIMEOUT: number;
  readonly PIXIE_API_CLIENT: string;
}

/** Client options from a parsed config (reads the CA file if one is set). */
export const pixieClientOptions = (config: PixieConfig): PixieClientOptions => {
  if (config.PIXIE_INSECURE && config.PIXIE_CA_FILE !== undefined) {
    throw new TypeError('PIXIE_INSECURE and PIXIE_CA_FILE exclude each other');
  }
  const security: ChannelSecurity = config.PIXIE_INSECURE
    ? { kind: 'plaintext' }
    : config.PIXIE_CA_FILE !== undefined
      ? { kind: 'tls-ca', caPem: readFileSync(config.PIXIE_CA_FILE) }
      : { kind: 'tls' };
  return {
    address: config.PIXIE_CLOUD_ADDR,
    security,
    apiKey: config.PIXIE_API_KEY,
    apiClient: config.PIXIE_API_CLIENT,
    clusterId: config.PIXIE_CLUSTER_ID,
    encryption: config.PIXIE_ENCRYPTION,
    retry: { defaultTimeoutMs: config.PIXIE_SCRIPT_TIMEOUT },
  };
};
