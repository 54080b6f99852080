/**
 * From container verdicts to pod and workload verdicts. A pod's verdict is its worst container's.
 * A workload is judged per container name (its pod template's container), across its pods, window
 * after window: action is recommended only after the container was actionable in a configurable
 * number of consecutive windows. The streak state is passed in and returned, never kept here.
 *
 * @module
 */

import { recommendLimit, type LimitRecommendation } from './recommend.ts';
import { THROTTLE_VERDICTS, type ThrottleVerdict, type ThrottleVerdictKind } from './throttle.ts';
import { DEFAULT_THROTTLE_CONFIG, type ThrottleConfig } from './throttle-config.ts';

const rank = (kind: ThrottleVerdictKind): number => THROTTLE_VERDICTS.indexOf(kind);

/** The most severe of some verdict kinds (`saturated` first, `inconclusive` last). */
export const worstKind = (kinds: Iterable<ThrottleVerdictKind>): ThrottleVerdictKind => {
  let worst: ThrottleVerdictKind = 'inconclusive';
  for (const kind of kinds) {
    if (rank(kind) < rank(worst)) {
      worst = kind;
    }
  }
  return worst;
};

/** One pod over one window: its containers' verdicts and the worst of them. */
export interface PodVerdict {
  readonly namespace?: string;
  readonly pod: string;
  readonly kind: ThrottleVerdictKind;
  readonly actionable: boolean;
  readonly containers: readonly ThrottleVerdict[];
}

/** Groups container verdicts by pod (namespace + pod name); each pod takes its worst container's verdict. */
export const podVerdicts = (verdicts: readonly ThrottleVerdict[]): PodVerdict[] => {
  const byPod = new Map<string, ThrottleVerdict[]>();
  for (const v of verdicts) {
    const key = `${v.identity.namespace ?? ''}/${v.identity.pod}`;
    const list = byPod.get(key) ?? [];
    list.push(v);
    byPod.set(key, list);
  }
  return [...byPod.values()].flatMap((containers) => {
    const first = containers[0];
    if (first === undefined) {
      return [];
    }
    return {
      ...(first.identity.namespace === undefined ? {} : { namespace: first.identity.namespace }),
      pod: first.identity.pod,
      kind: worstKind(containers.map((c) => c.kind)),
      actionable: containers.some((c) => c.actionable),
      containers,
    };
  });
};

/** What the workload remembers between windows: the end of the last window and streaks per container. */
export interface WorkloadState {
  readonly lastWindowEndMs: number;
  /** Consecutive actionable windows per container name. */
  readonly streaks: Readonly<Record<string, number>>;
}

/** One container name of a workload over one window. */
export interface WorkloadContainerVerdict {
  readonly container: string;
  readonly kind: ThrottleVerdictKind;
  /** Pods with a conclusive verdict for this container, and how many of them were actionable. */
  readonly pods: number;
  readonly actionablePods: number;
  readonly actionable: boolean;
  readonly streak: number;
  /** True once the streak reaches `consecutiveWindows`. */
  readonly recommendAction: boolean;
  /** The largest per-pod recommendation among actionable pods (one limit serves the whole template). */
  readonly recommendation?: LimitRecommendation;
}

/** The workload over one window. */
export interface WorkloadVerdict {
  readonly window: { readonly startMs: number; readonly endMs: number };
  /** Whether this window continued the previous one (otherwise streaks restarted). */
  readonly consecutive: boolean;
  readonly containers: readonly WorkloadContainerVerdict[];
  readonly recommendAction: boolean;
}

/** Thrown for verdicts that cannot form a workload window (none, or older than the state). */
export class WorkloadError extends Error {
  override readonly name = 'WorkloadError';
}

/**
 * Advances a workload by one window. `verdicts` are the container verdicts of all the workload's
 * pods for this window; `previous` is the state returned by the last call (or `undefined`).
 */
export const stepWorkload = (
  previous: WorkloadState | undefined,
  verdicts: readonly ThrottleVerdict[],
  config: ThrottleConfig = DEFAULT_THROTTLE_CONFIG,
): { readonly state: WorkloadState; readonly verdict: WorkloadVerdict } => {
  if (verdicts.length === 0) {
    throw new WorkloadError('a workload window needs at least one container verdict');
  }
  const startMs = Math.min(...verdicts.map((v) => v.window.startMs));
  const endMs = Math.max(...verdicts.map((v) => v.window.endMs));
  if (previous !== undefined && endMs <= previous.lastWindowEndMs) {
    throw new WorkloadError(`window ending ${endMs} is not after the last one (${previous.lastWindowEndMs})`);
  }
  const consecutive = previous !== undefined && Math.abs(startMs - previous.lastWindowEndMs) <= config.maxWindowGapMs;
  const byContainer = new Map<string, ThrottleVerdict[]>();
  for (const v of verdicts) {
    const list = byContainer.get(v.identity.container) ?? [];
    list.push(v);
    byContainer.set(v.identity.container, list);
  }
  const streaks: Record<string, number> = {};
  const containers: WorkloadContainerVerdict[] = [];
  for (const [container, list] of [...byContainer.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const conclusive = list.filter((v) => v.kind !== 'inconclusive');
    const actionableList = conclusive.filter((v) => v.actionable);
    const actionable = conclusive.length > 0 && actionableList.length / conclusive.length >= config.minPodShare && actionableList.length > 0;
    const before = consecutive ? (previous.streaks[container] ?? 0) : 0;
    const streak = actionable ? before + 1 : 0;
    streaks[container] = streak;
    let recommendation: LimitRecommendation | undefined;
    for (const v of actionableList) {
      const r = recommendLimit(v.measures, config);
      if (recommendation === undefined || r.recommendedCores > recommendation.recommendedCores) {
        recommendation = r;
      }
    }
    containers.push({
      container,
      kind: worstKind(list.map((v) => v.kind)),
      pods: conclusive.length,
      actionablePods: actionableList.length,
      actionable,
      streak,
      recommendAction: streak >= config.consecutiveWindows,
      ...(recommendation === undefined ? {} : { recommendation }),
    });
  }
  return {
    state: { lastWindowEndMs: endMs, streaks },
    verdict: { window: { startMs, endMs }, consecutive, containers, recommendAction: containers.some((c) => c.recommendAction) },
  };
};
