/**
 * Findings as people read them in a terminal: one headline per finding with the numbers that
 * matter, coloured by severity when the output is a TTY.
 */
import type { BirthFinding, Finding, RemediationFinding, ThrottleFinding } from '../shared/findings/types.ts';
import { formatCpu } from '../shared/kube/policy.ts';

export interface Style {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly green: (text: string) => string;
  readonly cyan: (text: string) => string;
}

const ansi = (code: number) => (text: string) => `\u001b[${code}m${text}\u001b[0m`;

export const COLOR: Style = { bold: ansi(1), dim: ansi(2), red: ansi(31), yellow: ansi(33), green: ansi(32), cyan: ansi(36) };
const identity = (text: string): string => text;
export const PLAIN: Style = { bold: identity, dim: identity, red: identity, yellow: identity, green: identity, cyan: identity };

const percent = (ratio: number): string => `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)}%`;

const severityMark = (finding: Finding, style: Style): string =>
  finding.severity === 'critical' ? style.red('✖') : finding.severity === 'warning' ? style.yellow('▲') : style.green('●');

const where = (finding: Finding, style: Style): string => {
  const container = finding.workload.container === '' ? '' : ` ${style.dim('container')} ${finding.workload.container}`;
  return `${style.bold(`${finding.namespace}/${finding.workload.name}`)} ${style.dim(`(${finding.workload.kind})`)}${container}`;
};

const throttleLines = (finding: ThrottleFinding, style: Style): string[] => {
  const t = finding.throttle;
  const metrics = t.meanUseOfLimit === undefined ? 'no CPU usage data' : `mean use ${percent(t.meanUseOfLimit)} of the limit`;
  const lines = [
    `${severityMark(finding, style)} ${style.cyan('cpu.throttle')} ${where(finding, style)}: ${style.bold(t.verdict)}`,
    `    kernel: throttled in ${percent(t.throttledRatio)} of periods, ${t.throttledSecondsPerSecond.toFixed(3)} s waited per second`,
    `    metrics: ${metrics} (${formatCpu(t.limitMillicores)} limit)`,
  ];
  if (t.recommendedLimitMillicores !== undefined) {
    const expected = t.expectedThrottledRatio === undefined ? '' : `, expected throttling ${percent(t.expectedThrottledRatio)}`;
    const act = t.actionRecommended ? 'act now' : `watching (${t.consecutiveWindows} window${t.consecutiveWindows === 1 ? '' : 's'})`;
    lines.push(`    limit: ${formatCpu(t.limitMillicores)} -> ${style.bold(formatCpu(t.recommendedLimitMillicores))}${expected}; ${act}`);
  }
  return lines;
};

const birthLines = (finding: BirthFinding, style: Style): string[] => {
  const b = finding.birth;
  const part = b.part === undefined ? '' : ` (part ${b.part}/${b.parts ?? '?'})`;
  const lines = [`${severityMark(finding, style)} ${style.cyan('pod.birth')} ${style.bold(`${finding.namespace}/${b.pod}`)} on ${b.node}${part}`];
  for (const c of b.containers) {
    const time = c.timeToEntrypointNs === undefined ? 'entrypoint not seen' : `entrypoint after ${(c.timeToEntrypointNs / 1e6).toFixed(1)} ms`;
    const ns = [
      c.namespacesCreated.length > 0 ? `created ${c.namespacesCreated.join(',')}` : '',
      c.namespacesJoined.length > 0 ? `joined ${c.namespacesJoined.join(',')}` : '',
    ].filter((s) => s !== '');
    lines.push(
      `    ${c.sandbox ? 'sandbox' : c.name}: ${time}; ${c.cgroupsCreated.length} cgroups` +
        (b.captured.includes('cgroup_write') ? `, ${c.limitWrites.length} limit writes` : '') +
        `${ns.length > 0 ? `; namespaces ${ns.join(', ')}` : ''}${c.entrypoint === undefined ? '' : `; exec ${c.entrypoint}`}` +
        (c.runtimeSyscalls === undefined ? '' : `; ${c.runtimeSyscalls} runtime syscalls`),
    );
  }
  return lines;
};

const remediationLines = (finding: RemediationFinding, style: Style): string[] => {
  const r = finding.remediation;
  const colour = r.outcome === 'applied' ? style.green : r.outcome === 'failed' || r.outcome === 'conflict' ? style.red : style.yellow;
  const change =
    r.fromLimitMillicores !== undefined && r.toLimitMillicores !== undefined ? ` ${formatCpu(r.fromLimitMillicores)} -> ${formatCpu(r.toLimitMillicores)}` : '';
  return [`${severityMark(finding, style)} ${style.cyan('remediation')} ${where(finding, style)}: ${colour(r.outcome)}${change} (${r.mode} mode)`, `    ${r.reason}`];
};

/** A finding as readable lines (no trailing newline). */
export const formatFinding = (finding: Finding, style: Style = PLAIN): string => {
  switch (finding.kind) {
    case 'cpu.throttle':
      return throttleLines(finding, style).join('\n');
    case 'pod.birth':
      return birthLines(finding, style).join('\n');
    case 'remediation.result':
      return remediationLines(finding, style).join('\n');
  }
};
