/**
 * Writes `shared/findings/finding.avsc` from the TypeScript schema, for Terraform and subscribers.
 * Run after changing `shared/findings/schema.ts`; a unit test fails while the two differ.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FINDING_SCHEMA } from '../../shared/findings/schema.ts';

export const SCHEMA_FILE = path.resolve(import.meta.dirname, '../../shared/findings/finding.avsc');

export const renderSchemaFile = (): string => `${JSON.stringify(FINDING_SCHEMA, null, 2)}\n`;

if (import.meta.main) {
  await writeFile(SCHEMA_FILE, renderSchemaFile());
  console.log(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}`);
}
