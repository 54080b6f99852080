/**
 * Keeping findings under the Pub/Sub message size limit without silently cutting them.
 *
 * Decision (documented in docs/findings.md): a pod birth certificate larger than the limit is split
 * into one message per container, each a complete container certificate marked `part`/`parts` and
 * given its own stable id. If one container's certificate alone is still too large, its timeline
 * keeps the earliest steps that fit and `stepsOmitted` counts the rest: every summary field
 * (cgroups, limit writes, namespaces, mounts, execs, syscall counts, durations) stays whole. Any
 * other finding over the limit is an error, never a truncated message.
 *
 * @module
 */
import { encodeFinding, stableId } from './codec.ts';
import type { BirthFinding, ContainerBirth, Finding } from './types.ts';

/** Pub/Sub accepts 10 MB per message; leave room for attributes and the request envelope. */
export const DEFAULT_MAX_MESSAGE_BYTES = 9_500_000;

/** A finding that cannot be made to fit. */
export class FindingTooLargeError extends Error {
  override readonly name = 'FindingTooLargeError';
  readonly findingId: string;
  readonly bytes: number;

  constructor(findingId: string, bytes: number, limit: number) {
    super(`finding ${findingId} is ${bytes} bytes encoded, over the ${limit}-byte message limit`);
    this.findingId = findingId;
    this.bytes = bytes;
  }
}

const encodedSize = (finding: Finding): number => encodeFinding(finding).byteLength;

const withContainers = (finding: BirthFinding, containers: readonly ContainerBirth[], part: number, parts: number): BirthFinding => ({
  ...finding,
  id: stableId('pod.birth', { whole: finding.id, part, parts }),
  birth: { ...finding.birth, containers, part, parts },
});

/** Drops timeline steps from the end until the single-container finding fits; counts what was dropped. */
const trimSteps = (finding: BirthFinding, maxBytes: number): BirthFinding => {
  const container = finding.birth.containers[0];
  if (container === undefined) {
    throw new FindingTooLargeError(finding.id, encodedSize(finding), maxBytes);
  }
  let low = 0;
  let high = container.steps.length;
  const build = (keep: number): BirthFinding => ({
    ...finding,
    birth: {
      ...finding.birth,
      containers: [
        {
          ...container,
          steps: container.steps.slice(0, keep),
          stepsOmitted: (container.stepsOmitted ?? 0) + (container.steps.length - keep),
        },
      ],
    },
  });
  // Binary search for the most steps that fit.
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (encodedSize(build(mid)) <= maxBytes) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  const fitted = build(low);
  const size = encodedSize(fitted);
  if (size > maxBytes) {
    throw new FindingTooLargeError(finding.id, size, maxBytes);
  }
  return fitted;
};

/** Returns the messages to publish for one finding: itself, or the parts of an oversized birth certificate. */
export const fitToMessageLimit = (finding: Finding, maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES): Finding[] => {
  const size = encodedSize(finding);
  if (size <= maxBytes) {
    return [finding];
  }
  if (finding.kind !== 'pod.birth') {
    throw new FindingTooLargeError(finding.id, size, maxBytes);
  }
  const containers = finding.birth.containers;
  return containers.map((container, index) => {
    const part = withContainers(finding, [container], index + 1, containers.length);
    return encodedSize(part) <= maxBytes ? part : trimSteps(part, maxBytes);
  });
};
