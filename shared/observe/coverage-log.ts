/**
 * Logs a run's coverage: one `observe.coverage` line per run, and one `probe.node_missing` warning
 * per node without the probe, with Pixie's reason. The log-based metric `nodes_without_probe` and its
 * alert (terraform/modules/kernel-gossip/monitoring.tf) count the warnings.
 *
 * @module
 */
import type { ProbeCoverage } from '../findings/types.ts';
import type { Logger } from '../log.ts';
import { describeCoverage } from './coverage.ts';

export const logCoverage = (log: Logger, script: string, kind: string, coverage: ProbeCoverage): void => {
  log.info(`${script} kernel data covers ${describeCoverage(coverage)}`, {
    event: 'observe.coverage',
    script,
    kind,
    nodesTotal: coverage.nodesTotal,
    nodesCovered: coverage.nodesCovered,
    nodesLacking: coverage.lacking.length,
  });
  for (const lacking of coverage.lacking) {
    log.warn(`${script} probe is not running on node ${lacking.node}: ${lacking.reason}`, {
      event: 'probe.node_missing',
      script,
      kind,
      node: lacking.node,
      reason: lacking.reason,
    });
  }
};
