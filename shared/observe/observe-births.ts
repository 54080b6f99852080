/**
 * The `observe-births` core: one scheduled run reads the kernel's birth events of the window
 * (and a little before it, to recognise cascades the previous run certified) through Pixie and
 * publishes one `pod.birth` certificate per pod with a container born in it.
 *
 * @module
 */
import { isBirthScriptName } from '../pxl/scripts.ts';
import { birthFindings, birthQueryWindow } from './births.ts';
import { withCoverage } from './coverage.ts';
import { logCoverage } from './coverage-log.ts';
import { runWithCoverage } from './run.ts';
import { type ObserveCore, scriptNamespaceFilter } from './types.ts';

export const observeBirths: ObserveCore = async (window, deps, options) => {
  const probe = deps.script.name;
  if (!isBirthScriptName(probe)) {
    throw new TypeError(`observe-births runs a birth script, not ${probe}`);
  }
  const { tables, coverage } = await runWithCoverage({
    pixie: deps.pixie,
    script: deps.script,
    windows: [birthQueryWindow(window)],
    namespace: scriptNamespaceFilter(deps.namespaces),
    deadline: options.deadline,
    ...(deps.maxRows === undefined ? {} : { maxRows: deps.maxRows }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const [result] = tables;
  logCoverage(deps.log, probe, 'pod.birth', coverage);
  const births = result === undefined ? [] : birthFindings(result.table, {
    probe,
    cluster: deps.cluster,
    source: deps.source,
    producedAt: (deps.now ?? (() => new Date()))(),
    window,
  }).filter((f) => deps.namespaces.length === 0 || deps.namespaces.includes(f.namespace));
  const findings = withCoverage(births, coverage);
  const publish = await deps.publisher.publish(findings, { deadline: options.deadline });
  const published = new Set(publish.published.map((p) => p.findingId));
  for (const finding of findings) {
    if (published.has(finding.id)) {
      deps.log.info(finding.summary, {
        event: 'finding.published',
        kind: finding.kind,
        findingSeverity: finding.severity,
        findingId: finding.id,
        namespace: finding.namespace,
        pod: finding.birth.pod,
      });
    }
  }
  return { windows: 1, containers: findings.reduce((sum, f) => sum + f.birth.containers.length, 0), findings: findings.length, publish, coverage };
};
