/**
 * The finding types are derived from the Avro schema by the compiler (shared/findings/avro-types.ts).
 * These checks run in `npm run typecheck` (expectTypeOf is a no-op at run time): a rule of the
 * derivation that changes, or a schema field whose type stops matching what the code reads, fails
 * the build.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { AvroValue, Narrowed } from '../../../shared/findings/avro-types.ts';
import type { Counters, Finding, RemediationDetails, ThrottleFinding } from '../../../shared/findings/types.ts';

const _SMALL = {
  type: 'record',
  name: 'Small',
  fields: [
    { name: 'text', type: 'string' },
    { name: 'count', type: 'long' },
    { name: 'ratio', type: ['null', 'double'], default: null },
    { name: 'flags', type: { type: 'array', items: 'boolean' }, default: [] },
    { name: 'inner', type: ['null', { type: 'record', name: 'Inner', fields: [{ name: 'at', type: 'string' }] }], default: null },
  ],
} as const;

describe('AvroValue', () => {
  it('makes ["null", T] fields optional and everything else required, recursively', () => {
    expectTypeOf<AvroValue<typeof _SMALL>>().toEqualTypeOf<{
      readonly text: string;
      readonly count: number;
      readonly ratio?: number;
      readonly flags: readonly boolean[];
      readonly inner?: { readonly at: string };
    }>();
  });

  it('narrows only to subsets and keeps optionality', () => {
    type Base = { readonly mode: string; readonly note?: string };
    expectTypeOf<Narrowed<Base, { readonly mode: 'a' | 'b'; readonly note: 'n' }>>().toEqualTypeOf<{ readonly mode: 'a' | 'b'; readonly note?: 'n' }>();
  });
});

describe('the finding types read from shared/findings/schema.ts', () => {
  it('has the counters of the schema, with the burst fields optional', () => {
    expectTypeOf<Counters>().toEqualTypeOf<{
      readonly periods: number;
      readonly throttledPeriods: number;
      readonly throttledTimeNs: number;
      readonly bursts?: number;
      readonly burstTimeNs?: number;
      readonly quotaUs: number;
      readonly periodUs: number;
      readonly burstUs?: number;
    }>();
  });

  it('discriminates the details by kind and narrows the documented enumerations', () => {
    expectTypeOf<Extract<Finding, { kind: 'cpu.throttle' }>>().toEqualTypeOf<ThrottleFinding>();
    expectTypeOf<ThrottleFinding['severity']>().toEqualTypeOf<'info' | 'warning' | 'critical'>();
    expectTypeOf<RemediationDetails['mode']>().toEqualTypeOf<'off' | 'recommend' | 'apply'>();
    expectTypeOf<RemediationDetails['refusal']>().toEqualTypeOf<'foreign-cluster' | 'stale' | 'future' | 'invalid-name' | undefined>();
  });
});
