/**
 * Tracepoint lifecycle of one local cluster, as Pixie's metadata service reports it to the query
 * broker: an upsert registers (or keeps) a tracepoint, whose state is PENDING for the first
 * `pendingRequests` requests that see it, RUNNING after, unless a fault pins it to PENDING forever
 * or makes it FAILED. Same name and program keeps the id; a changed table or program replaces it.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { pemColumns } from '../lab/bpftrace-dry-run.ts';
import { programOutput } from '../../shared/pxl/bpftrace-program.ts';
import { decodedColumns, type PrintfLayout } from '../../shared/pxl/printf-layout.ts';
import type { TracepointFaults } from './faults.ts';

export const LIFE_CYCLE = { UNKNOWN_STATE: 0, PENDING_STATE: 1, RUNNING_STATE: 2, FAILED_STATE: 3, TERMINATED_STATE: 4 } as const;
export type LifeCycleState = (typeof LIFE_CYCLE)[keyof typeof LIFE_CYCLE];

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

interface TableHolder {
  readonly schema: string;
  readonly tracepoint: string;
  expiresAtMs: number;
}

/** A table's schema as Pixie compares it: column names and types in order. */
export const schemaOf = (program: string): string | undefined => {
  try {
    return programOutput(program).columns.map((c) => `${c.name}:${c.type}`).join(' ');
  } catch {
    return undefined;
  }
};

/**
 * Pixie fails an upsert into an existing table with a different schema (api-facts.md, last
 * section); the table keeps its schema while the tracepoint that made it lives (until its TTL
 * runs out, or a new program of the same tracepoint replaces it with the same schema).
 */
export const schemaChangeMessage = (table: string, holder: string): string =>
  `table ${table} already exists with a different schema (written by tracepoint ${holder}): a changed schema needs a new table name`;

export class TracepointRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly tables = new Map<string, TableHolder>();
  /** Why a tracepoint is FAILED, by name (the `status` Pixie shows for it). */
  private readonly failures = new Map<string, string>();
  /** Per table, the requests that asked for it with every tracepoint RUNNING. */
  private readonly schemaChecks = new Map<string, number>();

  private readonly nowMs: () => number;

  constructor(nowMs: () => number = Date.now) {
    this.nowMs = nowMs;
  }

  /** Registers the tracepoints of one request and returns their states after it. */
  upsert(
    tracepoints: readonly { name: string; table: string; program?: string; ttlNs?: bigint }[],
    faults: TracepointFaults,
    /** Tracepoint name -> why its program cannot be deployed (it goes FAILED with that status). */
    refused: ReadonlyMap<string, string> = new Map(),
  ): TracepointState[] {
    return tracepoints.map((tp) => {
      const key = `${tp.table}\u0000${tp.program ?? ''}`;
      let entry = this.entries.get(tp.name);
      if (entry?.key !== key) {
        entry = { id: randomUUID(), key, seen: 0 };
        this.entries.set(tp.name, entry);
      }
      entry.seen++;
      const failure = refused.get(tp.name) ?? this.claimTable(tp);
      if (failure === undefined) {
        this.failures.delete(tp.name);
      } else {
        this.failures.set(tp.name, failure);
      }
      let state: LifeCycleState = entry.seen > (faults.pendingRequests ?? 1) ? LIFE_CYCLE.RUNNING_STATE : LIFE_CYCLE.PENDING_STATE;
      if (faults.neverReady?.includes(tp.name) === true) {
        state = LIFE_CYCLE.PENDING_STATE;
      }
      if (faults.failed?.includes(tp.name) === true || failure !== undefined) {
        state = LIFE_CYCLE.FAILED_STATE;
      }
      return { id: entry.id, name: tp.name, state };
    });
  }

  /**
   * Whether every table is in the schema yet. Pixie asks this only once every tracepoint is
   * RUNNING (44d42f1 query_broker/controllers/mutation_executor.go:264-269, isSchemaReady); the
   * `schemaPendingRequests` fault keeps a table out of it for that many such requests.
   */
  schemaReady(tables: readonly string[], faults: TracepointFaults): boolean {
    let ready = true;
    for (const table of new Set(tables)) {
      const checks = (this.schemaChecks.get(table) ?? 0) + 1;
      this.schemaChecks.set(table, checks);
      ready &&= checks > (faults.schemaPendingRequests ?? 0);
    }
    return ready;
  }

  /** Why `name` is FAILED, if it is. */
  failure(name: string): string | undefined {
    return this.failures.get(name);
  }

  /** Takes (or refreshes) the tracepoint's table; returns why not when another schema holds it. */
  private claimTable(tp: { name: string; table: string; program?: string; ttlNs?: bigint }): string | undefined {
    const schema = tp.program === undefined ? undefined : schemaOf(tp.program);
    if (schema === undefined) {
      return undefined;
    }
    const now = this.nowMs();
    const holder = this.tables.get(tp.table);
    if (holder !== undefined && holder.expiresAtMs > now && holder.schema !== schema) {
      return schemaChangeMessage(tp.table, holder.tracepoint);
    }
    const ttlMs = tp.ttlNs === undefined ? Number.POSITIVE_INFINITY : Number(tp.ttlNs / 1_000_000n);
    this.tables.set(tp.table, { schema, tracepoint: tp.name, expiresAtMs: now + ttlMs });
    return undefined;
  }
}

/**
 * The tracepoints a faithful deployment refuses, with why: a program whose printfs compile to
 * different structs (a PEM decodes every event with the first one's), or that bpftrace cannot
 * compile here. The structs are `known(program)` when the backend has them (a replay's recordings
 * carry bpftrace's dry run of their programs, so a replay needs no bpftrace on this machine), else
 * `bpftrace -d` once per program text (cached).
 */
export const layoutRefusals = async (
  tracepoints: readonly { readonly name: string; readonly program: string }[],
  known: (program: string) => readonly PrintfLayout[] | undefined = () => undefined,
): Promise<Map<string, string>> => {
  const refused = new Map<string, string>();
  for (const tp of tracepoints) {
    try {
      const layouts = known(tp.program);
      if (layouts === undefined) {
        await pemColumns(tp.program);
      } else {
        decodedColumns(programOutput(tp.program), layouts);
      }
    } catch (error) {
      refused.set(tp.name, error instanceof Error ? error.message : String(error));
    }
  }
  return refused;
};
