/**
 * The `observe-throttle` core: one scheduled run. Reads the last N windows of kernel CFS counters
 * through Pixie (N = the consecutive windows the analysis needs), analyses them, and publishes one
 * `cpu.throttle` finding per throttled workload container of the latest window.
 *
 * Outcomes map to HTTP statuses in the function: a request it can never serve is 4xx; Pixie or
 * Pub/Sub failures are 5xx so Cloud Scheduler retries; 2xx only when every finding was published.
 *
 * @module
 */
import { DEFAULT_THROTTLE_CONFIG } from '../analysis/index.ts';
import { withCoverage } from './coverage.ts';
import { logCoverage } from './coverage-log.ts';
import { precedingWindows, runWithCoverage } from './run.ts';
import { throttleFindings } from './throttle-findings.ts';
import { throttleCounters } from './throttle-table.ts';
import { type ObserveCore, scriptNamespaceFilter } from './types.ts';

export const observeThrottle: ObserveCore = async (window, deps, options) => {
  const config = deps.config ?? DEFAULT_THROTTLE_CONFIG;
  const windows = precedingWindows(window, config.consecutiveWindows);
  const { tables, coverage } = await runWithCoverage({
    pixie: deps.pixie,
    script: deps.script,
    windows,
    namespace: scriptNamespaceFilter(deps.namespaces),
    deadline: options.deadline,
    ...(deps.maxRows === undefined ? {} : { maxRows: deps.maxRows }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const keep = (namespace: string | undefined): boolean => deps.namespaces.length === 0 || deps.namespaces.includes(namespace ?? '');
  const counted = tables.map(({ window: w, table }) => ({
    window: w,
    counters: throttleCounters(table, w, deps.cluster).filter((c) => keep(c.identity.namespace)),
  }));
  logCoverage(deps.log, deps.script.name, 'cpu.throttle', coverage);
  const findings = withCoverage(throttleFindings(counted, { cluster: deps.cluster, source: deps.source, producedAt: (deps.now ?? (() => new Date()))(), config }), coverage);
  const publish = await deps.publisher.publish(findings, { deadline: options.deadline });
  for (const finding of findings) {
    if (publish.published.some((p) => p.findingId === finding.id)) {
      deps.log.info(finding.summary, {
        event: 'finding.published',
        kind: finding.kind,
        findingSeverity: finding.severity,
        verdict: finding.throttle.verdict,
        findingId: finding.id,
        namespace: finding.namespace,
        workload: `${finding.workload.kind}/${finding.workload.name}`,
        container: finding.workload.container,
      });
    }
  }
  const latest = counted.at(-1)?.counters ?? [];
  return { windows: windows.length, containers: latest.length, findings: findings.length, publish, latest, coverage };
};
