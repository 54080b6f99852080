/**
 * Tracepoint lifecycle of one local cluster, as Pixie's metadata service reports it to the query
 * broker: an upsert registers (or keeps) a tracepoint, whose state is PENDING for the first
 * `pendingRequests` requests that see it, RUNNING after, unless a fault pins it to PENDING forever
 * or makes it FAILED. Same name and program keeps the id; a changed table or program replaces it.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';

export const LIFE_CYCLE = { UNKNOWN_STATE: 0, PENDING_STATE: 1, RUNNING_STATE: 2, FAILED_STATE: 3, TERMINATED_STATE: 4 } as const;
export type LifeCycleState = (typeof LIFE_CYCLE)[keyof typeof LIFE_CYCLE];

export interface TracepointFaults {
  /** Requests that see a new tracepoint as PENDING before it is RUNNING (default 1). */
  readonly pendingRequests?: number;
  /** Tracepoint names that never leave PENDING. */
  readonly neverReady?: readonly string[];
  /** Tracepoint names that go FAILED. */
  readonly failed?: readonly string[];
}

export interface TracepointState {
  readonly id: string;
  readonly name: string;
  readonly state: LifeCycleState;
}

interface Entry {
  id: string;
  key: string;
  seen: number;
}

export class TracepointRegistry {
  private readonly entries = new Map<string, Entry>();

  /** Registers the tracepoints of one request and returns their states after it. */
  upsert(tracepoints: readonly { name: string; table: string; program?: string }[], faults: TracepointFaults): TracepointState[] {
    return tracepoints.map((tp) => {
      const key = `${tp.table}\u0000${tp.program ?? ''}`;
      let entry = this.entries.get(tp.name);
      if (entry?.key !== key) {
        entry = { id: randomUUID(), key, seen: 0 };
        this.entries.set(tp.name, entry);
      }
      entry.seen++;
      let state: LifeCycleState = entry.seen > (faults.pendingRequests ?? 1) ? LIFE_CYCLE.RUNNING_STATE : LIFE_CYCLE.PENDING_STATE;
      if (faults.neverReady?.includes(tp.name) === true) {
        state = LIFE_CYCLE.PENDING_STATE;
      }
      if (faults.failed?.includes(tp.name) === true) {
        state = LIFE_CYCLE.FAILED_STATE;
      }
      return { id: entry.id, name: tp.name, state };
    });
  }
}
