/**
 * The PxL corpus (test/fixtures/pxl-corpus): scripts in the style of Pixie's PxL tutorials, each with
 * the answers Pixie's semantics give in every mode of the local Vizier (expected.json, written by
 * hand from the input data). This module runs one corpus script the way its run says (Pixie's
 * Python client, or a raw protobufjs client for exec_funcs and mutations) and checks the answer.
 * Used by corpus.test.ts (dataset, replay) and test/lab/vizier-live.test.ts (live).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'vitest';
import { enumValues } from '../../../dev/vizier/proto.ts';
import { batchOf, canonicalValue, CLUSTER, rawExecute, runPxapi } from './support.ts';

export type Mode = 'dataset' | 'replay' | 'live';

type Cell = unknown;
interface TableExpectation {
  /** [name, DataType, SemanticType] of every column, in order. */
  readonly columns?: readonly (readonly [string, string, string])[];
  /** Every row, in any order (FLOAT64 as numbers). */
  readonly rows?: readonly (readonly Cell[])[];
  readonly maxCount?: number;
  /**
   * At least this many rows (live mode, where the kernel must produce them): the run is repeated
   * until it has them or {@link MIN_COUNT_DEADLINE_MS} passed, since probe events reach the Vizier
   * asynchronously (bpftrace's perf buffer, then its output pipe).
   */
  readonly minCount?: number;
}

const MIN_COUNT_DEADLINE_MS = 30_000;
type Expectation =
  | { readonly tables: Readonly<Record<string, TableExpectation>> }
  | { readonly error: Readonly<Record<string, unknown>> & { readonly message_suffix?: string; readonly compiler_error_prefix?: readonly [number, string] } };

export interface CorpusRun {
  readonly client: 'pxapi' | 'raw';
  readonly exec?: { readonly func: string; readonly prefix: string; readonly args: Readonly<Partial<Record<Mode, Readonly<Record<string, string>>>>> };
  readonly mutation?: boolean;
  readonly expect: Readonly<Partial<Record<Mode | 'all', Expectation>>>;
}

export interface CorpusScript {
  readonly name: string;
  readonly source: string;
  readonly runs: readonly CorpusRun[];
}

const DIR = 'test/fixtures/pxl-corpus';

/** Every corpus script with its runs (a script without expectations fails loudly). */
export const loadCorpus = (): CorpusScript[] => {
  const expected = JSON.parse(readFileSync(path.join(DIR, 'expected.json'), 'utf8')) as Record<string, { runs: CorpusRun[] }>;
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.pxl'))
    .sort()
    .map((file) => {
      const name = file.replace(/\.pxl$/, '');
      const entry = expected[name];
      if (entry === undefined) {
        throw new Error(`${DIR}/${file} has no entry in expected.json`);
      }
      return { name, source: readFileSync(path.join(DIR, file), 'utf8'), runs: entry.runs };
    });
};

interface Outcome {
  readonly tables?: Map<string, { columns: [string, string, string][] | undefined; rows: Cell[][] }>;
  readonly error?: Record<string, unknown>;
}

const DATA_TYPES = Object.fromEntries(Object.entries(enumValues('px.api.vizierpb.DataType')).map(([k, v]) => [v, k]));
const SEMANTICS = Object.fromEntries(Object.entries(enumValues('px.api.vizierpb.SemanticType')).map(([k, v]) => [v, k]));

const viaPxapi = async (address: string, source: string): Promise<Outcome> => {
  const py = await runPxapi(address, source);
  const last = py.lines.at(-1);
  if (last?.['error'] !== undefined) {
    return { error: last['error'] as Record<string, unknown> };
  }
  if (py.exitCode !== 0) {
    throw new Error(`pxapi_run.py failed (${py.exitCode}): ${py.stderr}`);
  }
  const tables = new Map<string, { columns: [string, string, string][] | undefined; rows: Cell[][] }>();
  for (const line of py.lines) {
    const name = line['table'];
    if (typeof name !== 'string') {
      continue;
    }
    const table = tables.get(name) ?? { columns: undefined, rows: [] };
    tables.set(name, table);
    if (Array.isArray(line['columns'])) {
      const sems = line['semantics'] as string[];
      table.columns = (line['columns'] as [string, string][]).map(([n, t], i) => [n, t, sems[i] ?? '']);
    }
    if (Array.isArray(line['row'])) {
      table.rows.push(line['row'] as Cell[]);
    }
  }
  return { tables };
};

