/**
 * The PxL corpus (test/fixtures/pxl-corpus, see corpus.ts) against the local Vizier in dataset mode
 * (the checked-in demo dataset) and replay mode (the lab's recordings), through Pixie's Python
 * client and a raw protobufjs client; the live mode runs the same corpus in
 * test/lab/vizier-live.test.ts. One Vizier per mode, scripts in file order, runs in their order
 * (the tracepoint script's table only exists once its mutation run deployed it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PxlEngine } from '../../../dev/vizier/pxl/engine.ts';
import { loadRecordings, replayBackend } from '../../../dev/vizier/pxl/replay.ts';
import type { RunningVizier } from '../../../dev/vizier/server.ts';
import { checkCorpusRun, loadCorpus, type Mode } from './corpus.ts';
import { requirePython, startTestVizier } from './support.ts';

const CORPUS = loadCorpus();

const modes: readonly [Mode, () => Promise<RunningVizier>][] = [
  ['dataset', async () => startTestVizier('dev/vizier/datasets/demo')],
  ['replay', async () => startTestVizier('dev/vizier/datasets/demo', { dataset: new Map(), engine: new PxlEngine(replayBackend(loadRecordings('test/fixtures/lab'))) })],
];

for (const [mode, start] of modes) {
  describe(`PxL corpus in ${mode} mode`, () => {
    let vizier: RunningVizier;
    beforeAll(async () => {
      requirePython();
      vizier = await start();
    });
    afterAll(async () => {
      await vizier.stop();
    });
    for (const script of CORPUS) {
      it(`${script.name}.pxl answers as Pixie's semantics say`, async () => {
        for (const run of script.runs) {
          await checkCorpusRun(vizier.address, script, run, mode);
        }
        expect.hasAssertions();
      });
    }
  });
}
