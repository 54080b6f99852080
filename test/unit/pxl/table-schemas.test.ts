/**
 * Versioned tables. Pixie refuses to upsert a tracepoint into an existing table whose schema differs
 * (../shared/pixie/api-facts.md, last section), and a tracepoint lives until its TTL runs out: an
 * upgrade that changed a probe's columns under the same table name would fail until then. So every
 * schema a release ever shipped keeps its name in pxl-scripts/table-schemas.json, and a script's
 * table is `<base>_v<N>` where N counts the schemas of that base (the first release had no suffix).
 * Changing a probe's columns therefore needs a new entry and a new name.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadRepoScript } from '../../../dev/lab/scripts.ts';
import { SCRIPT_NAMES } from '../../../shared/pxl/scripts.ts';

const schemas = JSON.parse(await readFile('pxl-scripts/table-schemas.json', 'utf8')) as Record<string, string>;
const baseOf = (table: string): string => table.replace(/_v\d+$/, '');

describe('table-schemas.json', () => {
  it.each(SCRIPT_NAMES)('%s writes a table whose name belongs to exactly its current columns', async (name) => {
    const script = await loadRepoScript(name);
    const table = script.tracepoint.table;
    expect(schemas[table]).toBe(script.output.columns.map((c) => `${c.name}:${c.type}`).join(' '));
    const versions = Object.keys(schemas).filter((t) => baseOf(t) === baseOf(table));
    expect(table).toBe(versions.length === 1 ? baseOf(table) : `${baseOf(table)}_v${versions.length}`);
    // The tracepoint is versioned with its table: a re-upsert of the old name by an older release
    // never replaces the newer program.
    expect(script.tracepoint.name).toBe(table);
  });

  it('never gives two released schemas one name, and no two names one schema of the same base', () => {
    const pairs = Object.entries(schemas).map(([table, columns]) => `${baseOf(table)} ${columns}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });
});
