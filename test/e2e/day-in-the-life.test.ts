/**
 * A day in the life, compressed: two hours and ten minutes of Terraform's schedule on the twin
 * (the deployment as `tofu plan` renders terraform/examples/basic with the demo's variables,
 * dev/terraform/deployment.ts; the functions Terraform uploads with Terraform's environment; the
 * topic, schema and every subscription on the official Pub/Sub emulator; a real kube-apiserver),
 * on a stepped simulated clock (dev/twin/clock.ts) that every process of the twin reads, so the
 * local Cloud Scheduler fires each job at its cron due times of that day while the local Vizier
 * serves only what the probes had seen by then.
 *
 * The kernel data is the demo's recordings (real probes, real CFS throttling) placed at known times
 * of the day (dev/twin/day.ts): a batch workload throttled in every window, three throttle
 * episodes of an opted-in workload (three windows each), one of a workload whose limit GitOps owns,
 * and a pod born in every births window. One run fails (Pixie's query fails at a known time) and
 * is retried by the scheduler per the job's retry config; one run is missed.
 *
 * Everything asserted about coverage, births and episodes is read from the published findings
 * alone (a subscription of the test's own on the topic); remediation is counted from the
 * kube-apiserver's audit log.
 */
import type { Message, Subscription } from '@google-cloud/pubsub';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../dev/demo/cycle.ts';
import { RECORDINGS_DIR, VIZIER_API_KEY, VIZIER_CLUSTER_ID } from '../../dev/demo/kernel.ts';
import { createWorkload, ensureNamespace, objectsOf, seedClients } from '../../dev/demo/seed.ts';
import { REMEDIATOR_USER, type Stack, startStack } from '../../dev/demo/stack.ts';
import { DEMO_WORKLOADS, type Role } from '../../dev/demo/workloads.ts';
import type { Recording } from '../../dev/lab/scenarios.ts';
import { type StartedProcess, startProcess } from '../../dev/process.ts';
import { SharedClock } from '../../dev/twin/clock.ts';
import { births, containerFirstEventsMs, type DayBirth, throttleEpisodes, writeDay } from '../../dev/twin/day.ts';
import { type Attempt, runSteppedScheduler, type SchedulerEvents } from '../../dev/twin/scheduler.ts';
import { decodeFinding } from '../../shared/findings/codec.ts';
import type { Finding } from '../../shared/findings/types.ts';
import { requestsBy } from '../support/kube.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const MINUTE = 60_000;
/** Saturday 2026-12-05, 06:00 UTC: the simulated day starts here (the schedules' time zone is UTC). */
const at = (hhmm: string, seconds = 0): Date => new Date(Date.parse(`2026-12-05T${hhmm}:00Z`) + seconds * 1000);
const DAY_START = at('06:00');
const DAY_END = at('08:10');
const iso = (d: Date): string => d.toISOString();

const byRole = (role: Role) => {
  const workload = DEMO_WORKLOADS.find((w) => w.role === role);
  if (workload === undefined) {
    throw new Error(`no demo workload plays ${role}`);
  }
  return workload;
};
const CART = byRole('apply');
const PAYMENTS = byRole('conflict');
const REPORT = byRole('not-opted-in');
const SEARCH = byRole('healthy');

/** Every 5-minute window start from `from` to `to` inclusive. */
const windowStarts = (from: Date, to: Date, stepMinutes: number): Date[] => {
  const out: Date[] = [];
  for (let t = from.getTime(); t <= to.getTime(); t += stepMinutes * MINUTE) {
    out.push(new Date(t));
  }
  return out;
};
const plus = (d: Date, seconds: number): Date => new Date(d.getTime() + seconds * 1000);

const recording = (name: string): Recording => JSON.parse(readFileSync(path.join(RECORDINGS_DIR, `${name}.json`), 'utf8')) as Recording;
const BIRTH_FIRST_EVENTS_MS = containerFirstEventsMs(recording('birth'));
/** The cut birth: its first event this long before 07:40 that the boundary falls midway between its containers' first events. */
const CUT_BIRTH = plus(at('07:40'), -((BIRTH_FIRST_EVENTS_MS[0] ?? 0) + (BIRTH_FIRST_EVENTS_MS.at(-1) ?? 0)) / 2 / 1000);

