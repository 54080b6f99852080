/**
 * The kernel-gossip HTML report: one self-contained page (inline CSS and SVG, no script, no
 * network resource; a Content-Security-Policy forbids loading anything) drawn from findings.
 *
 * Pure: findings and run metadata in, one HTML string out. Every value from a finding is escaped
 * (`html.ts`), because findings carry user-controlled names.
 *
 * @module
 */
import type {
  BirthFinding,
  Finding,
  KernelSource,
  ObservedWindow,
  RemediationFinding,
  ThrottleFinding,
} from '../../shared/findings/types.ts';
import { FINDING_KINDS, REMEDIATION_OUTCOMES, FINDING_SEVERITIES } from '../../shared/findings/types.ts';
import { birthSection, groupBirths } from './birth.ts';
import { esc } from './html.ts';
import { remediationTable } from './remediation.ts';
import { REPORT_CSS } from './style.ts';
import { throttleSection } from './throttle.ts';

/** What the report says about the run that produced the findings. */
export interface ReportMeta {
  /** Cluster observed (several joined with ", " when a run spans more than one). */
  readonly cluster: string;
  /** The window the kernel was observed over. */
  readonly window: ObservedWindow;
  /** Where the kernel truth came from. */
  readonly source: KernelSource;
  /** When the report was produced (RFC 3339). */
  readonly producedAt: string;
  /** Page title; defaults to "kernel-gossip report". */
  readonly title?: string;
}

const SOURCE_TEXT: Readonly<Record<KernelSource, string>> = {
  pixie: 'pixie: live eBPF on the cluster nodes through Pixie',
  local: 'local: this host’s kernel through the local bpftrace',
  replay: 'replay: recorded kernel data',
};

const SEVERITY_RANK: Readonly<Record<string, number>> = { critical: 0, warning: 1, info: 2 };

const countTable = (caption: string, kind: string, counts: readonly (readonly [string, number])[]): string =>
  `<table><caption>${esc(caption)}</caption><tbody>${counts
    .map(([name, n]) => `<tr data-summary="${esc(kind)}" data-name="${esc(name)}" data-value="${esc(n)}"><td>${esc(name)}</td><td class="n">${esc(n)}</td></tr>`)
    .join('')}</tbody></table>`;

const tally = (names: readonly string[], fixed: readonly string[] = []): [string, number][] => {
  const counts = new Map<string, number>(fixed.map((n) => [n, 0]));
  for (const n of names) {
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return [...counts];
};

const summary = (findings: readonly Finding[], throttles: readonly ThrottleFinding[], results: readonly RemediationFinding[]): string =>
  `<div class="summary-grid">` +
  countTable('Findings by kind', 'kind', tally(findings.map((f) => f.kind), FINDING_KINDS)) +
  countTable('Findings by severity', 'severity', tally(findings.map((f) => f.severity), FINDING_SEVERITIES)) +
  (throttles.length === 0 ? '' : countTable('Throttle verdicts', 'verdict', tally(throttles.map((t) => t.throttle.verdict)))) +
  countTable('Remediation outcomes', 'outcome', tally(results.map((r) => r.remediation.outcome), REMEDIATION_OUTCOMES)) +
  `</div>`;

const header = (meta: ReportMeta, title: string): string =>
  `<header class="report"><h1>${esc(title)}</h1><dl>` +
  `<dt>cluster</dt><dd data-meta="cluster">${esc(meta.cluster)}</dd>` +
  `<dt>window</dt><dd data-meta="window">${esc(meta.window.start)} – ${esc(meta.window.end)} (${esc(meta.window.seconds)} s)</dd>` +
  `<dt>source</dt><dd data-meta="source" data-value="${esc(meta.source)}">${esc(SOURCE_TEXT[meta.source])}</dd>` +
  `<dt>produced</dt><dd data-meta="produced">${esc(meta.producedAt)}</dd>` +
  `</dl></header>`;

/** Renders findings as one self-contained HTML page. */
export const renderReport = (findings: readonly Finding[], meta: ReportMeta): string => {
  const throttles = findings
    .filter((f): f is ThrottleFinding => f.kind === 'cpu.throttle')
    .sort((a, b) => (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) || b.throttle.throttledRatio - a.throttle.throttledRatio);
  const births = findings.filter((f): f is BirthFinding => f.kind === 'pod.birth');
  const results = findings.filter((f): f is RemediationFinding => f.kind === 'remediation.result');
  const title = meta.title ?? 'kernel-gossip report';
  const pods = groupBirths(births);
  const body = [
    header(meta, title),
    '<main>',
    '<h2 id="summary">Summary</h2>',
    summary(findings, throttles, results),
    '<h2 id="throttling">CPU throttling: metrics against the kernel</h2>',
    throttles.length === 0
      ? '<p class="empty">No CPU throttle findings in this run.</p>'
      : '<p>Left, the mean CPU use over the window as a share of the limit: what averaged metrics show. Right, the kernel’s own CFS counters: the share of enforcement periods in which the container was throttled, and the time it spent waiting per second.</p>' +
        throttles.map((t) => throttleSection(t, results.filter((r) => r.remediation.findingId === t.id))).join(''),
    '<h2 id="births">Pod birth certificates</h2>',
    pods.length === 0
      ? '<p class="empty">No pod births in this run.</p>'
      : '<p>Each container’s birth as the kernel saw it, from its first cgroup to the exec of its entrypoint. Hover a marker for the step; the table under each timeline lists every step.</p>' +
        pods.map(birthSection).join(''),
    '<h2 id="remediation">Remediation results</h2>',
    remediationTable(results, throttles),
    `<footer>Generated by kernel-gossip from ${esc(findings.length)} finding${findings.length === 1 ? '' : 's'}. Values the kernel did not measure are shown as “not measured”, never as zero.</footer>`,
    '</main>',
  ].join('\n');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)} · ${esc(meta.cluster)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
};

/** An observation window as the report shows it, from the instants a caller holds. */
export const windowOf = (start: Date, end: Date): ObservedWindow => ({
  start: start.toISOString(),
  end: end.toISOString(),
  seconds: Math.max(0, (end.getTime() - start.getTime()) / 1000),
});

/**
 * Run metadata read from the findings themselves, for callers that have nothing better: the
 * clusters seen, the span of their windows, and the most common source.
 */
export const reportMetaOf = (findings: readonly Finding[], producedAt: string, fallback: Omit<ReportMeta, 'producedAt'>): ReportMeta => {
  if (findings.length === 0) {
    return { ...fallback, producedAt };
  }
  const clusters = [...new Set(findings.map((f) => f.cluster))].sort();
  const starts = findings.map((f) => f.observedWindow.start).sort();
  const ends = findings.map((f) => f.observedWindow.end).sort();
  const start = starts[0] ?? fallback.window.start;
  const end = ends[ends.length - 1] ?? fallback.window.end;
  const seconds = Math.max(0, (Date.parse(end) - Date.parse(start)) / 1000);
  const sources = tally(findings.map((f) => f.source)).sort((a, b) => b[1] - a[1]);
  return {
    ...fallback,
    cluster: clusters.join(', '),
    window: { start, end, seconds: Number.isFinite(seconds) ? seconds : fallback.window.seconds },
    source: (sources[0]?.[0] as KernelSource | undefined) ?? fallback.source,
    producedAt,
  };
};
