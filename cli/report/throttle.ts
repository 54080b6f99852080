/**
 * Per throttled container: what averaged metrics show (mean use of the limit) side by side with what
 * the kernel says (share of periods throttled, throttled time per second), per pod and for the
 * workload, then the verdict, the recommendation and what remediation did about it.
 *
 * Every bar is drawn from the finding's numbers and carries them as data attributes (`data-kind`,
 * `data-value`, `data-pod`, `data-scale-max`), so a test can check the picture against the finding.
 */
import type { RemediationFinding, ThrottleFinding } from '../../shared/findings/types.ts';
import { anchorOf, attrs, el, esc, NOT_MEASURED } from './html.ts';
import { count, formatCpu, percent, perSecond, px, seconds } from './numbers.ts';
import { remediationOutcomeBadge } from './remediation.ts';

/** Geometry of the comparison chart, exported so tests can measure bars against it. */
export const THROTTLE_CHART = {
  width: 900,
  labelWidth: 210,
  panelWidth: 200,
  panelGap: 30,
  headerHeight: 52,
  rowHeight: 30,
  barHeight: 16,
} as const;

/** The three measures, in the order the panels show them. */
export const THROTTLE_MEASURES = ['mean-use', 'throttled-ratio', 'throttled-seconds'] as const;
export type ThrottleMeasure = (typeof THROTTLE_MEASURES)[number];

interface Row {
  readonly label: string;
  readonly pod: string;
  readonly values: Readonly<Record<ThrottleMeasure, number | undefined>>;
  readonly role: 'aggregate' | 'pod' | 'expected';
}

const panelX = (index: number): number => THROTTLE_CHART.labelWidth + index * (THROTTLE_CHART.panelWidth + THROTTLE_CHART.panelGap);

const PANEL_TITLES: Readonly<Record<ThrottleMeasure, string>> = {
  'mean-use': 'mean use of the limit',
  'throttled-ratio': 'periods throttled',
  'throttled-seconds': 'throttled time per second',
};

const formatValue = (measure: ThrottleMeasure, value: number): string =>
  measure === 'throttled-seconds' ? perSecond(value) : percent(value);

/** Scale maxima: ratios of the limit and of periods run 0..1 (more when a value exceeds 1). */
const scaleMaxOf = (rows: readonly Row[], measure: ThrottleMeasure): number =>
  Math.max(1, ...rows.map((r) => r.values[measure] ?? 0));

const rowsOf = (finding: ThrottleFinding): Row[] => {
  const t = finding.throttle;
  const rows: Row[] = [
    {
      label: t.pods.length === 1 ? 'workload (1 pod)' : `workload (${t.pods.length} pods)`,
      pod: '',
      role: 'aggregate',
      values: { 'mean-use': t.meanUseOfLimit, 'throttled-ratio': t.throttledRatio, 'throttled-seconds': t.throttledSecondsPerSecond },
    },
    ...t.pods.map(
      (p): Row => ({
        label: p.pod,
        pod: p.pod,
        role: 'pod',
        values: { 'mean-use': p.meanUseOfLimit, 'throttled-ratio': p.throttledRatio, 'throttled-seconds': p.throttledSecondsPerSecond },
      }),
    ),
  ];
  if (t.recommendedLimitMillicores !== undefined && t.expectedThrottledRatio !== undefined) {
    rows.push({
      label: `expected at ${formatCpu(t.recommendedLimitMillicores)}`,
      pod: '',
      role: 'expected',
      values: { 'mean-use': undefined, 'throttled-ratio': t.expectedThrottledRatio, 'throttled-seconds': undefined },
    });
  }
  return rows;
};

