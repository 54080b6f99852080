import { describe, expect, it } from 'vitest';
import { birthTimeline, groupBirths, phaseOf, timelineScaleNs } from '../../../cli/report/birth.ts';
import { anchorOf, esc } from '../../../cli/report/html.ts';
import { renderReport, type ReportMeta, reportMetaOf, windowOf } from '../../../cli/report/render.ts';
import { THROTTLE_CHART, throttleChart } from '../../../cli/report/throttle.ts';
import type { BirthFinding, ContainerBirth, Finding, ThrottleFinding } from '../../../shared/findings/types.ts';
import { sampleBirth, sampleRemediation, sampleThrottle } from '../../support/findings.ts';
import { sampleRun } from './sample-run.ts';

const META: ReportMeta = {
  cluster: 'lab',
  window: { start: '2026-11-27T12:00:00Z', end: '2026-11-27T12:01:00Z', seconds: 60 },
  source: 'replay',
  producedAt: '2026-11-27T12:01:05Z',
};

const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='alert(1)",
  '</svg><svg onload=alert(1)>',
  '</title><script>alert(2)</script>',
  '&amp;<b>bold</b>',
];

/** Every place a finding carries a user-controlled string, filled with `name`. */
const hostileFindings = (name: string): Finding[] => {
  const throttle = sampleThrottle();
  const birth = sampleBirth();
  const remediation = sampleRemediation();
  const container = birth.birth.containers[0] as ContainerBirth;
  return [
    {
      ...throttle,
      id: name,
      cluster: name,
      namespace: name,
      summary: name,
      workload: { kind: name, name, container: name },
      throttle: {
        ...throttle.throttle,
        verdict: name,
        reason: name,
        pods: throttle.throttle.pods.map((p) => ({ ...p, pod: name, node: name })),
        thresholds: [{ name, value: 0.5 }],
      },
    },
    {
      ...birth,
      id: name,
      namespace: name,
      summary: name,
      workload: { kind: name, name, container: '' },
      birth: {
        ...birth.birth,
        pod: name,
        podUid: name,
        node: name,
        containers: [
          {
            ...container,
            name,
            containerId: name,
            firstEventAt: name,
            entrypoint: name,
            entrypointExecAt: name,
            cgroupsCreated: [name],
            limitWrites: [{ file: name, value: name }],
            namespacesCreated: [name],
            namespacesJoined: [name],
            mounts: [{ source: name, target: name, fstype: name }],
            pivotRoot: name,
            execs: [name],
            syscalls: [{ name, count: 3 }],
            steps: container.steps.map((s) => ({ ...s, kind: name, detail: name })),
          },
        ],
      },
    },
    {
      ...remediation,
      namespace: name,
      workload: { kind: name, name, container: name },
      remediation: { ...remediation.remediation, findingId: name, reason: name, conflictingManager: name, outcome: 'conflict' },
    },
  ];
};

