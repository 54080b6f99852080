/**
 * What a node's metadata remembers of pods, as Pixie's does (pure): a pod deleted from the API
 * server stays known for 24 hours, so rows its containers left before they went are still named
 * (Pixie keeps a dead object at least `kMinObjectRetentionAfterDeathNS`, 24 h:
 * src/shared/metadata/state_manager.cc, pixie-io/pixie 9482641); and a source that cannot be asked
 * right now (an API server outage) keeps naming what it last listed, as Pixie's metadata state
 * keeps its last view until updates come again.
 *
 * @module
 */
import type { NamingSource, PodSource } from './naming.ts';
import type { PodListing } from './pod-sources.ts';
import type { NamedPod } from './pods.ts';

/** How long a deleted pod stays known (Pixie: kMinObjectRetentionAfterDeathNS). */
export const DELETED_POD_RETENTION_MS = 24 * 3_600_000;

interface Known {
  readonly source: NamingSource;
  readonly pod: NamedPod;
}

export class PodMemory {
  private readonly retentionMs: number;
  /** Per source, the pods of its latest successful listing. */
  private readonly listed = new Map<NamingSource, readonly NamedPod[]>();
  /** Pods gone from their source's listing, by uid, with when they went. */
  private readonly gone = new Map<string, Known & { readonly goneAtMs: number }>();

  constructor(retentionMs: number = DELETED_POD_RETENTION_MS) {
    this.retentionMs = retentionMs;
  }

  /**
   * Takes a new listing and returns the sources to name with: each source's current pods (its last
   * listing when it failed now), then the pods deleted within the retention, under the source that
   * listed them. Earlier sources win a uid (nameContainers), so a living pod is never named as gone.
   */
  remember(listing: PodListing, nowMs: number): PodSource[] {
    for (const { source, pods } of listing.sources) {
      const now = new Set(pods.map((p) => p.uid));
      for (const pod of this.listed.get(source) ?? []) {
        if (!now.has(pod.uid)) {
          this.gone.set(pod.uid, { source, pod, goneAtMs: nowMs });
        }
      }
      for (const uid of now) {
        this.gone.delete(uid);
      }
      this.listed.set(source, pods);
    }
    for (const [uid, known] of this.gone) {
      if (nowMs - known.goneAtMs > this.retentionMs) {
        this.gone.delete(uid);
      }
    }
    const current: PodSource[] = [...this.listed].map(([source, pods]) => ({ source, pods }));
    const departed = new Map<NamingSource, NamedPod[]>();
    for (const { source, pod } of this.gone.values()) {
      departed.set(source, [...(departed.get(source) ?? []), pod]);
    }
    return [...current, ...[...departed].map(([source, pods]) => ({ source, pods }))];
  }
}
