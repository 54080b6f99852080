/**
 * Writes a realistic table for the local Vizier (dataset format: dev/vizier/dataset.ts):
 * `pod_cpu`-style rows with time_, upid (UINT128), five int64 counters, a float64 and two strings,
 * deterministic for a given seed. Streams the JSON so a million rows need little memory.
 *
 * Usage: node dev/vizier/gen-dataset.ts --out <dir> [--rows 1000000] [--table pod_cpu] [--seed 1] [--pods 200]
 *
 * @module
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { prng } from '../random.ts';


export const RELATION = [
  { name: 'time_', type: 'TIME64NS', semantic: 'ST_NONE' },
  { name: 'upid', type: 'UINT128', semantic: 'ST_UPID' },
  { name: 'cpu_utime_ns', type: 'INT64', semantic: 'ST_DURATION_NS' },
  { name: 'cpu_ktime_ns', type: 'INT64', semantic: 'ST_DURATION_NS' },
  { name: 'rss_bytes', type: 'INT64', semantic: 'ST_BYTES' },
  { name: 'rchar_bytes', type: 'INT64', semantic: 'ST_BYTES' },
  { name: 'wchar_bytes', type: 'INT64', semantic: 'ST_BYTES' },
  { name: 'cpu_pct', type: 'FLOAT64', semantic: 'ST_PERCENT' },
  { name: 'pod', type: 'STRING', semantic: 'ST_POD_NAME' },
  { name: 'cmd', type: 'STRING', semantic: 'ST_NONE' },
] as const;

const hex = (value: bigint, digits: number): string => value.toString(16).padStart(digits, '0');

/** A UPID as Pixie prints a UInt128: high = asid<<32 | pid, low = start time ticks. */
const upidText = (asid: number, pid: number, start: bigint): string => {
  const h = hex((BigInt(asid) << 32n) | BigInt(pid), 16);
  const l = hex(start, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${l.slice(0, 4)}-${l.slice(4)}`;
};

export const generateTable = async (out: string, table: string, rows: number, seed: number, pods: number): Promise<string> => {
  mkdirSync(out, { recursive: true });
  const file = path.join(out, `${table}.json`);
  const random = prng(seed);
  const procs = Array.from({ length: pods }, (_, i) => ({
    upid: upidText(1 + (i % 3), 1000 + i * 7, BigInt(86_400_00 + i * 131)),
    pod: `ns-${i % 5}/pod-${i.toString(36)}-${Math.floor(random() * 1e6).toString(36)}`,
    cmd: i % 4 === 0 ? '/usr/bin/python3 -m worker --queue=default' : `/app/server --port=${8000 + i}`,
    utime: BigInt(Math.floor(random() * 1e12)),
    ktime: BigInt(Math.floor(random() * 1e11)),
    rchar: BigInt(Math.floor(random() * 1e9)),
    wchar: BigInt(Math.floor(random() * 1e9)),
  }));
  const start = 1_764_000_000_000_000_000n;
  const columns: string[][] = RELATION.map(() => []);
  const stream = createWriteStream(file);
  const write = async (text: string): Promise<void> => {
    if (!stream.write(text)) {
      await once(stream, 'drain');
    }
  };
  // Columns are written one after another, so each is generated in full first (as strings).
  for (let r = 0; r < rows; r++) {
    const p = procs[r % pods] as (typeof procs)[number];
    p.utime += BigInt(Math.floor(random() * 5e7));
    p.ktime += BigInt(Math.floor(random() * 1e7));
    p.rchar += BigInt(Math.floor(random() * 1e5));
    p.wchar += BigInt(Math.floor(random() * 1e5));
    const values = [
      `"${start + BigInt(Math.floor(r / pods)) * 1_000_000_000n + BigInt(r % pods) * 1000n}"`,
      `"${p.upid}"`,
      `"${p.utime}"`,
      `"${p.ktime}"`,
      `"${Math.floor(50e6 + random() * 500e6)}"`,
      `"${p.rchar}"`,
      `"${p.wchar}"`,
      String(Math.round(random() * 1e6) / 1e4),
      JSON.stringify(p.pod),
      JSON.stringify(p.cmd),
    ];
    values.forEach((v, c) => (columns[c] as string[]).push(v));
  }
  await write(`{"name":${JSON.stringify(table)},"relation":${JSON.stringify(RELATION)},"columns":{`);
  for (let c = 0; c < RELATION.length; c++) {
    await write(`${c === 0 ? '' : ','}${JSON.stringify((RELATION[c] as (typeof RELATION)[number]).name)}:[`);
    const values = columns[c] as string[];
    for (let i = 0; i < values.length; i += 10_000) {
      await write((i === 0 ? '' : ',') + values.slice(i, i + 10_000).join(','));
    }
    await write(']');
  }
  await write('}}\n');
  stream.end();
  await once(stream, 'finish');
  return file;
};

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]));
if (isMain) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      rows: { type: 'string', default: '1000000' },
      table: { type: 'string', default: 'pod_cpu' },
      seed: { type: 'string', default: '1' },
      pods: { type: 'string', default: '200' },
    },
  });
  if (values.out === undefined) {
    console.error('usage: node dev/vizier/gen-dataset.ts --out <dir> [--rows N] [--table NAME] [--seed N] [--pods N]');
    process.exit(2);
  }
  const file = await generateTable(values.out, values.table, Number(values.rows), Number(values.seed), Number(values.pods));
  console.log(`wrote ${values.rows} rows to ${file}`);
}
