/**
 * One JSON line per event on stdout, in the shape Cloud Logging reads from Cloud Run
 * (`severity`, `message`, `logging.googleapis.com/labels`, `logging.googleapis.com/trace`,
 * `stack_trace` for Error Reporting). Secrets never leave the process: values under secret-looking
 * keys, credentials in `Bearer ...`-style text and every registered secret value are redacted
 * wherever they appear, including inside error messages, stacks and nested objects.
 *
 * @module
 */

/** Cloud Logging severities, lowest first: the levels a logger writes at (finding severities are `FINDING_SEVERITIES`). */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const REDACTED = '[REDACTED]';

/** Keys whose values are credentials whatever they hold. */
const SECRET_KEY = /(api[-_]?key|token|secret|password|passwd|authorization|cookie|credential|private[-_]?key|jwk)/i;

/** Credentials embedded in free text: `Bearer abc`, `pixie-api-key: abc`, `token=abc`. */
const SECRET_IN_TEXT =
  /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}|\b((?:pixie-)?api[-_]?key|access[-_]?token|id[-_]?token|authorization|password|secret)(["']?\s*[:=]\s*["']?)(?:(?:bearer|basic)\s+)?[^\s"',;}]+/gi;

const registeredSecrets = new Set<string>();

/**
 * Registers secret values (the Pixie API key, tokens) so that every logger redacts them wherever they
 * appear. Called once by a function entry after its config is parsed. Values shorter than 4
 * characters are ignored: redacting them would shred ordinary text.
 */
export const registerSecrets = (values: Iterable<string>): void => {
  for (const value of values) {
    if (value.length >= 4) {
      registeredSecrets.add(value);
    }
  }
};

/** Forgets registered secrets (tests only). */
export const clearRegisteredSecrets = (): void => {
  registeredSecrets.clear();
};

/** Redacts registered secret values and credential-looking text from a string. */
export const redactText = (text: string): string => {
  let out = text;
  for (const value of registeredSecrets) {
    if (out.includes(value)) {
      out = out.split(value).join(REDACTED);
    }
  }
  return out.replace(SECRET_IN_TEXT, (_match: string, scheme: string | undefined, key: string | undefined, sep: string | undefined) =>
    scheme !== undefined ? `${scheme} ${REDACTED}` : key !== undefined ? `${key}${sep ?? ''}${REDACTED}` : REDACTED,
  );
};

/** Error fields worth keeping in a log line, with the cause chain. */
const describeError = (error: Error, seen: WeakSet<object>): Record<string, unknown> => {
  const out: Record<string, unknown> = { name: error.name, message: redactText(error.message) };
  for (const key of ['code', 'details', 'status', 'reason'] as const) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (value !== undefined) {
      out[key] = sanitize(value, seen, key);
    }
  }
  if (error.cause !== undefined) {
    out['cause'] = sanitize(error.cause, seen, 'cause');
  }
  return out;
};

/** Deep copy that redacts secrets, turns bigint into strings, errors into plain objects, breaks cycles. */
const sanitize = (value: unknown, seen: WeakSet<object>, key?: string): unknown => {
  if (key !== undefined && SECRET_KEY.test(key) && value !== undefined && value !== null && value !== '') {
    return REDACTED;
  }
  if (typeof value === 'string') {
    return redactText(value);
  }
  if (typeof value === 'bigint') {
    return value.toString();
  }
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  }
  if (seen.has(value)) {
    return '[Circular]';
  }
  seen.add(value);
  try {
    if (value instanceof Error) {
      return describeError(value, seen);
    }
    if (value instanceof Date) {
      return value.toISOString();
    }
    if (Array.isArray(value)) {
      return value.map((item) => sanitize(item, seen));
    }
    if (value instanceof Map) {
      return sanitize(Object.fromEntries(value), seen);
    }
    if (ArrayBuffer.isView(value)) {
      return `[${value.byteLength} bytes]`;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = sanitize(v, seen, k);
    }
    return out;
  } finally {
    seen.delete(value);
  }
};

/** A stack trace with the cause chain appended, as Error Reporting reads it, redacted. */
const stackTrace = (error: Error): string => {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 8; depth += 1) {
    parts.push(current.stack ?? `${current.name}: ${current.message}`);
    current = current.cause;
  }
  return redactText(parts.join('\nCaused by: '));
};

/** Trace correlation fields for one request. */
export interface TraceFields {
  readonly 'logging.googleapis.com/trace'?: string;
  readonly 'logging.googleapis.com/spanId'?: string;
  readonly 'logging.googleapis.com/trace_sampled'?: boolean;
}

type HeaderValue = string | readonly string[] | undefined;