const viaRaw = async (address: string, source: string, run: CorpusRun, mode: Mode): Promise<Outcome> => {
  const args = run.exec?.args[mode];
  if (run.exec !== undefined && args === undefined) {
    throw new Error(`corpus run of ${run.exec.func} has no exec_funcs arguments for mode ${mode}`);
  }
  const request = {
    cluster_id: CLUSTER,
    query_str: source,
    mutation: run.mutation === true,
    exec_funcs: run.exec === undefined ? [] : [{ func_name: run.exec.func, output_table_prefix: run.exec.prefix, arg_values: Object.entries(args ?? {}).map(([name, value]) => ({ name, value })) }],
  };
  // A mutation is retried while its probes deploy (code 14), as Pixie's clients do, except that a
  // FAILED tracepoint ends the retries at once, as in Pixie's CLI ("Could not deploy tracepoint",
  // api-facts.md §5): it also answers code 14, and would otherwise read as a slow deployment.
  let result = await rawExecute(address, request);
  for (let attempt = 0; run.mutation === true && result.status.code === 14 && failedTracepoints(result.messages).length === 0 && attempt < 60; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    result = await rawExecute(address, request);
  }
  const failed = failedTracepoints(result.messages);
  if (failed.length > 0) {
    return { error: { grpc_code: grpc.status[result.status.code], could_not_deploy: failed } };
  }
  if (result.status.code !== 0) {
    const status = result.messages.find((m) => m['status'] !== null && m['status'] !== undefined)?.['status'] as { error_details?: { compiler_error: { line: number | string; column: number | string; message: string } }[] } | undefined;
    const codeName = grpc.status[result.status.code];
    return {
      error: {
        grpc_code: codeName,
        grpc_details: result.status.details,
        compiler_errors: (status?.error_details ?? []).map((d) => [Number(d.compiler_error.line), Number(d.compiler_error.column), d.compiler_error.message]),
      },
    };
  }
  const tables = new Map<string, { columns: [string, string, string][] | undefined; rows: Cell[][] }>();
  const byId = new Map<string, { name: string; types: number[] }>();
  for (const m of result.messages) {
    const meta = m['meta_data'] as { id: string; name: string; relation: { columns: { column_name: string; column_type: number; column_semantic_type: number }[] } } | null;
    if (meta !== null) {
      const cols = meta.relation.columns;
      byId.set(meta.id, { name: meta.name, types: cols.map((c) => c.column_type) });
      tables.set(meta.name, { columns: cols.map((c) => [c.column_name, DATA_TYPES[c.column_type] ?? '?', SEMANTICS[c.column_semantic_type] ?? '?']), rows: [] });
    }
    const batch = batchOf(m);
    const info = batch === undefined ? undefined : byId.get(batch.table_id);
    if (batch === undefined || info === undefined) {
      continue;
    }
    const columns = batch.cols.map((c) => Object.values(c).find((v) => v !== null) as { data: unknown[] } | undefined);
    for (let r = 0; r < Number(batch.num_rows); r++) {
      tables.get(info.name)?.rows.push(columns.map((col, i) => canonicalValue(col?.data[r], info.types[i] ?? 0)));
    }
  }
  return { tables };
};

const FAILED_STATE = enumValues('px.api.vizierpb.LifeCycleState')['FAILED_STATE'];

