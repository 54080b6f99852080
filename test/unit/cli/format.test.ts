import { describe, expect, it } from 'vitest';
import { COLOR, formatFinding, PLAIN } from '../../../cli/format.ts';
import { sampleBirth, sampleRemediation, sampleThrottle } from '../../support/findings.ts';

describe('formatFinding', () => {
  it('shows the kernel view against the metrics view for a throttle finding', () => {
    expect(formatFinding(sampleThrottle(), PLAIN)).toBe(
      [
        '▲ cpu.throttle shop/cart (Deployment) container app: metrics-lie',
        '    kernel: throttled in 40% of periods, 0.160 s waited per second',
        '    metrics: mean use 31% of the limit (200m limit)',
        '    limit: 200m -> 400m, expected throttling 3.0%; act now',
      ].join('\n'),
    );
  });

  it('says when usage data is missing instead of printing a number', () => {
    const finding = sampleThrottle();
    const { meanUseOfLimit: _m, ...throttle } = finding.throttle;
    expect(formatFinding({ ...finding, throttle }, PLAIN)).toContain('metrics: no CPU usage data (200m limit)');
  });

  it('summarises each container of a birth certificate', () => {
    expect(formatFinding(sampleBirth(), PLAIN)).toBe(
      [
        '● pod.birth shop/cart-7d9f8-abcde on gke-pool-1',
        '    app: entrypoint after 41.0 ms; 1 cgroups, 1 limit writes; namespaces created mnt,uts, joined net,ipc; exec /bin/sh',
      ].join('\n'),
    );
  });

  it('shows the outcome and the change of a remediation', () => {
    expect(formatFinding(sampleRemediation(), PLAIN)).toBe(
      ['● remediation shop/cart (Deployment) container app: applied 200m -> 400m (apply mode)', '    metrics-lie for 3 windows; policy apply'].join('\n'),
    );
  });

  it('colours only when asked', () => {
    expect(formatFinding(sampleThrottle(), COLOR)).toContain('\u001b[');
    expect(formatFinding(sampleThrottle(), PLAIN)).not.toContain('\u001b[');
  });
});
