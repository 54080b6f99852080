import { describe, expect, it } from 'vitest';
import { FilterSyntaxError, parseFilter } from '../../../dev/pubsub/filter.ts';
import { PUSH_FILTERS } from '../../../dev/pubsub/provision.ts';

// The filter language of cloud.google.com/pubsub/docs/subscription-message-filter ("Filter syntax").
describe('parseFilter (Pub/Sub attribute filters, for the local stack)', () => {
  it.each([
    ['attributes.kind = "cpu.throttle"', { kind: 'cpu.throttle' }, true],
    ['attributes.kind = "cpu.throttle"', { kind: 'pod.birth' }, false],
    ['attributes.kind = "cpu.throttle"', {}, false],
    ['attributes.kind != "cpu.throttle"', {}, true],
    ['attributes:kind', { kind: '' }, true],
    ['NOT attributes:kind', { kind: 'x' }, false],
    ['-attributes:kind', {}, true],
    ['attributes.kind = "a" OR attributes.kind = "b"', { kind: 'b' }, true],
    ['attributes.kind = "a" AND attributes.cluster = "demo"', { kind: 'a', cluster: 'prod' }, false],
    ['(attributes.kind = "a" OR attributes.kind = "b") AND NOT attributes.cluster = "x"', { kind: 'a', cluster: 'y' }, true],
    ['hasPrefix(attributes.kind, "cpu.")', { kind: 'cpu.throttle' }, true],
    ['attributes.kind = "with \\"quote\\""', { kind: 'with "quote"' }, true],
  ])('%s on %j is %s', (filter, attributes, expected) => {
    expect(parseFilter(filter)(attributes)).toBe(expected);
  });

  it.each(['kind = "x"', 'attributes.kind = x', 'attributes.kind ~ "x"', 'attributes.kind = "x" AND', '(attributes:kind', 'attributes.kind = "x" extra'])('refuses %s', (filter) => {
    expect(() => parseFilter(filter)).toThrow(FilterSyntaxError);
  });

  it("reads the deployed remediate filter: throttle findings in, every other kind out", () => {
    const filter = parseFilter(PUSH_FILTERS.remediate!);
    expect(['cpu.throttle', 'pod.birth', 'remediation.result'].map((kind) => filter({ kind }))).toEqual([true, false, false]);
  });
});
