/**
 * Pod birth certificates as timelines: per container, every step the kernel saw (cgroups,
 * namespaces, mounts, pivot_root, exec) placed at its offset from the container's first event,
 * with the durations between phases, the time to the entrypoint, and the facts of the birth.
 *
 * Markers carry `data-kind` (the step kind), `data-phase`, `data-offset-ns` and `data-value`; the
 * axis carries `data-axis-x`, `data-axis-width` and `data-scale-max-ns`, so a test can check that
 * x positions are proportional to offsets.
 */
import type { BirthFinding, BirthStep, ContainerBirth } from '../../shared/findings/types.ts';
import { anchorOf, attrs, el, esc, NOT_MEASURED } from './html.ts';
import { count, ms, px } from './numbers.ts';

/** Geometry of a timeline, exported so tests can measure positions against it. */
export const BIRTH_TIMELINE = { width: 900, axisX: 130, axisWidth: 730, top: 28, laneHeight: 26 } as const;

export const PHASES = ['cgroups', 'namespaces', 'mounts', 'pivot_root', 'exec', 'other'] as const;
export type Phase = (typeof PHASES)[number];

/** Which lane a step kind belongs to (unknown kinds go to `other`, never dropped). */
export const phaseOf = (kind: string): Phase => {
  if (kind.startsWith('cgroup')) {
    return 'cgroups';
  }
  if (kind === 'unshare' || kind === 'clone' || kind === 'clone3' || kind === 'setns') {
    return 'namespaces';
  }
  if (kind === 'mount' || kind === 'umount') {
    return 'mounts';
  }
  if (kind === 'pivot_root') {
    return 'pivot_root';
  }
  if (kind === 'exec' || kind === 'entrypoint_exec') {
    return 'exec';
  }
  return 'other';
};

/** The timeline's time span: the last step or the entrypoint, whichever is later (1 ns at least). */
export const timelineScaleNs = (c: ContainerBirth): number =>
  Math.max(1, c.timeToEntrypointNs ?? 0, ...c.steps.map((s) => s.offsetNs));