/**
 * The day's kernel data, at known times. Each throttle copy is ~10 s of recorded probe rows, placed
 * inside one 5-minute window; an episode is three consecutive windows (REMEDIATION_MIN_WINDOWS).
 * The throttle schedule's windows end at :00, :05, ...; the births windows at :00, :10, ...
 */
const SCENARIO = {
  // Throttled in every window, from two windows before the day (observe-throttle reads three).
  report: windowStarts(at('05:50'), at('08:05'), 5).map((w) => plus(w, 60)),
  // Episode A (applied at the 06:30 run), B (held back by the 1h cooldown at 07:10), C (applied at 07:55).
  cartEpisodes: [
    ['06:15', '06:20', '06:25'],
    ['06:55', '07:00', '07:05'],
    ['07:40', '07:45', '07:50'],
  ].map((episode) => episode.map((w) => plus(at(w), 120))),
  paymentsEpisode: ['06:35', '06:40', '06:45'].map((w) => plus(at(w), 150)),
  // Light bursts far below its limit: never a finding.
  search: ['06:00', '06:30', '07:00', '07:30', '08:00'].map((w) => plus(at(w), 180)),
  // A pod born in every births window (four minutes in), and a second one in the 07:00 window.
  // And one whose cascade the 07:40 boundary cuts: between its first container's first event and
  // its last container's (when the recording has them: the kubelet's sandbox, then the app).
  births: [...windowStarts(at('06:00'), at('08:00'), 10).map((w) => plus(w, 240)), at('07:07'), CUT_BIRTH],
  /** Pixie's queries fail from 06:45:00 to 06:45:30: the 06:45 throttle run fails, its retry 30 s later succeeds. */
  outage: { startMs: at('06:45').getTime(), endMs: at('06:45', 30).getTime() },
  /** The 07:25 throttle run never fires. */
  missed: at('07:25'),
};

interface Received {
  readonly finding: Finding;
  readonly messageId: string;
}

