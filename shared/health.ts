/**
 * The health handler: release, runtime, and configuration status, without revealing any value.
 *
 * @module
 */
import type { HttpFunction } from '@google-cloud/functions-framework';
import { ConfigError, type Env, parseConfig } from './config.ts';
import { createLogger, type LogLevel, traceFromHeaders } from './log.ts';
import { runtimeSpec } from './runtime.ts';
import { VERSION } from './version.ts';

/** What `health` answers. `config.issues` name variables only, never their values. */
export interface HealthReport {
  readonly status: 'ok' | 'misconfigured';
  readonly service: 'kernel-gossip';
  readonly version: string;
  readonly node: string;
  readonly revision?: string;
  readonly config: { readonly ok: boolean; readonly issues: readonly string[] };
}

/** Builds the handler once per instance; the environment is parsed once, here. */
export const createHealthHandler = (env: Env): HttpFunction => {
  let issues: readonly string[] = [];
  let project: string | undefined;
  let revision: string | undefined;
  let minLevel: LogLevel = 'INFO';
  try {
    const config = parseConfig(runtimeSpec, env);
    project = config.GOOGLE_CLOUD_PROJECT;
    revision = config.K_REVISION;
    minLevel = config.LOG_LEVEL;
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    issues = error.issues.map((issue) => `${issue.variable}: ${issue.problem}, expected ${issue.expected}`);
  }
  const report: HealthReport = {
    status: issues.length === 0 ? 'ok' : 'misconfigured',
    service: 'kernel-gossip',
    version: VERSION,
    node: process.version,
    ...(revision === undefined ? {} : { revision }),
    config: { ok: issues.length === 0, issues },
  };
  return function health(req, res) {
    const log = createLogger({ minLevel, trace: traceFromHeaders(req.headers, project), labels: { function: 'health' } });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.status(405).set('Allow', 'GET, HEAD').json({ error: 'method not allowed' });
      return;
    }
    log[report.config.ok ? 'debug' : 'error']('health checked', { event: 'health', status: report.status, issues });
    res.status(report.config.ok ? 200 : 503).json(report);
  };
};
