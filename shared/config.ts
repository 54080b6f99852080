/**
 * The environment, parsed once into a typed, frozen config.
 *
 * Each function declares the variables it reads as a {@link ConfigSpec}; {@link parseConfig} reads
 * them all and reports every missing or malformed variable in one {@link ConfigError}, each with its
 * name and what was expected, so a bad deployment is fixed in one round instead of one per variable.
 * Secret values never appear in an error: only the variable name and what it should look like.
 *
 * @module
 */
import { DURATION_EXPECTED, parseDuration } from './duration.ts';

/** One environment variable: how to read it, and how to explain what it must be. */
export interface Field<T> {
  /** What a valid value looks like, for error messages and docs. */
  readonly expected: string;
  /** Whether the value is a secret: it is never echoed in errors and is registered for log redaction. */
  readonly secret: boolean;
  /** Value used when the variable is unset or empty; `undefined` means the variable is required. */
  readonly fallback: T | undefined;
  /** Whether the variable may be absent with no fallback (the config then holds `undefined`). */
  readonly optional: boolean;
  /** Parses a non-empty raw value; throws a {@link FieldError} when it does not fit. */
  readonly parse: (raw: string) => T;
}

/** Thrown by a field parser; the message says what was wrong with the value. */
export class FieldError extends Error {
  override readonly name = 'FieldError';
}

/** One problem found in the environment. */
export interface ConfigIssue {
  readonly variable: string;
  readonly problem: 'missing' | 'invalid';
  readonly expected: string;
  /** Why the value was rejected; absent for missing variables and for secrets. */
  readonly detail?: string;
}

/** Every problem found while parsing the environment, reported together. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(
      `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}): ` +
        issues.map(describeIssue).join('; '),
    );
    this.issues = issues;
  }
}

const describeIssue = (issue: ConfigIssue): string =>
  issue.problem === 'missing'
    ? `${issue.variable} is missing (expected ${issue.expected})`
    : `${issue.variable} is invalid (expected ${issue.expected}${issue.detail === undefined ? '' : `: ${issue.detail}`})`;

interface FieldOptions<T> {
  readonly default?: T;
  readonly optional?: boolean;
  readonly secret?: boolean;
}

const field = <T>(expected: string, parse: (raw: string) => T, options: FieldOptions<T> = {}): Field<T> => ({
  expected,
  parse,
  fallback: options.default,
  optional: options.optional ?? false,
  secret: options.secret ?? false,
});

/** A non-empty string. */
export const string = (options: FieldOptions<string> & { pattern?: RegExp; expected?: string } = {}): Field<string> =>
  field(
    options.expected ?? (options.pattern ? `a string matching ${String(options.pattern)}` : 'a non-empty string'),
    (raw) => {
      if (options.pattern && !options.pattern.test(raw)) {
        throw new FieldError(`does not match ${String(options.pattern)}`);
      }
      return raw;
    },
    options,
  );

/** A secret string: never echoed, redacted from every log line once the config is parsed. */
export const secret = (options: Omit<FieldOptions<string>, 'secret' | 'default'> = {}): Field<string> =>
  field('a non-empty secret value', (raw) => raw, { ...options, secret: true });

/** An integer within bounds. */
export const integer = (options: FieldOptions<number> & { min?: number; max?: number } = {}): Field<number> => {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return field(
    `an integer from ${min} to ${max}`,
    (raw) => {
      if (!/^-?\d+$/.test(raw.trim())) {
        throw new FieldError(`"${raw}" is not an integer`);
      }
      const value = Number(raw.trim());
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        throw new FieldError(`${raw} is out of range`);
      }
      return value;
    },
    options,
  );
};

/** A decimal number within bounds. */
export const number = (options: FieldOptions<number> & { min?: number; max?: number } = {}): Field<number> => {
  const min = options.min ?? -Infinity;
  const max = options.max ?? Infinity;
  return field(
    `a number from ${min} to ${max}`,
    (raw) => {
      const value = Number(raw.trim());
      if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
        throw new FieldError(`"${raw}" is not a number in range`);
      }
      return value;
    },
    options,
  );
};

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** A boolean: true/false, 1/0, yes/no, on/off. */
export const boolean = (options: FieldOptions<boolean> = {}): Field<boolean> =>
  field(
    'true or false',
    (raw) => {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) {
        return true;
      }
      if (FALSE_WORDS.has(word)) {
        return false;
      }
      throw new FieldError(`"${raw}" is not a boolean`);
    },
    options,
  );