const firstHeader = (value: HeaderValue): string | undefined => (typeof value === 'string' ? value : value?.[0]);

/**
 * Reads W3C `traceparent` (preferred) or `X-Cloud-Trace-Context` into Cloud Logging's trace fields.
 * Header names are matched case-insensitively. Malformed headers give no trace rather than a wrong one.
 */
export const traceFromHeaders = (headers: Readonly<Record<string, HeaderValue>>, projectId: string | undefined): TraceFields => {
  if (projectId === undefined || projectId === '') {
    return {};
  }
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), firstHeader(v)]));
  const traceparent = lower.get('traceparent');
  const w3c = traceparent ? /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/i.exec(traceparent.trim()) : null;
  if (w3c?.[1] && w3c[2] && w3c[3] && !/^0+$/.test(w3c[1])) {
    return {
      'logging.googleapis.com/trace': `projects/${projectId}/traces/${w3c[1].toLowerCase()}`,
      'logging.googleapis.com/spanId': w3c[2].toLowerCase(),
      'logging.googleapis.com/trace_sampled': (Number.parseInt(w3c[3], 16) & 1) === 1,
    };
  }
  const cloud = lower.get('x-cloud-trace-context');
  const legacy = cloud ? /^([0-9a-f]{32})(?:\/(\d+))?(?:;o=([01]))?$/i.exec(cloud.trim()) : null;
  if (legacy?.[1]) {
    return {
      'logging.googleapis.com/trace': `projects/${projectId}/traces/${legacy[1].toLowerCase()}`,
      ...(legacy[2] ? { 'logging.googleapis.com/spanId': BigInt(legacy[2]).toString(16).padStart(16, '0') } : {}),
      ...(legacy[3] ? { 'logging.googleapis.com/trace_sampled': legacy[3] === '1' } : {}),
    };
  }
  return {};
};

/** Extra structured fields of one event; `error` gets `stack_trace` for Error Reporting. */
export type LogFields = Readonly<Record<string, unknown>> & { readonly error?: unknown };

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  notice(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `labels` to every line (merged over this one's labels) and the given fields. */
  child(labels: Readonly<Record<string, string>>, fields?: LogFields): Logger;
}

export interface LoggerOptions {
  /** Labels on every line (`logging.googleapis.com/labels`); values are strings, as Cloud Logging wants. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Trace correlation for every line, from {@link traceFromHeaders}. */
  readonly trace?: TraceFields;
  /** Lowest level written. */
  readonly minLevel?: LogLevel;
  /** Where lines go; stdout by default. Each call receives one complete line ending in `\n`. */
  readonly write?: (line: string) => void;
  /** Fields on every line. */
  readonly fields?: LogFields;
}

const writeStdout = (line: string): void => {
  process.stdout.write(line);
};

/** Creates a logger writing one redacted JSON line per event. */
export const createLogger = (options: LoggerOptions = {}): Logger => {
  const minRank = LOG_LEVELS.indexOf(options.minLevel ?? 'DEBUG');
  const write = options.write ?? writeStdout;
  const labels = options.labels ?? {};
  const baseFields = options.fields ?? {};

  const emit = (severity: LogLevel, message: string, fields: LogFields = {}): void => {
    if (LOG_LEVELS.indexOf(severity) < minRank) {
      return;
    }
    const seen = new WeakSet<object>();
    const { error, ...rest } = { ...baseFields, ...fields };
    // Fields never override the entry's own keys: a field named `severity` would change the level.
    const entry: Record<string, unknown> = {
      ...(sanitize(rest, seen) as Record<string, unknown>),
      severity,
      message: redactText(message),
      time: new Date().toISOString(),
      ...options.trace,
    };
    if (Object.keys(labels).length > 0) {
      entry['logging.googleapis.com/labels'] = sanitize(labels, seen);
    }
    if (error !== undefined) {
      entry['error'] = sanitize(error, seen, 'error');
      if (error instanceof Error) {
        entry['stack_trace'] = stackTrace(error);
      }
    }
    write(`${JSON.stringify(entry)}\n`);
  };

  return {
    debug: (message, fields) => {
      emit('DEBUG', message, fields);
    },
    info: (message, fields) => {
      emit('INFO', message, fields);
    },
    notice: (message, fields) => {
      emit('NOTICE', message, fields);
    },
    warn: (message, fields) => {
      emit('WARNING', message, fields);
    },
    error: (message, fields) => {
      emit('ERROR', message, fields);
    },
    child: (childLabels, fields = {}) =>
      createLogger({ ...options, labels: { ...labels, ...childLabels }, fields: { ...baseFields, ...fields } }),
  };
};
