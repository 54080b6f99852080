/**
 * The report in a real browser: Debian's Chromium, headless, driven by playwright-core. Checks
 * that what is drawn matches the findings' numbers (read back as SVG geometry computed by the
 * browser), that the page asks for nothing over the network, that hostile names stay text, and
 * keeps screenshots under test-results/report/.
 */
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIRTH_TIMELINE } from '../../../cli/report/birth.ts';
import { reportMetaOf } from '../../../cli/report/render.ts';
import { THROTTLE_CHART } from '../../../cli/report/throttle.ts';
import { writeReport } from '../../../cli/report/write.ts';
import type { BirthFinding, Finding, ThrottleFinding } from '../../../shared/findings/types.ts';
import { sampleRun } from '../../unit/report/sample-run.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-results/report');
/** Never dialled: every request is answered by the route below, the page itself from the written file. */
const PAGE_URL = 'http://127.0.0.1/kernel-gossip-report.html';

const run = sampleRun();
/** A workload whose names try to break out of the page; an unescaped one would load or run something. */
const hostile: ThrottleFinding = (() => {
  const base = run.throttles[0];
  if (base === undefined) {
    throw new Error('the sample run has no throttle finding');
  }
  return {
    ...base,
    id: 'hostile0000000000000000000000000',
    namespace: '<script>window.__pwned = 1</script>',
    workload: { kind: 'Deployment', name: '"><img src="http://evil.example/x.png">', container: "</svg><style>body{display:none}</style>" },
    throttle: { ...base.throttle, pods: base.throttle.pods.map((p) => ({ ...p, pod: `<img src=http://evil.example/${p.pod}>` })) },
  };
})();
const findings: Finding[] = [...run.all, hostile];

let dir: string;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const refused: string[] = [];

beforeAll(async () => {
  // Fail with the fix rather than a launch stack trace: the browser comes from dev/setup/apt.sh.
  await access(CHROMIUM, constants.X_OK).catch((error: unknown) => {
    throw new Error(`${CHROMIUM} is needed for the report test (Debian package chromium, installed by dev/setup/apt.sh)`, { cause: error });
  });
  dir = await mkdtemp(path.join(tmpdir(), 'kg-report-'));
  const meta = reportMetaOf(findings, new Date().toISOString(), { cluster: 'lab', source: 'replay', window: run.throttles[0]?.observedWindow ?? { start: '', end: '', seconds: 0 } });
  const written = await writeReport(path.join(dir, 'report.html'), findings, meta);
  const html = await readFile(written.file, 'utf8');
  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1000, height: 900 },
  });
  page = await context.newPage();
  page.on('request', (request) => requests.push(request.url()));
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === PAGE_URL) {
      await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      return;
    }
    refused.push(url);
    await route.abort('blockedbyclient');
  });
  await page.goto(PAGE_URL, { waitUntil: 'load' });
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'report-full.png'), fullPage: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'report-top.png') });
  const cards = page.locator('article.throttle');
  for (let i = 0; i < (await cards.count()); i += 1) {
    await cards.nth(i).screenshot({ path: path.join(ARTIFACTS, `throttle-${String(i + 1)}.png`) });
  }
});

afterAll(async () => {
  await context.close();
  await rm(dir, { recursive: true, force: true });
});

interface Drawn {
  readonly data: Record<string, string>;
  readonly x: number;
  readonly width: number;
  readonly cx: number;
}

/** Elements as the browser laid them out: bounding boxes in SVG user units plus their data attributes. */
const drawn = async (selector: string): Promise<Drawn[]> =>
  page.$$eval(selector, (elements) =>
    elements.map((e) => {
      const box = (e as SVGGraphicsElement).getBBox();
      return { data: Object.fromEntries(Object.entries((e as SVGElement).dataset)) as Record<string, string>, x: box.x, width: box.width, cx: box.x + box.width / 2 };
    }),
  );

/** A drawn shape reduced to what is compared: position and size, or absent (a "not measured" label). */
interface Shape {
  readonly key: string;
  readonly x: number | 'absent';
  readonly width: number | 'absent';
}

const keyOf = (d: Drawn): string => `${d.data['finding'] ?? ''}|${d.data['row'] ?? ''}|${d.data['pod'] ?? ''}|${d.data['kind'] ?? ''}`;

