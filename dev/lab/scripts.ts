/** The shipped PxL scripts read from this repository (the local tools' reader for shared/pxl). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadScript, type PxlScript, type ScriptName, type ScriptReader } from '../../shared/pxl/scripts.ts';

export const PXL_SCRIPTS_DIR = path.resolve(import.meta.dirname, '../../pxl-scripts');

/** Reads files of `pxl-scripts/` from the repository. */
export const repoScriptReader: ScriptReader = async (relativePath) => {
  const file = path.resolve(PXL_SCRIPTS_DIR, relativePath);
  if (!file.startsWith(`${PXL_SCRIPTS_DIR}${path.sep}`)) {
    throw new Error(`script path escapes pxl-scripts/: ${relativePath}`);
  }
  return readFile(file, 'utf8');
};

/** Loads a shipped script from the repository. */
export const loadRepoScript = async (name: ScriptName): Promise<PxlScript> => loadScript(name, repoScriptReader);
