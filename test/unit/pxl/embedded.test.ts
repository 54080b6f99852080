import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_FILE, renderEmbedded } from '../../../dev/build/embed-pxl.ts';
import { embeddedScriptReader } from '../../../shared/pxl/embedded.ts';
import { loadScript, SCRIPT_NAMES } from '../../../shared/pxl/scripts.ts';

describe('embedded PxL scripts', () => {
  it('match pxl-scripts/ (run node dev/build/embed-pxl.ts after editing a script)', async () => {
    expect(await readFile(EMBEDDED_FILE, 'utf8')).toBe(await renderEmbedded());
  });

  it.each(SCRIPT_NAMES)('%s loads from the embedded copy', async (name) => {
    const script = await loadScript(name, embeddedScriptReader);
    expect(script.entryFunction).toBe(name);
    expect(script.parameters.map((p) => p.name)).toEqual(['start_time', 'end_time', 'namespace']);
  });

  it('refuses a file it does not carry', async () => {
    await expect(embeddedScriptReader('nope/nope.pxl')).rejects.toThrow(/no embedded script file/);
  });
});
