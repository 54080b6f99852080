import { describe, expect, it } from 'vitest';
import { parseKernelRelease, parseSelectorVersion, programsFor, selectsAgent } from '../../../dev/vizier/kernel-selectors.ts';

// Rules from Pixie 44d42f1 src/vizier/services/metadata/controllers/tracepoint/tracepoint.go:296-405
// and src/common/system/kernel_version.cc:38-70 (cited in kernel-selectors.ts).
const agent = (release: string, hostname = 'node-a') => ({ hostname, kernel: parseKernelRelease(release) });

describe('TraceProgram selectors as Pixie\'s metadata service applies them', () => {
  it('reads uname -r as the PEM does (three numbers at the start, minor at most 255)', () => {
    expect(parseKernelRelease('6.1.112+')).toEqual({ version: 6, major: 1, minor: 112 });
    expect(parseKernelRelease('5.15.0-1067-gke')).toEqual({ version: 5, major: 15, minor: 0 });
    expect(parseKernelRelease('5.4.300')).toBeUndefined();
    expect(parseKernelRelease('6.8')).toBeUndefined();
  });

  it('reads selector values of one to three parts, missing parts being 0', () => {
    expect(parseSelectorVersion('5.16')).toEqual({ version: 5, major: 16, minor: 0 });
    expect(parseSelectorVersion('5')).toEqual({ version: 5, major: 0, minor: 0 });
    expect(parseSelectorVersion('5.15.255')).toEqual({ version: 5, major: 15, minor: 255 });
    expect(parseSelectorVersion('five')).toBeUndefined();
    expect(parseSelectorVersion('1.2.3.4')).toBeUndefined();
  });

  it('keeps min_kernel >= and max_kernel <= on (version, major, minor); max_kernel 5.18 drops 5.18.3', () => {
    expect(selectsAgent([{ type: 'min_kernel', value: '5.16' }], agent('5.16.0'))).toBe(true);
    expect(selectsAgent([{ type: 'min_kernel', value: '5.16' }], agent('5.15.180'))).toBe(false);
    expect(selectsAgent([{ type: 'max_kernel', value: '5.18' }], agent('5.18.0'))).toBe(true);
    expect(selectsAgent([{ type: 'max_kernel', value: '5.18' }], agent('5.18.3'))).toBe(false);
    expect(selectsAgent([{ type: 'max_kernel', value: 'x' }], agent('5.4.0'))).toBe(false);
    expect(selectsAgent([{ type: 'min_kernel', value: '5.0' }], { hostname: 'n', kernel: undefined })).toBe(false);
    expect(selectsAgent([{ type: 'host_name', value: 'node-a' }], agent('6.1.0'))).toBe(true);
    expect(selectsAgent([{ type: 'host_name', value: 'node-b' }], agent('6.1.0'))).toBe(false);
    expect(selectsAgent([], agent('3.10.0'))).toBe(true);
  });

  it('sends every variant whose selectors all match: disjoint variants give one each, overlapping ones two, none none', () => {
    const disjoint = [{ selectors: [{ type: 'max_kernel' as const, value: '5.15.255' }] }, { selectors: [{ type: 'min_kernel' as const, value: '5.16' }] }];
    expect(programsFor(disjoint, agent('5.15.146'))).toEqual([0]);
    expect(programsFor(disjoint, agent('6.6.56'))).toEqual([1]);
    const overlapping = [{ selectors: [] }, { selectors: [{ type: 'min_kernel' as const, value: '5.16' }] }];
    expect(programsFor(overlapping, agent('6.6.56'))).toEqual([0, 1]);
    expect(programsFor([{ selectors: [{ type: 'min_kernel' as const, value: '5.16' }] }], agent('5.10.0'))).toEqual([]);
  });
});
