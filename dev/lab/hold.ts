/**
 * `node dev/lab/hold.ts`: creates one lab pod (sandbox + an idle app container) and holds it until
 * interrupted; prints `{"ready":true,...}` with the pod's cgroup path once it runs. Ctrl-C (SIGINT) or
 * SIGTERM removes everything it made. Used to look at a lab pod by hand and to test cleanup on signals.
 */
import { Lab } from './lab.ts';

const lab = await Lab.open();
const pod = await lab.createPod({
  namespace: 'lab',
  name: 'hold',
  layout: process.argv[2] === 'systemd' ? 'systemd' : 'cgroupfs',
  qos: 'burstable',
  containers: [{ name: 'idle', workload: { shape: 'idle', durationMs: 600_000 }, cpuQuotaUs: 10_000 }],
});
await lab.startPod(pod);
console.log(JSON.stringify({ ready: true, podCgroup: pod.cgroupPath, containers: [pod.sandbox, ...pod.containers].map((c) => ({ id: c.id, pid: c.pid })) }));
// Keep the event loop alive until a signal; the lab's signal handlers clean up and exit.
setInterval(() => undefined, 60_000);
