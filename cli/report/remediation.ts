/** Remediation results: what was done about each finding, or why nothing was. */
import type { RemediationFinding, RemediationOutcome, ThrottleFinding } from '../../shared/findings/types.ts';
import { anchorOf, attrs, esc, NOT_MEASURED } from './html.ts';
import { formatCpu } from './numbers.ts';

/** The outcome as a coloured badge (the colour repeats what the word says). */
export const remediationOutcomeBadge = (outcome: RemediationOutcome): string =>
  `<span class="badge outcome-${esc(outcome)}">${esc(outcome)}</span>`;

/** All remediation results as one table; each links to the throttle finding it answers when that is in the report. */
export const remediationTable = (results: readonly RemediationFinding[], throttles: readonly ThrottleFinding[]): string => {
  if (results.length === 0) {
    return '<p class="empty">No remediation results in this run.</p>';
  }
  const known = new Set(throttles.map((t) => t.id));
  const head = ['workload', 'container', 'outcome', 'mode', 'limit change', 'pods resized', 'reason', 'conflicting manager', 'finding'];
  const rows = results.map((f) => {
    const r = f.remediation;
    const change =
      r.fromLimitMillicores === undefined && r.toLimitMillicores === undefined
        ? '—'
        : `${r.fromLimitMillicores === undefined ? NOT_MEASURED : esc(formatCpu(r.fromLimitMillicores))} → ${r.toLimitMillicores === undefined ? NOT_MEASURED : esc(formatCpu(r.toLimitMillicores))}`;
    const finding = known.has(r.findingId)
      ? `<a href="#${esc(anchorOf(r.findingId))}"><code>${esc(r.findingId.slice(0, 12))}</code></a>`
      : `<code>${esc(r.findingId.slice(0, 12))}</code> (not in this report)`;
    const cells = [
      `${esc(f.namespace)}/${esc(f.workload.name)} <span class="kind">${esc(f.workload.kind)}</span>`,
      f.workload.container === '' ? '—' : `<code>${esc(f.workload.container)}</code>`,
      remediationOutcomeBadge(r.outcome),
      esc(r.mode),
      change,
      esc(r.podsResized),
      esc(r.reason),
      r.conflictingManager === undefined ? '—' : `<code>${esc(r.conflictingManager)}</code>`,
      finding,
    ];
    return `<tr${attrs({ 'data-kind': 'remediation', 'data-outcome': r.outcome, 'data-finding': f.id, 'data-for': r.findingId })}>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  return `<table class="remediations"><caption>Remediation results</caption><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
};
