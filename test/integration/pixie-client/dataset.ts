/**
 * The `procs` table the local Vizier serves to the client's tests and the tests expect, as functions
 * of the row index: the table is written as a dataset document (dev/vizier/dataset.ts), and the
 * expectation is computed again from `procRow`, independently of the bytes that carried it.
 */
import { parseTable, type Table } from '../../../dev/vizier/dataset.ts';

export const API_KEY = 'px-api-0d1f-client-test-key';
export const HEALTHY_CLUSTER = '5b27f024-eccb-4d07-b28d-84ab8d88e6a3';
export const UNHEALTHY_CLUSTER = '0f0e0d0c-0b0a-4908-8706-050403020100';
export const UNKNOWN_CLUSTER = '99999999-9999-4999-8999-999999999999';

export const BASE_TIME_NS = 1_764_000_000_000_000_000n;

/** One row of the `procs` table. */
export interface ProcRow {
  readonly time: bigint;
  readonly asid: number;
  readonly pid: number;
  readonly startTicks: bigint;
  readonly counter: bigint;
  readonly ratio: number;
  /** Bytes of the pod column (row 3 of every 7 is not valid UTF-8). */
  readonly pod: Uint8Array;
  readonly alive: boolean;
}

export const procRow = (i: number): ProcRow => ({
  time: BASE_TIME_NS + BigInt(i) * 1_000_000_000n,
  asid: (i % 3) + 1,
  pid: 1000 + i,
  startTicks: 4_000_000_000_000n + BigInt(i),
  // Crosses 2^53 and goes negative, so exact int64 handling is exercised.
  counter: (i % 2 === 0 ? 1n : -1n) * (2n ** 55n + BigInt(i) * 977n),
  ratio: i / 8 - 3.5,
  pod: i % 7 === 3 ? new Uint8Array([0x70, 0x6f, 0x64, 0xff, 0x2d, 0x30 + (i % 10)]) : new TextEncoder().encode(`default/pod-${i % 11}`),
  alive: i % 3 !== 0,
});

/** The `procs` table of `rows` rows, as the local Vizier loads a dataset file. */
export const procsTable = (rows: number): Table => {
  const all = Array.from({ length: rows }, (_, i) => procRow(i));
  return parseTable(
    {
      relation: [
        { name: 'time_', type: 'TIME64NS' },
        { name: 'upid', type: 'UINT128', semantic: 'ST_UPID' },
        { name: 'counter', type: 'INT64' },
        { name: 'ratio', type: 'FLOAT64', semantic: 'ST_PERCENT' },
        { name: 'pod', type: 'STRING', semantic: 'ST_POD_NAME' },
        { name: 'alive', type: 'BOOLEAN' },
      ],
      columns: {
        time_: all.map((r) => r.time.toString()),
        // UPID layout: high = asid << 32 | pid, low = start ticks (api-facts §6).
        upid: all.map((r) => ({ high: ((BigInt(r.asid) << 32n) | BigInt(r.pid)).toString(), low: r.startTicks.toString() })),
        counter: all.map((r) => r.counter.toString()),
        ratio: all.map((r) => r.ratio),
        pod: all.map((r) => ({ base64: Buffer.from(r.pod).toString('base64') })),
        alive: all.map((r) => r.alive),
      },
    },
    'procs',
    'the client tests procs table',
  );
};
