import { describe, expect, it } from 'vitest';
import {
  boolean,
  ConfigError,
  duration,
  FieldError,
  hostPort,
  integer,
  list,
  number,
  oneOf,
  optional,
  parseConfig,
  parseDurationMs,
  secret,
  secretValues,
  string,
  uuid,
} from '../../shared/config.ts';

const spec = {
  NAME: string(),
  PORT: integer({ min: 1, max: 65_535, default: 8080 }),
  RATIO: number({ min: 0, max: 1, default: 0.25 }),
  ENABLED: boolean({ default: false }),
  MODE: oneOf(['off', 'recommend', 'apply'], { default: 'recommend' }),
  TIMEOUT: duration({ default: 60_000 }),
  ADDR: hostPort({ default: 'work.withpixie.ai:443' }),
  CLUSTER_ID: optional(uuid()),
  NAMESPACES: list({ default: [] }),
  API_KEY: optional(secret()),
} as const;

describe('parseConfig', () => {
  const cases: { name: string; env: Record<string, string>; expected: Record<string, unknown> }[] = [
    {
      name: 'defaults fill what is unset',
      env: { NAME: 'prod' },
      expected: {
        NAME: 'prod',
        PORT: 8080,
        RATIO: 0.25,
        ENABLED: false,
        MODE: 'recommend',
        TIMEOUT: 60_000,
        ADDR: 'work.withpixie.ai:443',
        CLUSTER_ID: undefined,
        NAMESPACES: [],
        API_KEY: undefined,
      },
    },
    {
      name: 'every kind parses its value',
      env: {
        NAME: 'x',
        PORT: '9000',
        RATIO: '0.5',
        ENABLED: 'yes',
        MODE: 'apply',
        TIMEOUT: '90s',
        ADDR: '127.0.0.1:50051',
        CLUSTER_ID: '0e2a1c9c-7b7e-4a7d-9c3f-2f6c1b0c1d2e',
        NAMESPACES: 'shop, payments,,',
        API_KEY: 'px-api-0123456789',
      },
      expected: {
        NAME: 'x',
        PORT: 9000,
        RATIO: 0.5,
        ENABLED: true,
        MODE: 'apply',
        TIMEOUT: 90_000,
        ADDR: '127.0.0.1:50051',
        CLUSTER_ID: '0e2a1c9c-7b7e-4a7d-9c3f-2f6c1b0c1d2e',
        NAMESPACES: ['shop', 'payments'],
        API_KEY: 'px-api-0123456789',
      },
    },
    {
      name: 'blank values count as unset',
      env: { NAME: 'x', PORT: '  ', MODE: '' },
      expected: { NAME: 'x', PORT: 8080, MODE: 'recommend' },
    },
  ];

  it.each(cases)('$name', ({ env, expected }) => {
    const config = parseConfig(spec, env);
    expect(config).toMatchObject(expected);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every missing and invalid variable together, with names and expectations', () => {
    const error = (() => {
      try {
        parseConfig(spec, { PORT: '70000', RATIO: 'lots', ENABLED: 'maybe', MODE: 'force', TIMEOUT: 'soon', ADDR: 'nohost' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((issue) => [issue.variable, issue.problem])).toEqual([
      ['NAME', 'missing'],
      ['PORT', 'invalid'],
      ['RATIO', 'invalid'],
      ['ENABLED', 'invalid'],
      ['MODE', 'invalid'],
      ['TIMEOUT', 'invalid'],
      ['ADDR', 'invalid'],
    ]);
    expect((error as ConfigError).message).toContain('PORT is invalid (expected an integer from 1 to 65535');
    expect((error as ConfigError).message).toContain('MODE is invalid (expected one of off, recommend, apply');
    expect((error as ConfigError).message).toContain('NAME is missing (expected a non-empty string)');
  });

  it('never echoes a secret value in an error', () => {
    const secretSpec = { TOKEN: secret({ optional: false }) } as const;
    expect(() => parseConfig(secretSpec, {})).toThrow(/TOKEN is missing/);
    const rejecting = {
      KEY: {
        ...secret(),
        parse: (raw: string): string => {
          throw new FieldError(`bad value ${raw}`);
        },
      },
    } as const;
    const message = (() => {
      try {
        parseConfig(rejecting, { KEY: 'super-secret-value' });
        return 'no error';
      } catch (error) {
        return String(error);
      }
    })();
    expect(message).toContain('KEY is invalid');
    expect(message).not.toContain('super-secret-value');
  });

  it('lists secret values for redaction', () => {
    const config = parseConfig(spec, { NAME: 'x', API_KEY: 'px-api-0123456789' });
    expect(secretValues(spec, config)).toEqual(['px-api-0123456789']);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['250ms', 250],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1500ms', 1_500],
  ])('%s is %i ms', (raw, ms) => {
    expect(parseDurationMs(raw)).toBe(ms);
  });

  // One grammar (shared/duration.ts): a unit is required (is `30` seconds or ms?), and no fractions or spaces.
  it.each(['', 'soon', '-5s', '5 minutes', '1d', '30', '1.5s', ' 5m', '5M'])('rejects %j', (raw) => {
    expect(() => parseDurationMs(raw)).toThrow(/not a duration/);
  });
});
