/**
 * `node dev/demo/record.ts`: runs the demo's scenarios on a real node (root, bpftrace, runc, the
 * node's binaries; under `flock /tmp/kg-lab.lock`; see kernel.ts recordDemoScenarios) and
 * writes them to `dev/demo/recordings/`, the data `npm run demo` replays where the lab cannot run.
 *
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { RECORDINGS_DIR, recordDemoScenarios, writeRecordings } from './kernel.ts';

await mkdir(RECORDINGS_DIR, { recursive: true });
const recordings = await recordDemoScenarios();
await writeRecordings(RECORDINGS_DIR, recordings);
console.log(JSON.stringify({ dir: RECORDINGS_DIR, throttlePrintfs: recordings.throttle.printfs.length, birthPrintfs: recordings.birth.printfs.length }));