describe('renderReport', () => {
  it.each(HOSTILE)('escapes every user-controlled value: %s', (name) => {
    const html = renderReport(hostileFindings(name), { ...META, cluster: name });
    expect(html).not.toContain(name);
    expect(html).toContain(esc(name));
    // Escaping leaves no raw quote inside a value, so dropping quoted values leaves only markup.
    const markup = html.replace(/"[^"]*"/g, '""');
    expect(markup).not.toMatch(/<script/i);
    expect(markup).not.toMatch(/<img/i);
    expect(markup).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
    // The only <svg> openings are the report's own charts (3 here: throttle, limit, one timeline).
    expect(html.match(/<svg /g)?.length).toBe(3);
  });

  it('forbids loading anything: a CSP of default-src none and no URL to fetch', () => {
    const html = renderReport(sampleRun().all, META);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/\b(src|href)="(?!#)/);
    expect(html).not.toMatch(/url\(|@import|https?:\/\//);
  });

  it('renders every kind, with a summary that counts them', () => {
    const html = renderReport([sampleThrottle(), sampleBirth(), sampleRemediation()], META);
    for (const kind of ['cpu.throttle', 'pod.birth', 'remediation.result']) {
      expect(html).toContain(`data-summary="kind" data-name="${kind}" data-value="1"`);
    }
    expect(html).toContain('data-summary="outcome" data-name="applied" data-value="1"');
    expect(html).toContain('data-summary="outcome" data-name="conflict" data-value="0"');
    expect(html).toContain('data-summary="verdict" data-name="metrics-lie" data-value="1"');
    expect(html).toContain('class="chart throttle-chart"');
    expect(html).toContain('class="chart birth-timeline"');
    expect(html).toContain('<table class="remediations">');
    expect(html).toContain('data-meta="source" data-value="replay"');
  });

  it('says so when a run has nothing of a kind', () => {
    const html = renderReport([], META);
    expect(html).toContain('No CPU throttle findings in this run.');
    expect(html).toContain('No pod births in this run.');
    expect(html).toContain('No remediation results in this run.');
  });

  it('shows a remediation result on the throttle finding it answers, linked from the table', () => {
    const throttle = sampleThrottle();
    const result = sampleRemediation();
    const answer = { ...result, remediation: { ...result.remediation, findingId: throttle.id } };
    const html = renderReport([throttle, answer], META);
    expect(html).toContain(`id="${anchorOf(throttle.id)}"`);
    expect(html).toContain(`href="#${anchorOf(throttle.id)}"`);
    expect(html).toMatch(/data-kind="remediation-outcome" data-outcome="applied"/);
    expect(renderReport([throttle, result], META)).toContain('No remediation result for this finding in this run.');
  });
});

describe('absent values', () => {
  it('shows mean use the metrics did not measure as "not measured", never as a zero-width bar', () => {
    const finding = sampleThrottle();
    const { meanUseOfLimit: _a, ...throttle } = finding.throttle;
    const pods = throttle.pods.map(({ meanUseOfLimit: _b, cpuSeconds: _c, ...p }) => p);
    const chart = throttleChart({ ...finding, throttle: { ...throttle, pods } });
    expect(chart).not.toMatch(/<rect[^>]*data-row="[a-z]+" data-kind="mean-use"/);
    expect(chart).toMatch(/<rect[^>]*data-row="aggregate" data-kind="throttled-ratio"/);
    expect(chart.match(/data-kind="mean-use" data-absent="true"[^>]*>not measured</g)?.length).toBe(2);
    const html = renderReport([{ ...finding, throttle: { ...throttle, pods } }], META);
    expect(html).toContain('<td><span class="absent">not measured</span></td>');
  });

  it('shows an unmeasured entrypoint, syscall count and pivot_root as "not measured"', () => {
    const finding = sampleBirth();
    const { timeToEntrypointNs: _t, entrypoint: _e, entrypointExecAt: _x, runtimeSyscalls: _r, pivotRoot: _p, ...container } = finding.birth.containers[0] as ContainerBirth;
    const partial: BirthFinding = { ...finding, birth: { ...finding.birth, containers: [container] } };
    const html = renderReport([partial], META);
    expect(html).toContain('<dt>time to entrypoint</dt><dd><span class="absent">not measured</span></dd>');
    expect(html).toContain('<dt>runtime syscalls</dt><dd><span class="absent">not measured</span></dd>');
    expect(html).toContain('<dt>pivot_root</dt><dd><span class="absent">not measured</span></dd>');
    expect(html).toContain('data-kind="entrypoint" data-absent="true">entrypoint: not measured<');
    expect(html).not.toContain('data-kind="time-to-entrypoint"');
    expect(html).not.toContain('data-kind="runtime-syscalls"');
  });

  it('keeps a measured zero as a zero', () => {
    const finding = sampleBirth();
    const container = { ...(finding.birth.containers[0] as ContainerBirth), runtimeSyscalls: 0 };
    const html = renderReport([{ ...finding, birth: { ...finding.birth, containers: [container] } }], META);
    expect(html).toContain('<span data-kind="runtime-syscalls" data-value="0">0</span>');
  });
});

describe('charts', () => {
  it('draws throttle bars proportional to the values on each panel’s scale', () => {
    const finding = sampleThrottle();
    const chart = throttleChart(finding);
    const width = (kind: string, row: string): number => {
      const match = new RegExp(`<rect[^>]*data-row="${row}" data-kind="${kind}"[^>]*width="([0-9.]+)"`).exec(chart);
      return Number(match?.[1]);
    };
    expect(width('throttled-ratio', 'aggregate')).toBeCloseTo(finding.throttle.throttledRatio * THROTTLE_CHART.panelWidth, 2);
    expect(width('mean-use', 'pod')).toBeCloseTo((finding.throttle.pods[0]?.meanUseOfLimit ?? Number.NaN) * THROTTLE_CHART.panelWidth, 2);
    expect(width('throttled-ratio', 'expected')).toBeCloseTo((finding.throttle.expectedThrottledRatio ?? Number.NaN) * THROTTLE_CHART.panelWidth, 2);
  });

  it('widens a scale past 1 when a value exceeds it, so no bar overflows its panel', () => {
    const finding: ThrottleFinding = { ...sampleThrottle(), throttle: { ...sampleThrottle().throttle, throttledSecondsPerSecond: 2.5 } };
    const chart = throttleChart(finding);
    expect(chart).toMatch(/data-role="panel" data-kind="throttled-seconds" data-scale-max="2.5"/);
    expect(chart).toMatch(/data-row="aggregate" data-kind="throttled-seconds" data-value="2.5" data-scale-max="2.5"[^>]*width="200"/);
  });

  it('places timeline steps by offset on the container’s own scale', () => {
    const finding = sampleBirth();
    const container = finding.birth.containers[0] as ContainerBirth;
    expect(timelineScaleNs(container)).toBe(41_000_000);
    const svg = birthTimeline(finding, container);
    expect(svg).toMatch(/cx="130"[^>]*data-kind="cgroup_mkdir"/);
    expect(svg).toMatch(/cx="860"[^>]*data-kind="exec"/);
    expect(svg).toContain('data-kind="gap" data-value="41000000" data-from="cgroups" data-to="exec"');
  });

  it('keeps a single step at the origin of a non-zero scale', () => {
    const container: ContainerBirth = { ...(sampleBirth().birth.containers[0] as ContainerBirth), steps: [{ offsetNs: 0, kind: 'cgroup_mkdir', detail: '/x', pid: 1 }] };
    const { timeToEntrypointNs: _t, ...alone } = container;
    expect(timelineScaleNs(alone)).toBe(1);
    expect(birthTimeline(sampleBirth(), alone)).not.toContain('NaN');
  });

  it('puts each step kind in its lane and never drops an unknown one', () => {
    expect(['cgroup_mkdir', 'cgroup_write', 'unshare', 'setns', 'mount', 'pivot_root', 'exec', 'fork'].map(phaseOf)).toEqual([
      'cgroups', 'cgroups', 'namespaces', 'namespaces', 'mounts', 'pivot_root', 'exec', 'other',
    ]);
  });
});

describe('split birth certificates', () => {
  it('joins the parts of one pod and says which part is missing', () => {
    const parts = sampleRun().births.filter((b) => b.birth.parts !== undefined);
    expect(groupBirths(parts)).toHaveLength(1);
    const html = renderReport([parts[1] as BirthFinding], META);
    expect(html).toContain('missing part 1');
    expect(renderReport(parts, META)).toContain('all parts present');
  });
});

describe('reportMetaOf', () => {
  it('spans the windows and clusters of the findings', () => {
    const run = sampleRun();
    const meta = reportMetaOf(run.all, '2026-11-27T12:05:00Z', META);
    expect(meta.cluster).toBe('lab');
    expect(meta.window.start).toBe('2026-11-27T12:02:00.000000000Z');
    expect(meta.window.seconds).toBe(60);
    expect(meta.producedAt).toBe('2026-11-27T12:05:00Z');
    expect(reportMetaOf([], 'now', META).window).toEqual(META.window);
  });
});

describe('windowOf', () => {
  it('turns instants into the window the header shows', () => {
    expect(windowOf(new Date('2026-11-27T12:00:00Z'), new Date('2026-11-27T12:01:30Z'))).toEqual({
      start: '2026-11-27T12:00:00.000Z',
      end: '2026-11-27T12:01:30.000Z',
      seconds: 90,
    });
  });
});