describe('a day in the life on the twin, compressed (2 h 10 min of Terraform’s schedule)', () => {
  let stack: Stack | undefined;
  let vizier: StartedProcess | undefined;
  let clock: SharedClock | undefined;
  let events: SchedulerEvents | undefined;
  let born: DayBirth[] = [];
  const received: Received[] = [];
  const deadLettered: string[] = [];
  let subscription: Subscription | undefined;
  let wallSeconds = 0;
  let daySeconds = 0;

  const findings = <K extends Finding['kind']>(kind: K) =>
    received.map((r) => r.finding).filter((f): f is Extract<Finding, { kind: K }> => f.kind === kind);

  beforeAll(async () => {
    const started = Date.now();
    const dir = mkdtempSync(path.join(tmpdir(), 'kg-day-'));
    const throttle = recording('throttle');
    const day = births(recording('birth'), SCENARIO.births);
    born = day.births;
    writeDay(path.join(dir, 'kernel'), [
      ...throttleEpisodes(throttle, REPORT, SCENARIO.report),
      ...throttleEpisodes(throttle, CART, SCENARIO.cartEpisodes.flat()),
      ...throttleEpisodes(throttle, PAYMENTS, SCENARIO.paymentsEpisode),
      ...throttleEpisodes(throttle, SEARCH, SCENARIO.search),
      ...day.recordings,
    ]);
    // An outage of Pixie's query path at a known time of the day (dev/vizier/faults.ts):
    // INTERNAL, which the client does not resume, so the run fails and Cloud Scheduler retries it.
    const faults = path.join(dir, 'faults.json');
    writeFileSync(faults, JSON.stringify({ [VIZIER_CLUSTER_ID]: { executionError: { afterBatches: 0, code: 13, message: 'query broker restarting (injected)', during: SCENARIO.outage } } }));

    clock = new SharedClock(new Date(DAY_START.getTime() - MINUTE));
    const nodeArgs = clock.nodeArgs();
    stack = await startStack({
      kernelMode: 'replay',
      logFile: path.join(dir, 'day.log'),
      functionNodeArgs: nodeArgs,
      startVizier: async () => {
        const ready = /vizier listening on (\S+)/;
        vizier = await startProcess(
          process.execPath,
          [...nodeArgs, path.join(ROOT, 'dev/vizier/main.ts'), '--replay', path.join(dir, 'kernel'), '--replay-follow-clock', '--faults', faults, '--api-key', VIZIER_API_KEY, '--cluster', VIZIER_CLUSTER_ID],
          { ready, timeoutMs: 60_000 },
        );
        const child = vizier;
        return { address: ready.exec(child.output())?.[1] ?? '', process: child, stop: () => child.stop() };
      },
    });
    const clients = seedClients(stack.kubeconfigs.admin);
    for (const workload of DEMO_WORKLOADS) {
      await ensureNamespace(clients, workload.namespace);
      await createWorkload(clients, objectsOf(workload));
    }
    const [tail] = await stack.topology.topic.createSubscription('kg-day-tail', { ackDeadlineSeconds: 60 });
    subscription = tail;
    tail.on('message', (message: Message) => {
      message.ack();
      received.push({ finding: decodeFinding(message.data), messageId: message.id });
    });
    stack.topology.deadLetterSubscription.on('message', (message: Message) => {
      message.ack();
      deadLettered.push(message.id);
    });

    // Terraform's own jobs (of the plan the stack deployed), aimed at the local functions.
    const running = stack;
    const jobs = (['observe-throttle', 'observe-births'] as const).map((name) => {
      const job = running.deployment.jobs[name];
      if (job === undefined) {
        throw new Error(`Terraform declares no Scheduler job for ${name}`);
      }
      return { job, url: running.functions[name].url, audience: running.functions[name].url };
    });

    // What happens at an instant is over before the clock moves on: each 200's findings are on the
    // topic, and each throttle finding has been decided by remediate (its remediation.result).
    const settle = async (instant: Date, attempts: readonly Attempt[]): Promise<void> => {
      const expected = attempts
        .filter((a) => a.outcome === 200)
        .map((a) => ({ kind: a.job.endsWith('observe-births') ? 'pod.birth' : 'cpu.throttle', end: a.scheduleTime, count: Number((JSON.parse(a.body) as { published?: number }).published) }));
      await waitFor(
        `the findings of ${iso(instant)} and their remediation results`,
        () => {
          const enough = expected.every(
            (e) => new Set(received.filter((r) => r.finding.kind === e.kind && r.finding.observedWindow.end === e.end).map((r) => r.finding.id)).size >= e.count,
          );
          const decided = new Set(findings('remediation.result').map((r) => r.remediation.findingId));
          const undecided = findings('cpu.throttle').filter((f) => !decided.has(f.id));
          return Promise.resolve(enough && undecided.length === 0 ? true : undefined);
        },
        60_000,
        50,
      );
    };
    const dayStarted = Date.now();
    const skipped = jobs.find((j) => j.job.schedule === '*/5 * * * *')?.job.name;
    events = await runSteppedScheduler(jobs, {
      clock,
      from: DAY_START,
      until: DAY_END,
      skip: (job, due) => job === skipped && due.getTime() === SCENARIO.missed.getTime(),
      settle,
    });
    wallSeconds = (Date.now() - started) / 1000;
    daySeconds = (Date.now() - dayStarted) / 1000;
  }, 300_000);

  afterAll(async () => {
    await subscription?.close();
    await stack?.stop();
    clock?.close();
    if (events !== undefined) {
      process.stderr.write(
        `day in the life: ${events.attempts.length} attempts, ${received.length} findings received (${findings('cpu.throttle').length} throttle, ${findings('pod.birth').length} births, ${findings('remediation.result').length} remediation results), ${born.length} births; the day took ${daySeconds.toFixed(1)} s, ${wallSeconds.toFixed(1)} s with the stack's start\n`,
      );
    }
  });

  const day = (): SchedulerEvents => {
    if (events === undefined) {
      throw new Error('the day did not run (see beforeAll)');
    }
    return events;
  };
  const throttleJob = () => day().attempts.find((a) => a.job.endsWith('observe-throttle'))?.job ?? '';
  const birthsJob = () => day().attempts.find((a) => a.job.endsWith('observe-births'))?.job ?? '';

  it('fires every due time of the day once, retries the failed run at the same schedule time, and misses the one dropped', () => {
    const runs = (job: string) => new Set(day().attempts.filter((a) => a.job === job).map((a) => a.scheduleTime));
    expect(runs(throttleJob()).size).toBeGreaterThanOrEqual(24);
    expect(runs(birthsJob()).size).toBeGreaterThanOrEqual(12);
    expect(day().missed).toEqual([{ job: throttleJob(), scheduleTime: iso(SCENARIO.missed) }]);
    // Cloud Scheduler sends the same X-CloudScheduler-ScheduleTime on every retry of a run: it is
    // the schedule time of the execution, which handlers use to deduplicate retried executions
    // (cloud.google.com/scheduler/docs/configuring/deduplicate-job-requests); a failed attempt is
    // retried retry_count times after min_backoff (30 s), doubling (.../configuring/retry-jobs).
    const retried = day().attempts.filter((a) => a.scheduleTime === iso(at('06:45')) && a.job === throttleJob());
    expect(retried.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 502],
      [2, 200],
    ]);
    expect(day().attempts.filter((a) => a !== retried[0]).every((a) => a.outcome === 200)).toBe(true);
  });

  it('certifies every birth exactly once, in the window it happened in', () => {
    const certificates = findings('pod.birth');
    const byPod = new Map<string, Set<string>>();
    for (const c of certificates) {
      byPod.set(c.birth.podUid, (byPod.get(c.birth.podUid) ?? new Set()).add(c.id));
    }
    expect([...byPod.keys()].sort()).toEqual(born.map((b) => b.podUid).sort());
    // The recording's pod: its sandbox and its containers, as certified for the day's first birth.
    const podContainers = new Set(certificates.filter((f) => f.birth.podUid === born[0]?.podUid).flatMap((f) => f.birth.containers.map((c) => c.containerId))).size;
    expect(podContainers).toBeGreaterThan(1);
    for (const birth of born) {
      const mine = certificates.filter((f) => f.birth.podUid === birth.podUid);
      // Each container (and the sandbox) in exactly one certificate, as many as the recording's pod
      // has, each in the run of the window that holds its first event (docs/observe.md).
      const containers = mine.flatMap((c) => c.birth.containers.map((container) => ({ container, window: c.observedWindow })));
      const ids = containers.map(({ container }) => container.containerId);
      expect(ids, `containers certified for ${birth.pod}`).toEqual([...new Set(ids)]);
      expect(ids, `containers certified for ${birth.pod}`).toHaveLength(podContainers);
      for (const { container, window } of containers) {
        const first = Date.parse(container.firstEventAt);
        expect(Date.parse(window.start)).toBeLessThanOrEqual(first);
        expect(Date.parse(window.end)).toBeGreaterThan(first);
        expect(first).toBeGreaterThanOrEqual(birth.at.getTime() - 1_000);
      }
    }
    // The cut cascade really was cut: its containers are in the runs on both sides of 07:40.
    // (Only a pod whose containers' first events are apart can be cut: the recording's are.)
    expect((BIRTH_FIRST_EVENTS_MS.at(-1) ?? 0) - (BIRTH_FIRST_EVENTS_MS[0] ?? 0)).toBeGreaterThan(1);
    const cut = born.find((b) => b.at.getTime() === CUT_BIRTH.getTime())!;
    const cutWindows = new Set(certificates.filter((f) => f.birth.podUid === cut.podUid).map((f) => f.observedWindow.end));
    expect([...cutWindows].sort()).toEqual([at('07:40').toISOString(), at('07:50').toISOString()]);
  });

  /** The distinct windows of `kind`'s findings, in order. */
  const windows = (list: readonly Finding[]) =>
    [...new Map(list.map((f) => [`${f.observedWindow.start}/${f.observedWindow.end}`, f.observedWindow])).values()].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  /** Where consecutive windows leave a gap or overlap. */
  const seams = (list: readonly { start: string; end: string }[]) =>
    list.slice(1).flatMap((w, i) => (w.start === list[i]?.end ? [] : [{ after: list[i]?.end, next: w.start }]));

  it('covers the births schedule without a gap or an overlap', () => {
    const covered = windows(findings('pod.birth'));
    expect(seams(covered)).toEqual([]);
    expect([covered[0]?.start, covered.at(-1)?.end]).toEqual([iso(DAY_START), iso(DAY_END)]);
  });

  it('finds every sustained throttle episode, on the run that completes its third window', () => {
    const throttle = findings('cpu.throttle');
    const episodes = [...SCENARIO.cartEpisodes.map((e) => ({ workload: CART, copies: e })), { workload: PAYMENTS, copies: SCENARIO.paymentsEpisode }];
    for (const { workload, copies } of episodes) {
      const lastWindowEnd = new Date(Math.ceil((copies.at(-1)?.getTime() ?? 0) / (5 * MINUTE)) * 5 * MINUTE);
      const found = throttle.find((f) => f.workload.name === workload.deployment && f.observedWindow.end === iso(lastWindowEnd));
      expect(found?.throttle, `${workload.deployment} episode ending ${iso(lastWindowEnd)}`).toMatchObject({ consecutiveWindows: 3 });
    }
    expect(throttle.some((f) => f.workload.name === SEARCH.deployment)).toBe(false);
  });

  it('changes a workload at most once per cooldown: applied, held back, applied after the hour (audit log)', async () => {
    const results = findings('remediation.result').filter((r) => r.workload.name === CART.deployment);
    const applied = results.filter((r) => r.remediation.outcome === 'applied').sort((a, b) => Date.parse(a.producedAt) - Date.parse(b.producedAt));
    expect(applied.map((r) => [r.observedWindow.end, r.remediation.fromLimitMillicores, r.remediation.toLimitMillicores])).toEqual([
      [iso(at('06:30')), 100, 150],
      [iso(at('07:55')), 150, 200],
    ]);
    expect(Date.parse(applied[1]!.producedAt) - Date.parse(applied[0]!.producedAt)).toBeGreaterThanOrEqual(3600_000);
    const held = results.find((r) => r.observedWindow.end === iso(at('07:10')));
    expect(held?.remediation).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/cooldown/) as unknown });
    // The API server's own record: the remediator patched the cart Deployment exactly twice.
    const patches = (await requestsBy(stack!.kube, REMEDIATOR_USER)).filter((r) => r.verb === 'patch' && /\/deployments\/cart(\?|$)/.test(r.requestURI) && r.code !== undefined && r.code < 300);
    expect(patches).toHaveLength(2);
    const payments = findings('remediation.result').filter((r) => r.workload.name === PAYMENTS.deployment);
    expect(payments.some((r) => r.remediation.outcome === 'conflict')).toBe(true);
  });

  // The day injects no poison: remediate and record answer 200 to every push, malformed ones
  // included, and 503 only while the API server fails (docs/deployment.md, "Every push gets a
  // defined answer"), so there is no message a consumer refuses for ever. The emulator does
  // dead-letter (measured: a push endpoint answering 500 got 5 attempts, then the message was on the
  // dead-letter topic, 13 s), so an empty dead-letter subscription here is a result.
  it('dead-letters nothing', () => {
    expect(deadLettered).toEqual([]);
  });

  it('leaves exactly the missed run’s window uncovered (docs/deployment.md "Missed runs"), and the documented manual run backfills it', async () => {
    const throttle = () => findings('cpu.throttle').filter((f) => f.workload.name === REPORT.deployment);
    const gap = { start: iso(new Date(SCENARIO.missed.getTime() - 5 * MINUTE)), end: iso(SCENARIO.missed) };
    const before = windows(throttle());
    expect([before[0]?.start, before.at(-1)?.end]).toEqual([iso(DAY_START), iso(DAY_END)]);
    expect(seams(before)).toEqual([{ after: gap.start, next: gap.end }]);
    // The run after the missed one still counts the missed window in its streak: it reads three.
    expect(throttle().find((f) => f.observedWindow.start === gap.end)?.throttle.consecutiveWindows).toBe(3);
    // The retried 06:45 run published its window once.
    expect(new Set(throttle().filter((f) => f.observedWindow.end === iso(at('06:45'))).map((f) => f.id)).size).toBe(1);

    // The backfill docs/deployment.md gives: POST {start, end} of the missed window.
    const response = await fetch(stack!.functions['observe-throttle'].url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(gap) });
    expect(response.status).toBe(200);
    await waitFor('the backfilled window’s findings', () => Promise.resolve(throttle().some((f) => f.observedWindow.start === gap.start) ? true : undefined), 60_000, 50);
    const after = windows(throttle());
    expect(seams(after)).toEqual([]);
    // Backfilled evidence is older than REMEDIATION_MAX_EVIDENCE_AGE: recorded, never acted on.
    const backfilled = throttle().find((f) => f.observedWindow.start === gap.start);
    await waitFor('remediate’s answer to the backfill', () => Promise.resolve(findings('remediation.result').find((r) => r.remediation.findingId === backfilled?.id)), 60_000, 50).then((result) => {
      expect(result.remediation).toMatchObject({ outcome: 'skipped', refusal: 'stale' });
    });
  });
});