const truncate = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const barCell = (finding: ThrottleFinding, row: Row, measure: ThrottleMeasure, index: number, y: number, scaleMax: number): string => {
  const x = panelX(index);
  const value = row.values[measure];
  const base = { 'data-finding': finding.id, 'data-pod': row.pod, 'data-row': row.role, 'data-kind': measure };
  if (value === undefined) {
    if (row.role === 'expected') {
      return '';
    }
    return el('text', { ...base, 'data-absent': 'true', x: x + 4, y: y + THROTTLE_CHART.barHeight - 3, class: 'absent-text' }, 'not measured');
  }
  const width = px((Math.max(0, value) / scaleMax) * THROTTLE_CHART.panelWidth);
  const label = `${row.label}: ${PANEL_TITLES[measure]} ${formatValue(measure, value)}`;
  const bar = el(
    'rect',
    { ...base, 'data-value': value, 'data-scale-max': scaleMax, x, y, width, height: THROTTLE_CHART.barHeight, class: `bar bar-${measure} bar-${row.role}`, role: 'img', 'aria-label': label },
    el('title', {}, esc(label)),
  );
  const textX = width > THROTTLE_CHART.panelWidth - 60 ? x + width - 4 : x + width + 4;
  const anchor = width > THROTTLE_CHART.panelWidth - 60 ? 'end' : 'start';
  const text = el(
    'text',
    { x: px(textX), y: y + THROTTLE_CHART.barHeight - 3, 'text-anchor': anchor, class: anchor === 'end' ? 'bar-value inside' : 'bar-value' },
    esc(formatValue(measure, value)),
  );
  return bar + text;
};

/** Thresholds of the analysis that have a place on a panel (others are listed in the legend only). */
const THRESHOLD_MARKS: Readonly<Record<string, { measure: ThrottleMeasure; label: string }>> = {
  minThrottledRatio: { measure: 'throttled-ratio', label: 'throttled ratio that counts as throttling' },
  throttledRatio: { measure: 'throttled-ratio', label: 'throttled ratio that counts as throttling' },
  targetThrottledRatio: { measure: 'throttled-ratio', label: 'target throttled ratio for a new limit' },
  saturatedUseShare: { measure: 'mean-use', label: 'mean use at which the limit is simply too low' },
  metricsLieMeanUse: { measure: 'mean-use', label: 'mean use under which throttling means metrics lie' },
};

const thresholdMarks = (finding: ThrottleFinding, height: number, scales: Readonly<Record<ThrottleMeasure, number>>): string => {
  const marks: string[] = [];
  const at = (measure: ThrottleMeasure, value: number, label: string, kind: string): void => {
    const index = THROTTLE_MEASURES.indexOf(measure);
    const x = px(panelX(index) + (value / scales[measure]) * THROTTLE_CHART.panelWidth);
    marks.push(
      el('line', { x1: x, x2: x, y1: THROTTLE_CHART.headerHeight - 6, y2: height - 4, class: `mark mark-${kind}`, 'data-kind': kind, 'data-measure': measure, 'data-value': value },
        el('title', {}, esc(`${label}: ${formatValue(measure, value)}`))),
    );
  };
  at('mean-use', 1, 'the limit', 'limit');
  for (const threshold of finding.throttle.thresholds) {
    const mark = THRESHOLD_MARKS[threshold.name];
    if (mark !== undefined && threshold.value > 0) {
      at(mark.measure, threshold.value, mark.label, 'threshold');
    }
  }
  return marks.join('');
};