const ticks = (scaleNs: number, y: number, bottom: number): string => {
  const t = BIRTH_TIMELINE;
  return [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const x = px(t.axisX + f * t.axisWidth);
      return (
        el('line', { x1: x, x2: x, y1: y, y2: bottom, class: 'tick' }) +
        el('text', { x, y: y - 6, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle', class: 'tick-label' }, esc(ms(f * scaleNs)))
      );
    })
    .join('');
};

const stepTitle = (step: BirthStep, previous: BirthStep | undefined): string => {
  const since = previous === undefined ? '' : ` (+${ms(step.offsetNs - previous.offsetNs)} after the previous step)`;
  return `${step.kind} ${step.detail} at ${ms(step.offsetNs)}${since}, pid ${step.pid}`;
};

/** Durations between phases: from the first step of one phase to the first step of the next one seen. */
const phaseGaps = (steps: readonly BirthStep[]): { from: Phase; to: Phase; startNs: number; endNs: number }[] => {
  const firsts: { phase: Phase; offsetNs: number }[] = [];
  for (const s of steps) {
    const phase = phaseOf(s.kind);
    if (phase !== 'other' && !firsts.some((f) => f.phase === phase)) {
      firsts.push({ phase, offsetNs: s.offsetNs });
    }
  }
  return firsts.slice(1).map((f, i) => {
    const prev = firsts[i] ?? f;
    return { from: prev.phase, to: f.phase, startNs: prev.offsetNs, endNs: f.offsetNs };
  });
};

/** The SVG timeline of one container's birth. */
export const birthTimeline = (finding: BirthFinding, c: ContainerBirth): string => {
  const t = BIRTH_TIMELINE;
  const scaleNs = timelineScaleNs(c);
  const xOf = (ns: number): number => px(t.axisX + (ns / scaleNs) * t.axisWidth);
  const lanes = PHASES.filter((p) => p !== 'other' || c.steps.some((s) => phaseOf(s.kind) === 'other'));
  const lanesTop = t.top + 10;
  const gapsY = lanesTop + lanes.length * t.laneHeight + 8;
  const gaps = phaseGaps(c.steps);
  const height = gapsY + (gaps.length > 0 ? gaps.length * 18 + 6 : 0) + 30;
  const parts: string[] = [ticks(scaleNs, t.top, gapsY - 4)];
  lanes.forEach((phase, i) => {
    const y = lanesTop + i * t.laneHeight;
    const inLane = c.steps.filter((s) => phaseOf(s.kind) === phase);
    parts.push(el('text', { x: 4, y: y + 16, class: `lane-label phase-${phase}` }, esc(phase)));
    parts.push(el('line', { x1: t.axisX, x2: t.axisX + t.axisWidth, y1: y + 12, y2: y + 12, class: 'lane' }));
    const first = inLane[0];
    const last = inLane[inLane.length - 1];
    if (first === undefined || last === undefined) {
      const empty = c.stepsOmitted === undefined ? 'none seen' : 'none among the steps kept';
      parts.push(el('text', { x: t.axisX + 6, y: y + 16, class: 'absent-text', 'data-kind': 'lane-empty', 'data-phase': phase }, empty));
      return;
    }
    if (last.offsetNs > first.offsetNs) {
      parts.push(el('rect', { x: xOf(first.offsetNs), y: y + 6, width: px(xOf(last.offsetNs) - xOf(first.offsetNs)), height: 12, rx: 3, class: `span phase-${phase}`, 'data-kind': 'phase-span', 'data-phase': phase, 'data-start-ns': first.offsetNs, 'data-end-ns': last.offsetNs }));
    }
  });
  c.steps.forEach((step, index) => {
    const phase = phaseOf(step.kind);
    const lane = lanes.indexOf(phase);
    const y = lanesTop + lane * t.laneHeight + 12;
    const title = stepTitle(step, c.steps[index - 1]);
    parts.push(
      el('circle', {
        cx: xOf(step.offsetNs), cy: y, r: 5, class: `step phase-${phase}`,
        'data-kind': step.kind, 'data-phase': phase, 'data-offset-ns': step.offsetNs, 'data-value': step.offsetNs, 'data-index': index,
        'data-container': c.name, role: 'img', 'aria-label': title,
      }, el('title', {}, esc(title))),
    );
  });
  if (c.timeToEntrypointNs === undefined) {
    parts.push(el('text', { x: t.axisX + t.axisWidth, y: t.top - 6 + 18, 'text-anchor': 'end', class: 'absent-text', 'data-kind': 'entrypoint', 'data-absent': 'true' }, 'entrypoint: not measured'));
  } else {
    const x = xOf(c.timeToEntrypointNs);
    parts.push(
      el('line', { x1: x, x2: x, y1: t.top, y2: gapsY - 4, class: 'entrypoint', 'data-kind': 'entrypoint', 'data-value': c.timeToEntrypointNs, 'data-offset-ns': c.timeToEntrypointNs },
        el('title', {}, esc(`entrypoint exec after ${ms(c.timeToEntrypointNs)}`))),
    );
  }
  gaps.forEach((g, i) => {
    const y = gapsY + i * 18;
    const x1 = xOf(g.startNs);
    const x2 = xOf(g.endNs);
    const label = `${g.from} → ${g.to}: ${ms(g.endNs - g.startNs)}`;
    const labelWidth = 8 + label.length * 6.2;
    const right = x2 + 6 + labelWidth <= t.axisX + t.axisWidth + 30;
    const left = x1 - 6 - labelWidth >= t.axisX;
    const labelAt = right ? { x: px(x2 + 6), anchor: 'start' } : left ? { x: px(x1 - 6), anchor: 'end' } : { x: px((x1 + x2) / 2), anchor: 'middle' };
    parts.push(
      el('line', { x1, x2, y1: y + 6, y2: y + 6, class: 'gap', 'data-kind': 'gap', 'data-value': g.endNs - g.startNs, 'data-from': g.from, 'data-to': g.to }, el('title', {}, esc(label))) +
        el('text', { x: labelAt.x, y: right || left ? y + 10 : y + 2, 'text-anchor': labelAt.anchor, class: 'gap-label' }, esc(label)),
    );
  });
  if (gaps.length > 0) {
    parts.push(el('text', { x: 4, y: gapsY + 10, class: 'lane-label' }, 'durations'));
  }
  const omitted = c.stepsOmitted === undefined ? '' : `; ${c.stepsOmitted} later step${c.stepsOmitted === 1 ? '' : 's'} not kept`;
  parts.push(el('text', { x: t.axisX, y: height - 8, class: 'axis-caption' }, esc(`time since the container's first kernel event (${c.firstEventAt})${omitted}`)));
  const label = `Birth timeline of ${c.sandbox ? 'the sandbox' : `container ${c.name}`} of pod ${finding.birth.pod}: ${c.steps.length} steps over ${ms(scaleNs)}`;
  return el(
    'svg',
    {
      class: 'chart birth-timeline', viewBox: `0 0 ${t.width} ${height}`, width: t.width, height, role: 'img', 'aria-label': label,
      'data-finding': finding.id, 'data-container': c.name, 'data-scale-max-ns': scaleNs, 'data-axis-x': t.axisX, 'data-axis-width': t.axisWidth,
    },
    el('title', {}, esc(label)) + parts.join(''),
  );
};

const list = (items: readonly string[], empty: string): string =>
  items.length === 0 ? `<span class="none">${empty}</span>` : items.map((i) => `<code>${esc(i)}</code>`).join(', ');

/** What a probe that did not watch an event kind shows instead of "none seen". */
const NOT_WATCHED = '<span class="absent">not watched by the always-on probe</span>';

const facts = (c: ContainerBirth, captured: readonly string[]): string => {
  const rows: [string, string][] = [
    ['time to entrypoint', c.timeToEntrypointNs === undefined ? NOT_MEASURED : `<strong data-kind="time-to-entrypoint" data-value="${esc(c.timeToEntrypointNs)}">${esc(ms(c.timeToEntrypointNs))}</strong>`],
    ['entrypoint', c.entrypoint === undefined ? NOT_MEASURED : `<code>${esc(c.entrypoint)}</code>${c.entrypointExecAt === undefined ? '' : ` at ${esc(c.entrypointExecAt)}`}`],
    ['cgroups created', list(c.cgroupsCreated, 'none seen')],
    ['limit files written', !captured.includes('cgroup_write') ? NOT_WATCHED : c.limitWrites.length === 0 ? '<span class="none">none seen</span>' : c.limitWrites.map((w) => `<code>${esc(w.file)}</code> = <code>${esc(w.value)}</code>`).join(', ')],
    ['namespaces created', list(c.namespacesCreated, 'none seen')],
    ['namespaces joined', list(c.namespacesJoined, 'none seen')],
    ['mounts', c.mounts.length === 0 ? '<span class="none">none seen</span>' : `${esc(c.mounts.length)}: ${c.mounts.slice(0, 8).map((m) => `<code>${esc(m.source)}</code> → <code>${esc(m.target)}</code> (${esc(m.fstype)})`).join(', ')}${c.mounts.length > 8 ? `, and ${esc(c.mounts.length - 8)} more` : ''}`],
    ['pivot_root', c.pivotRoot === undefined ? NOT_MEASURED : `<code>${esc(c.pivotRoot)}</code>`],
    ['execs', list(c.execs, 'none seen')],
    ['runtime syscalls', !captured.includes('syscall') ? NOT_WATCHED : c.runtimeSyscalls === undefined ? NOT_MEASURED : `<span data-kind="runtime-syscalls" data-value="${esc(c.runtimeSyscalls)}">${esc(count(c.runtimeSyscalls))}</span> until the entrypoint`],
    ['syscalls by name', !captured.includes('syscall') ? NOT_WATCHED : c.syscalls.length === 0 ? NOT_MEASURED : [...c.syscalls].sort((a, b) => b.count - a.count).map((s) => `<code>${esc(s.name)}</code> ${esc(count(s.count))}`).join(', ')],
  ];
  return `<dl class="facts">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
};

const stepsTable = (c: ContainerBirth): string => {
  const rows = c.steps.map((s, i) => {
    const prev = c.steps[i - 1];
    return `<tr><td>${esc(ms(s.offsetNs))}</td><td>${prev === undefined ? '—' : `+${esc(ms(s.offsetNs - prev.offsetNs))}`}</td><td>${esc(s.kind)}</td><td><code>${esc(s.detail)}</code></td><td>${esc(s.pid)}</td></tr>`;
  });
  const omitted = c.stepsOmitted === undefined ? '' : `<p class="note">${esc(count(c.stepsOmitted))} later step${c.stepsOmitted === 1 ? ' was' : 's were'} left out to fit the message size limit; the facts above are whole.</p>`;
  return `<details><summary>${esc(c.steps.length)} steps</summary><table class="steps"><thead><tr><th scope="col">offset</th><th scope="col">since previous</th><th scope="col">kind</th><th scope="col">detail</th><th scope="col">pid</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>${omitted}`;
};

const containerCard = (finding: BirthFinding, c: ContainerBirth): string =>
  `<section class="container${c.sandbox ? ' sandbox' : ''}"${attrs({ 'data-container': c.name, 'data-sandbox': c.sandbox })}>` +
  `<h4>${c.sandbox ? '<span class="badge sandbox-badge">sandbox</span> ' : ''}<code>${esc(c.name)}</code> <span class="meta">container ${esc(c.containerId.slice(0, 12))}</span></h4>` +
  birthTimeline(finding, c) +
  facts(c, finding.birth.captured) +
  stepsTable(c) +
  `</section>`;

/** The findings of one pod's birth: one finding, or the parts of a split certificate. */
export interface PodBirth {
  readonly key: string;
  readonly parts: readonly BirthFinding[];
}

/** Groups birth findings by pod (cluster, namespace, uid), parts in order. */
export const groupBirths = (findings: readonly BirthFinding[]): PodBirth[] => {
  const groups = new Map<string, BirthFinding[]>();
  for (const f of findings) {
    const key = JSON.stringify([f.cluster, f.namespace, f.birth.podUid, f.birth.pod]);
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups].map(([key, parts]) => ({ key, parts: parts.sort((a, b) => (a.birth.part ?? 0) - (b.birth.part ?? 0)) }));
};

const partsNote = (parts: readonly BirthFinding[]): string => {
  const total = parts[0]?.birth.parts;
  if (total === undefined) {
    return '';
  }
  const have = new Set(parts.map((p) => p.birth.part));
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter((n) => !have.has(n));
  return `<p class="note" data-kind="parts" data-parts="${esc(total)}" data-present="${esc(have.size)}">Certificate split over ${esc(total)} messages (one per container) to fit the message size limit${missing.length === 0 ? '; all parts present.' : `; <strong>missing part${missing.length === 1 ? '' : 's'} ${esc(missing.join(', '))}</strong>.`}</p>`;
};

/** One pod's birth certificate: its containers, sandbox first, each with its timeline. */
export const birthSection = (pod: PodBirth): string => {
  const first = pod.parts[0];
  if (first === undefined) {
    return '';
  }
  const containers = pod.parts
    .flatMap((p) => p.birth.containers.map((c) => ({ finding: p, c })))
    .sort((a, b) => Number(b.c.sandbox) - Number(a.c.sandbox));
  return (
    `<article class="card birth" id="${esc(anchorOf(first.id))}"${attrs({ 'data-pod': first.birth.pod, 'data-pod-uid': first.birth.podUid })}>` +
    `<h3>${esc(first.namespace)}/${esc(first.birth.pod)} <span class="kind">${esc(first.workload.kind)} ${esc(first.workload.name)}</span></h3>` +
    `<p class="meta">node ${esc(first.birth.node)} · uid <code>${esc(first.birth.podUid)}</code> · source ${esc(first.source)}</p>` +
    `<p class="summary-line">${esc(first.summary)}</p>` +
    partsNote(pod.parts) +
    containers.map(({ finding, c }) => containerCard(finding, c)).join('') +
    `</article>`
  );
};
