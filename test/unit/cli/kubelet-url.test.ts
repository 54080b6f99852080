/**
 * `scan --local --kubelet-url <url>`: the check of the URL (dev/node/pod-sources.ts) and how the
 * command line refuses a bad one or a misplaced one (exit 2, the reason, then scan's usage) before
 * anything touches the host.
 */
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { main } from '../../../cli/main.ts';
import { parseKubeletUrl, PodSourceError } from '../../../dev/node/pod-sources.ts';

describe('parseKubeletUrl', () => {
  it.each([
    ['http://127.0.0.1:10255', 'http://127.0.0.1:10255'],
    ['http://127.0.0.1:40455/', 'http://127.0.0.1:40455'],
    ['https://node-1.example:10250', 'https://node-1.example:10250'],
    ['http://[::1]:10255', 'http://[::1]:10255'],
    // The scheme's default port is dropped from the origin, as fetch would use it anyway.
    ['http://localhost:80', 'http://localhost'],
  ])('accepts %s as %s', (text, origin) => {
    expect(parseKubeletUrl(text)).toBe(origin);
  });

  it.each([
    ['127.0.0.1:10255', /is not a URL \(expected e\.g\. http:\/\/127\.0\.0\.1:10255\)/],
    // WHATWG URL parsing reads `localhost:` as a scheme.
    ['localhost:10255', /only http: and https: URLs .*e\.g\. http:\/\/127\.0\.0\.1:10255\), not localhost:/],
    ['ftp://127.0.0.1:10255', /only http: and https: URLs .* not ftp:/],
    ['file:///etc/passwd', /not file:/],
    ['not a url', /"not a url" is not a URL \(expected e\.g\. http:\/\/127\.0\.0\.1:10255\)/],
    ['', /is not a URL/],
    ['http://user:secret@127.0.0.1:10255', /no credentials in the URL/],
    ['http://127.0.0.1:10255/pods', /give only scheme, host and port \(the pod list is always <url>\/pods\)/],
    ['http://127.0.0.1:10255/?x=1', /give only scheme, host and port/],
  ])('refuses %j, saying why', (text, reason) => {
    expect(() => parseKubeletUrl(text)).toThrow(PodSourceError);
    expect(() => parseKubeletUrl(text)).toThrow(reason);
  });

  it('never echoes credentials back', () => {
    expect(() => parseKubeletUrl('http://user:secret@127.0.0.1:10255')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secret') as unknown }));
  });
});

describe('kernel-gossip scan --kubelet-url', () => {
  let stderr: MockInstance<typeof process.stderr.write>;
  let stdout: MockInstance<typeof process.stdout.write>;

  beforeEach(() => {
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  const written = (spy: MockInstance<typeof process.stderr.write>): string => spy.mock.calls.map((call) => String(call[0])).join('');

  it.each([
    [['--local', '--kubelet-url', 'ftp://127.0.0.1:10255'], /--kubelet-url "ftp:\/\/127\.0\.0\.1:10255": only http: and https: URLs/],
    [['--local', '--kubelet-url', '127.0.0.1:10255'], /--kubelet-url "127\.0\.0\.1:10255" is not a URL/],
    [['--local', '--kubelet-url', 'http://127.0.0.1:10255/pods'], /--kubelet-url .*give only scheme, host and port/],
    [['--replay', 'x', '--kubelet-url', 'http://127.0.0.1:10255'], /--kubeconfig, --node and --kubelet-url name the pods of --local/],
    [['--local', '--kubeconfig', 'k', '--kubelet-url', 'http://127.0.0.1:10255'], /give one of them/],
    [['--local', '--kubelet-url'], /--kubelet-url <value>' argument missing/],
  ])('scan %j: exit 2, the reason, then the usage of scan', async (args, reason) => {
    const code = await main(['scan', ...args]);
    expect(code).toBe(2);
    const text = written(stderr);
    expect(text).toMatch(reason);
    expect(text).toContain('usage: kernel-gossip scan');
    expect(written(stdout)).toBe('');
  });

  it('is in the help of scan, with its default', async () => {
    expect(await main(['scan', '--help'])).toBe(0);
    const help = written(stdout);
    expect(help).toContain('--kubelet-url <url>');
    expect(help).toContain('default http://127.0.0.1:10255');
  });
});