/** The metrics-view / kernel-view comparison chart of one throttle finding. */
export const throttleChart = (finding: ThrottleFinding): string => {
  const rows = rowsOf(finding);
  const c = THROTTLE_CHART;
  const height = c.headerHeight + rows.length * c.rowHeight + 8;
  const scales = {
    'mean-use': scaleMaxOf(rows, 'mean-use'),
    'throttled-ratio': scaleMaxOf(rows, 'throttled-ratio'),
    'throttled-seconds': scaleMaxOf(rows, 'throttled-seconds'),
  } as const;
  const parts: string[] = [];
  parts.push(el('text', { x: panelX(0), y: 16, class: 'group-title metrics' }, 'What averaged metrics show'));
  parts.push(el('text', { x: panelX(1), y: 16, class: 'group-title kernel' }, 'What the kernel says'));
  THROTTLE_MEASURES.forEach((measure, index) => {
    parts.push(el('text', { x: panelX(index), y: 36, class: 'panel-title' }, `${esc(PANEL_TITLES[measure])} (0–${esc(formatValue(measure, scales[measure]))})`));
    parts.push(
      el('rect', {
        x: panelX(index), y: c.headerHeight - 6, width: c.panelWidth, height: rows.length * c.rowHeight + 4,
        class: 'panel', 'data-role': 'panel', 'data-kind': measure, 'data-scale-max': scales[measure],
      }),
    );
  });
  rows.forEach((row, r) => {
    const y = c.headerHeight + r * c.rowHeight;
    parts.push(el('text', { x: 4, y: y + c.barHeight - 3, class: `row-label row-${row.role}` }, esc(truncate(row.label, 30)) + el('title', {}, esc(row.label))));
    THROTTLE_MEASURES.forEach((measure, index) => {
      parts.push(barCell(finding, row, measure, index, y, scales[measure]));
    });
  });
  parts.push(thresholdMarks(finding, height, scales));
  const where = `${finding.namespace}/${finding.workload.name} ${finding.workload.container}`;
  const label = `Metrics view against kernel view for ${where}`;
  return el(
    'svg',
    { class: 'chart throttle-chart', viewBox: `0 0 ${c.width} ${height}`, width: c.width, height, role: 'img', 'aria-label': label, 'data-finding': finding.id },
    el('title', {}, esc(label)) + parts.join(''),
  );
};

/** Current against recommended limit, bars proportional to millicores. */
const limitChart = (finding: ThrottleFinding): string => {
  const t = finding.throttle;
  if (t.recommendedLimitMillicores === undefined) {
    return '';
  }
  const width = 520;
  const scale = Math.max(t.limitMillicores, t.recommendedLimitMillicores);
  const bars = [
    { kind: 'limit-current', label: 'current limit', value: t.limitMillicores },
    { kind: 'limit-recommended', label: 'recommended limit', value: t.recommendedLimitMillicores },
  ];
  const body = bars
    .map((b, i) => {
      const y = 6 + i * 24;
      const w = px(scale === 0 ? 0 : (b.value / scale) * 300);
      return (
        el('text', { x: 4, y: y + 13, class: 'row-label' }, esc(b.label)) +
        el('rect', { x: 150, y, width: w, height: 16, class: `bar bar-${b.kind}`, 'data-kind': b.kind, 'data-value': b.value, 'data-scale-max': scale, 'data-finding': finding.id },
          el('title', {}, esc(`${b.label}: ${formatCpu(b.value)}`))) +
        el('text', { x: px(150 + w + 6), y: y + 13, class: 'bar-value' }, esc(formatCpu(b.value)))
      );
    })
    .join('');
  const label = `CPU limit ${formatCpu(t.limitMillicores)} against recommended ${formatCpu(t.recommendedLimitMillicores)}`;
  return el('svg', { class: 'chart limit-chart', viewBox: `0 0 ${width} 56`, width, height: 56, role: 'img', 'aria-label': label }, el('title', {}, esc(label)) + body);
};

const legend = (finding: ThrottleFinding): string => {
  const marks = finding.throttle.thresholds
    .filter((t) => THRESHOLD_MARKS[t.name] !== undefined && t.value > 0)
    .map((t) => `${esc(THRESHOLD_MARKS[t.name]?.label ?? t.name)} ${esc(percent(t.value))}`);
  return `<p class="legend">Dashed line: the CPU limit (100% of it).${marks.length === 0 ? '' : ` Dotted lines: ${marks.join('; ')}.`} Bold row: the workload as a whole.</p>`;
};