/** Shapes missing, unexpected, or off by more than 0.05 user units (about a hundredth of a pixel on screen). */
const mismatches = (expected: readonly Shape[], actual: readonly Shape[]): string[] => {
  const problems: string[] = [];
  const byKey = new Map(actual.map((a) => [a.key, a]));
  const close = (a: number | 'absent', b: number | 'absent'): boolean => (a === 'absent' || b === 'absent' ? a === b : Math.abs(a - b) <= 0.05);
  for (const e of expected) {
    const a = byKey.get(e.key);
    if (a === undefined) {
      problems.push(`missing ${e.key}`);
    } else if (!close(e.x, a.x) || !close(e.width, a.width)) {
      problems.push(`${e.key}: expected x ${String(e.x)} width ${String(e.width)}, drawn x ${String(a.x)} width ${String(a.width)}`);
    }
    byKey.delete(e.key);
  }
  return [...problems, ...[...byKey.keys()].map((k) => `unexpected ${k}`)];
};

describe('the report in headless Chromium', () => {
  it('loads nothing but the page itself', () => {
    expect(requests).toEqual([PAGE_URL]);
    expect(refused).toEqual([]);
  });

  it('keeps hostile names as text: no script ran, no element was injected', async () => {
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('body').isVisible()).toBe(true);
    const card = page.locator(`article[data-finding="${hostile.id}"] h3`);
    await expect.poll(() => card.textContent()).toContain('<script>window.__pwned = 1</script>');
  });

  it('draws each throttle bar with a width proportional to the finding’s value', async () => {
    const throttles = findings.filter((f): f is ThrottleFinding => f.kind === 'cpu.throttle');
    const expected: Shape[] = [];
    for (const t of throttles) {
      const rows = [
        { row: 'aggregate', pod: '', values: { 'mean-use': t.throttle.meanUseOfLimit, 'throttled-ratio': t.throttle.throttledRatio, 'throttled-seconds': t.throttle.throttledSecondsPerSecond } },
        ...t.throttle.pods.map((p) => ({ row: 'pod', pod: p.pod, values: { 'mean-use': p.meanUseOfLimit, 'throttled-ratio': p.throttledRatio, 'throttled-seconds': p.throttledSecondsPerSecond } })),
      ];
      const recommended = t.throttle.recommendedLimitMillicores !== undefined && t.throttle.expectedThrottledRatio !== undefined;
      const expectedRatio = recommended ? t.throttle.expectedThrottledRatio : undefined;
      for (const [index, kind] of (['mean-use', 'throttled-ratio', 'throttled-seconds'] as const).entries()) {
        const values = rows.map((r) => r.values[kind]).concat(kind === 'throttled-ratio' ? [expectedRatio] : []);
        const scaleMax = Math.max(1, ...values.map((v) => v ?? 0));
        const panelX = THROTTLE_CHART.labelWidth + index * (THROTTLE_CHART.panelWidth + THROTTLE_CHART.panelGap);
        for (const r of rows) {
          const value = r.values[kind];
          expected.push({ key: `${t.id}|${r.row}|${r.pod}|${kind}`, x: value === undefined ? 'absent' : panelX, width: value === undefined ? 'absent' : (value / scaleMax) * THROTTLE_CHART.panelWidth });
        }
        if (kind === 'throttled-ratio' && expectedRatio !== undefined) {
          expected.push({ key: `${t.id}|expected||${kind}`, x: panelX, width: (expectedRatio / scaleMax) * THROTTLE_CHART.panelWidth });
        }
      }
    }
    const bars = await drawn('svg.throttle-chart rect.bar');
    const absent = await drawn('svg.throttle-chart text[data-absent="true"]');
    const actual: Shape[] = [
      ...bars.map((b) => ({ key: keyOf(b), x: b.x, width: b.width })),
      ...absent.map((a) => ({ key: keyOf(a), x: 'absent' as const, width: 'absent' as const })),
    ];
    expect(mismatches(expected, actual)).toEqual([]);
    expect(expected.filter((e) => e.width === 'absent').length).toBeGreaterThan(0);
    expect(expected.length).toBeGreaterThan(20);
  });

  it('draws the current and recommended limits in proportion', async () => {
    const expected: Shape[] = run.throttles.flatMap((t) => {
      const rec = t.throttle.recommendedLimitMillicores;
      if (rec === undefined) {
        return [];
      }
      const scale = Math.max(rec, t.throttle.limitMillicores);
      return [
        { key: `${t.id}|limit-current`, x: 150, width: (t.throttle.limitMillicores / scale) * 300 },
        { key: `${t.id}|limit-recommended`, x: 150, width: (rec / scale) * 300 },
      ];
    });
    const limits = await drawn('svg.limit-chart rect.bar');
    const actual = limits.map((l) => ({ key: `${l.data['finding'] ?? ''}|${l.data['kind'] ?? ''}`, x: l.x, width: l.width }));
    expect(mismatches(expected.filter((e) => !e.key.startsWith(hostile.id)), actual.filter((a) => !a.key.startsWith(hostile.id)))).toEqual([]);
    expect(expected.length).toBeGreaterThanOrEqual(4);
  });

  it('places each birth step at an x proportional to its offset, with the entrypoint marked', async () => {
    const births = findings.filter((f): f is BirthFinding => f.kind === 'pod.birth');
    const expected: Shape[] = [];
    for (const b of births) {
      for (const c of b.birth.containers) {
        const scale = Math.max(1, c.timeToEntrypointNs ?? 0, ...c.steps.map((s) => s.offsetNs));
        const xOf = (ns: number): number => BIRTH_TIMELINE.axisX + (ns / scale) * BIRTH_TIMELINE.axisWidth;
        c.steps.forEach((s, i) => expected.push({ key: `${b.id}|${c.name}|step|${String(i)}|${s.kind}`, x: xOf(s.offsetNs), width: 10 }));
        const entry = c.timeToEntrypointNs;
        expected.push({ key: `${b.id}|${c.name}|entrypoint`, x: entry === undefined ? 'absent' : xOf(entry), width: entry === undefined ? 'absent' : 0 });
      }
    }
    const markers = await page.$$eval('svg.birth-timeline', (svgs) =>
      svgs.flatMap((svg) => {
        const of = (e: Element): { cx: number; width: number } => {
          const box = (e as SVGGraphicsElement).getBBox();
          return { cx: box.x + box.width / 2, width: box.width };
        };
        const id = `${svg.getAttribute('data-finding') ?? ''}|${svg.getAttribute('data-container') ?? ''}`;
        const steps = [...svg.querySelectorAll('circle.step')].map((c) => ({ key: `${id}|step|${c.getAttribute('data-index') ?? ''}|${c.getAttribute('data-kind') ?? ''}`, ...of(c) }));
        const entries = [...svg.querySelectorAll('[data-kind="entrypoint"]')].map((e) =>
          e.getAttribute('data-absent') === 'true' ? { key: `${id}|entrypoint`, cx: Number.NaN, width: Number.NaN } : { key: `${id}|entrypoint`, ...of(e) },
        );
        return [...steps, ...entries];
      }),
    );
    const actual: Shape[] = markers.map((m) => (Number.isNaN(m.cx) ? { key: m.key, x: 'absent', width: 'absent' } : { key: m.key, x: m.cx, width: m.width }));
    expect(mismatches(expected, actual)).toEqual([]);
    expect(expected.length).toBeGreaterThan(20);
  });

  it('joins a split birth certificate into one pod with its sandbox first', async () => {
    const split = run.births.filter((b) => b.birth.parts !== undefined);
    expect(split.length).toBe(2);
    const pod = page.locator(`article.birth[data-pod="${split[0]?.birth.pod ?? ''}"]`);
    expect(await pod.count()).toBe(1);
    expect(await pod.locator('section.container').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset['container']))).toEqual(['POD', 'app']);
    expect(await pod.locator('[data-kind="parts"]').textContent()).toContain('all parts present');
    await pod.screenshot({ path: path.join(ARTIFACTS, 'birth-split-pod.png') });
  });

  it('shows remediation outcomes in the table and on the throttled container they answer', async () => {
    const rows = page.locator('table.remediations tbody tr');
    expect(await rows.count()).toBe(run.remediations.length);
    for (const r of run.remediations) {
      const row = page.locator(`table.remediations tr[data-finding="${r.id}"]`);
      expect(await row.getAttribute('data-outcome')).toBe(r.remediation.outcome);
      const card = page.locator(`article.throttle[data-finding="${r.remediation.findingId}"] [data-kind="remediation-outcome"]`);
      expect(await card.getAttribute('data-outcome')).toBe(r.remediation.outcome);
    }
    const conflict = run.remediations.find((r) => r.remediation.outcome === 'conflict');
    expect(await page.locator(`table.remediations tr[data-finding="${conflict?.id ?? ''}"]`).textContent()).toContain('argocd-controller');
    await page.locator('table.remediations').screenshot({ path: path.join(ARTIFACTS, 'remediations.png') });
    const first = run.throttles[0];
    await page.locator(`article.throttle[data-finding="${first?.id ?? ''}"]`).screenshot({ path: path.join(ARTIFACTS, 'throttle-card.png') });
  });

  it('gives every chart a title and an accessible name', async () => {
    const charts = await page.$$eval('svg.chart', (svgs) => svgs.map((s) => ({ label: s.getAttribute('aria-label') ?? '', role: s.getAttribute('role'), title: s.querySelector(':scope > title')?.textContent ?? '' })));
    expect(charts.length).toBeGreaterThan(5);
    for (const c of charts) {
      expect(c.role).toBe('img');
      expect(c.label.length).toBeGreaterThan(10);
      expect(c.title).toBe(c.label);
    }
  });
});
