/**
 * Settings every function reads: where it runs and how it logs.
 *
 * @module
 */
import { type ConfigOf, integer, oneOf, optional, string } from './config.ts';
import { LOG_LEVELS } from './log.ts';

/** Variables every kernel-gossip function reads. */
export const runtimeSpec = {
  /** Project for trace correlation in logs; Cloud Run does not inject it, Terraform sets it. */
  GOOGLE_CLOUD_PROJECT: optional(string()),
  /** Cloud Run service name, set by the platform. */
  K_SERVICE: optional(string()),
  /** Cloud Run revision, set by the platform. */
  K_REVISION: optional(string()),
  /** Lowest log severity written. */
  LOG_LEVEL: oneOf(LOG_LEVELS, { default: 'INFO' }),
  /** The function's timeout as deployed (Terraform sets it with the service timeout); requests plan their deadline from it. */
  FUNCTION_TIMEOUT_SECONDS: integer({ min: 1, max: 3600, default: 60 }),
} as const;

export type RuntimeConfig = ConfigOf<typeof runtimeSpec>;
