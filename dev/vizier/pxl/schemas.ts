/**
 * Pixie's built-in table schemas (`dev/vizier/pixie-tables.json`, a copy of
 * /work/shared/pixie/tables.json taken from Stirling's table definitions), as evaluator relations.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { DATA_TYPES, type DataTypeName } from '../dataset.ts';
import { enumValues } from '../proto.ts';
import type { RelationColumn } from './evaluate.ts';

const SEMANTIC = enumValues('px.api.vizierpb.SemanticType');

const load = (): ReadonlyMap<string, readonly RelationColumn[]> => {
  const doc = JSON.parse(readFileSync(new URL('../pixie-tables.json', import.meta.url), 'utf8')) as Record<string, { name: string; type: string; semantic_type: string }[]>;
  return new Map(
    Object.entries(doc).map(([table, cols]) => [
      table,
      cols.map((c) => {
        if (!(DATA_TYPES as readonly string[]).includes(c.type)) {
          throw new Error(`pixie-tables.json: ${table}.${c.name} has unknown type ${c.type}`);
        }
        return { name: c.name, type: c.type as DataTypeName, semantic: SEMANTIC[c.semantic_type] ?? 1 };
      }),
    ]),
  );
};

/** Table name -> relation of every built-in Pixie table. */
export const PIXIE_TABLES: ReadonlyMap<string, readonly RelationColumn[]> = load();

/** Documented px / pxtrace / pxconfig names (`pxl-names.txt`, generated from pxl-functions.txt). */
export const PXL_NAMES: ReadonlySet<string> = new Set(
  readFileSync(new URL('../pxl-names.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#')),
);