/** Names of the tracepoints a mutation answer reports FAILED. */
const failedTracepoints = (messages: readonly Record<string, unknown>[]): string[] =>
  messages.flatMap((m) => ((m['mutation_info'] as { states?: { name: string; state: number }[] } | null | undefined)?.states ?? []).filter((s) => s.state === FAILED_STATE).map((s) => s.name));

/** The canonical form pxapi_run.py prints, for an expected cell of a column of `type`. */
const canonicalExpected = (cell: Cell, type: string | undefined): Cell => {
  if (type === 'FLOAT64' && typeof cell === 'number') {
    const buf = Buffer.alloc(8);
    buf.writeDoubleBE(cell);
    return buf.toString('hex');
  }
  return cell;
};

/** Whether some table has fewer rows than its expectation's minCount (errors are not retried). */
const tooFewRows = (tables: Readonly<Record<string, TableExpectation>>, outcome: Outcome): boolean =>
  outcome.error === undefined && Object.entries(tables).some(([name, want]) => want.minCount !== undefined && (outcome.tables?.get(name)?.rows.length ?? 0) < want.minCount);

const sorted = (rows: readonly (readonly Cell[])[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

/** Runs one corpus run against a Vizier at `address` and checks it against its expectation for `mode`. */
export const checkCorpusRun = async (address: string, script: CorpusScript, run: CorpusRun, mode: Mode): Promise<void> => {
  const expected = run.expect[mode] ?? run.expect.all;
  if (expected === undefined) {
    throw new Error(`corpus script ${script.name} has no expectation for mode ${mode}`);
  }
  const execute = async (): Promise<Outcome> => (run.client === 'pxapi' ? viaPxapi(address, script.source) : viaRaw(address, script.source, run, mode));
  let outcome = await execute();
  const deadline = Date.now() + MIN_COUNT_DEADLINE_MS;
  while (!('error' in expected) && tooFewRows(expected.tables, outcome) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    outcome = await execute();
  }
  // Each check names the script, client and mode in the compared value, so a failure says which.
  const label = `${script.name} (${run.client}, ${mode})`;
  if ('error' in expected) {
    const { message_suffix: suffix, compiler_error_prefix: prefix, ...exact } = expected.error;
    expect({ [label]: outcome.error }).toMatchObject({ [label]: exact });
    if (suffix !== undefined) {
      expect({ [label]: String(outcome.error?.['message']).endsWith(suffix) }).toEqual({ [label]: true });
    }
    if (prefix !== undefined) {
      const errors = (outcome.error?.['compiler_errors'] ?? []) as [number, number, string][];
      expect({ [label]: errors.map(([line, , message]) => [line, message.startsWith(prefix[1])]) }).toEqual({ [label]: [[prefix[0], true]] });
    }
    return;
  }
  expect({ [label]: outcome.error }).toEqual({ [label]: undefined });
  for (const [name, want] of Object.entries(expected.tables)) {
    const got = outcome.tables?.get(name);
    const where = `${label}: table ${name}`;
    if (got === undefined) {
      throw new Error(`${where} missing (got ${[...(outcome.tables?.keys() ?? [])].join(', ')})`);
    }
    if (want.columns !== undefined && got.columns !== undefined) {
      expect({ [where]: got.columns }).toEqual({ [where]: want.columns });
    } else if (want.columns !== undefined && got.rows.length > 0) {
      throw new Error(`${where} has rows but its columns were not reported`);
    }
    if (want.rows !== undefined) {
      const types = (want.columns ?? got.columns)?.map((c) => c[1]);
      expect({ [where]: sorted(got.rows) }).toEqual({ [where]: sorted(want.rows.map((r) => r.map((c, i) => canonicalExpected(c, types?.[i])))) });
    }
    if (want.minCount !== undefined) {
      expect({ [where]: got.rows.length >= want.minCount }).toEqual({ [where]: true });
    }
    if (want.maxCount !== undefined) {
      expect({ [where]: got.rows.length <= want.maxCount }).toEqual({ [where]: true });
    }
  }
};
