/**
 * The `observe-births` core: one scheduled run reads the kernel's birth events of the window
 * through Pixie and publishes one `pod.birth` certificate per pod born in it.
 *
 * @module
 */
import type { FindingPublisher } from '../findings/publisher.ts';
import type { KernelSource } from '../findings/types.ts';
import type { Logger } from '../log.ts';
import type { PixieClient } from '../pixie/client.ts';
import type { PxlScript } from '../pxl/scripts.ts';
import { birthFindings } from './births.ts';
import type { ObserveReport } from './observe-throttle.ts';
import { runOverWindows } from './run.ts';
import type { ObserveWindow } from './window.ts';

export interface ObserveBirthsDeps {
  readonly pixie: PixieClient;
  readonly script: PxlScript;
  readonly publisher: FindingPublisher;
  readonly log: Logger;
  readonly cluster: string;
  readonly source: KernelSource;
  readonly namespaces: readonly string[];
  readonly now?: () => Date;
}

export const observeBirths = async (
  window: ObserveWindow,
  deps: ObserveBirthsDeps,
  options: { readonly deadline: Date; readonly signal?: AbortSignal },
): Promise<ObserveReport> => {
  const [result] = await runOverWindows({
    pixie: deps.pixie,
    script: deps.script,
    windows: [window],
    namespace: deps.namespaces.length === 1 ? (deps.namespaces[0] ?? '') : '',
    deadline: options.deadline,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const findings = result === undefined ? [] : birthFindings(result.table, {
    cluster: deps.cluster,
    source: deps.source,
    producedAt: (deps.now ?? (() => new Date()))(),
    window,
  }).filter((f) => deps.namespaces.length === 0 || deps.namespaces.includes(f.namespace));
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
  return { windows: 1, containers: findings.reduce((sum, f) => sum + f.birth.containers.length, 0), findings: findings.length, publish };
};