const countersTable = (finding: ThrottleFinding): string => {
  const head = ['pod', 'node', 'periods', 'throttled periods', 'throttled time', 'quota / period', 'burst', 'CPU used', 'counter reset'];
  const rows = finding.throttle.pods.map((p) => {
    const c = p.counters;
    const burst = c.burstUs === undefined ? NOT_MEASURED : `${esc(count(c.burstUs))} µs${c.bursts === undefined ? '' : `, ${esc(count(c.bursts))} bursts`}`;
    const cells = [
      esc(p.pod), esc(p.node), esc(count(c.periods)), esc(count(c.throttledPeriods)), esc(seconds(c.throttledTimeNs)),
      `${esc(count(c.quotaUs))} µs / ${esc(count(c.periodUs))} µs`, burst,
      p.cpuSeconds === undefined ? NOT_MEASURED : esc(`${p.cpuSeconds.toFixed(2)} CPU·s`),
      p.counterReset ? '<strong>yes</strong> (counters restarted in the window)' : 'no',
    ];
    return `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;
  });
  return `<table class="counters"><caption>Kernel CFS bandwidth counters over the window</caption><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
};

const recommendation = (finding: ThrottleFinding): string => {
  const t = finding.throttle;
  if (t.recommendedLimitMillicores === undefined) {
    return `<p class="recommendation">Limit ${esc(formatCpu(t.limitMillicores))}; no new limit recommended.</p>`;
  }
  const expected = t.expectedThrottledRatio === undefined ? NOT_MEASURED : esc(percent(t.expectedThrottledRatio));
  const act = t.actionRecommended
    ? `act now (${esc(t.consecutiveWindows)} consecutive window${t.consecutiveWindows === 1 ? '' : 's'})`
    : `watching (${esc(t.consecutiveWindows)} consecutive window${t.consecutiveWindows === 1 ? '' : 's'} so far)`;
  return (
    `<p class="recommendation" data-kind="recommendation" data-current="${esc(t.limitMillicores)}" data-recommended="${esc(t.recommendedLimitMillicores)}">` +
    `Recommended limit: <strong>${esc(formatCpu(t.limitMillicores))} → ${esc(formatCpu(t.recommendedLimitMillicores))}</strong>, ` +
    `expected throttled periods ${expected}; ${act}.</p>`
  );
};

const remediationLine = (result: RemediationFinding): string => {
  const r = result.remediation;
  const change = r.fromLimitMillicores !== undefined && r.toLimitMillicores !== undefined ? ` ${esc(formatCpu(r.fromLimitMillicores))} → ${esc(formatCpu(r.toLimitMillicores))}` : '';
  const manager = r.conflictingManager === undefined ? '' : `; field owned by <code>${esc(r.conflictingManager)}</code>`;
  return `<li data-kind="remediation-outcome" data-outcome="${esc(r.outcome)}">${remediationOutcomeBadge(r.outcome)}${change} in ${esc(r.mode)} mode: ${esc(r.reason)}${manager}</li>`;
};

/** One throttled container: chart, verdict, recommendation, remediation outcome, counters. */
export const throttleSection = (finding: ThrottleFinding, results: readonly RemediationFinding[]): string => {
  const t = finding.throttle;
  const container = finding.workload.container === '' ? '' : ` · container <code>${esc(finding.workload.container)}</code>`;
  const remediation =
    results.length === 0
      ? '<p class="remediation-none">No remediation result for this finding in this run.</p>'
      : `<ul class="remediation-outcomes">${results.map(remediationLine).join('')}</ul>`;
  return (
    `<article class="card throttle severity-${esc(finding.severity)}" id="${esc(anchorOf(finding.id))}"${attrs({ 'data-finding': finding.id, 'data-verdict': t.verdict })}>` +
    `<h3>${esc(finding.namespace)}/${esc(finding.workload.name)} <span class="kind">${esc(finding.workload.kind)}</span>${container}</h3>` +
    `<p class="verdict"><span class="badge verdict-${esc(t.verdict)}">${esc(t.verdict)}</span> <span class="badge severity-${esc(finding.severity)}">${esc(finding.severity)}</span> ${esc(t.reason)}</p>` +
    `<p class="summary-line">${esc(finding.summary)}</p>` +
    throttleChart(finding) +
    legend(finding) +
    recommendation(finding) +
    limitChart(finding) +
    `<h4>Remediation</h4>${remediation}` +
    countersTable(finding) +
    `<p class="meta">Window ${esc(finding.observedWindow.start)} – ${esc(finding.observedWindow.end)} (${esc(finding.observedWindow.seconds)} s) · source ${esc(finding.source)} · finding <code>${esc(finding.id)}</code></p>` +
    `</article>`
  );
};