/** One of a closed set of words. */
export const oneOf = <const T extends string>(values: readonly T[], options: FieldOptions<T> = {}): Field<T> =>
  field(
    `one of ${values.join(', ')}`,
    (raw) => {
      const found = values.find((value) => value === raw.trim());
      if (found === undefined) {
        throw new FieldError(`"${raw}" is not one of them`);
      }
      return found;
    },
    options,
  );

/** A duration in the one grammar of `shared/duration.ts` (`250ms`, `90s`, `5m`, `1h`), parsed to milliseconds. */
export const duration = (options: FieldOptions<number> = {}): Field<number> => field(DURATION_EXPECTED, parseDurationMs, options);

/** Milliseconds of a duration in the one grammar (`shared/duration.ts`); throws a {@link FieldError} otherwise. */
export const parseDurationMs = (raw: string): number => {
  const ms = parseDuration(raw);
  if (ms === undefined) {
    throw new FieldError(`"${raw}" is not a duration`);
  }
  return ms;
};

/** `host:port`, as gRPC dials it. */
export const hostPort = (options: FieldOptions<string> = {}): Field<string> =>
  field(
    'host:port',
    (raw) => {
      const value = raw.trim();
      const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
      if (!match || Number(match[2]) > 65_535) {
        throw new FieldError(`"${raw}" is not host:port`);
      }
      return value;
    },
    options,
  );

/** A UUID in its canonical dashed form, as Pixie cluster ids are. */
export const uuid = (options: FieldOptions<string> = {}): Field<string> =>
  string({ ...options, pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, expected: 'a UUID' });

/** A comma-separated list of non-empty words. */
export const list = (options: FieldOptions<readonly string[]> = {}): Field<readonly string[]> =>
  field(
    'a comma-separated list',
    (raw) =>
      Object.freeze(
        raw
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== ''),
      ),
    options,
  );

/** Marks a field optional: absent means `undefined` in the parsed config. */
export const optional = <T>(inner: Field<T>): Field<T | undefined> => ({ ...inner, optional: true, fallback: undefined });

/** The variables one function reads, by name. */
export type ConfigSpec = Readonly<Record<string, Field<unknown>>>;

/** The parsed, frozen config a {@link ConfigSpec} describes. */
export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };

/** The raw environment: `process.env` in production, a literal in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads every variable of `spec` from `env` and returns a frozen config, or throws one
 * {@link ConfigError} naming every missing or invalid variable.
 */
export const parseConfig = <S extends ConfigSpec>(spec: S, env: Env): ConfigOf<S> => {
  const issues: ConfigIssue[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [variable, spec_] of Object.entries(spec)) {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') {
      if (spec_.fallback !== undefined || spec_.optional) {
        parsed[variable] = spec_.fallback;
      } else {
        issues.push({ variable, problem: 'missing', expected: spec_.expected });
      }
      continue;
    }
    try {
      parsed[variable] = spec_.parse(raw);
    } catch (error) {
      const detail = error instanceof FieldError && !spec_.secret ? error.message : undefined;
      issues.push({ variable, problem: 'invalid', expected: spec_.expected, ...(detail === undefined ? {} : { detail }) });
    }
  }
  if (issues.length > 0) {
    throw new ConfigError(issues);
  }
  return Object.freeze(parsed) as ConfigOf<S>;
};

/** The values of the secret fields of `spec` found in `config`, for log redaction. */
export const secretValues = <S extends ConfigSpec>(spec: S, config: ConfigOf<S>): string[] =>
  Object.entries(spec)
    .filter(([, f]) => f.secret)
    .map(([variable]) => (config as Readonly<Record<string, unknown>>)[variable])
    .filter((value): value is string => typeof value === 'string' && value !== '');

/** Describes a spec for docs and for checks that Terraform sets what the code reads. */
export const describeSpec = (spec: ConfigSpec): { variable: string; expected: string; required: boolean; secret: boolean }[] =>
  Object.entries(spec).map(([variable, f]) => ({
    variable,
    expected: f.expected,
    required: f.fallback === undefined && !f.optional,
    secret: f.secret,
  }));
