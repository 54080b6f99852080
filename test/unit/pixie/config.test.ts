import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../shared/config.ts';
import { pixieClientOptions, pixieConfigSpec } from '../../../shared/pixie/config.ts';

const CLUSTER = '5b27f024-eccb-4d07-b28d-84ab8d88e6a3';

describe('Pixie config', () => {
  it('defaults to Pixie Cloud over TLS with encryption on', () => {
    const config = parseConfig(pixieConfigSpec, { PIXIE_API_KEY: 'px-api-abcdef', PIXIE_CLUSTER_ID: CLUSTER });
    expect(pixieClientOptions(config)).toEqual({
      address: 'work.withpixie.ai:443',
      security: { kind: 'tls' },
      apiKey: 'px-api-abcdef',
      apiClient: 'kernel-gossip',
      clusterId: CLUSTER,
      encryption: true,
      retry: { defaultTimeoutMs: 120_000 },
    });
  });

  it('takes another cloud, a CA file or plaintext for local use', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixie-config-'));
    try {
      writeFileSync(path.join(dir, 'ca.pem'), 'PEM');
      const base = { PIXIE_API_KEY: 'px-api-abcdef', PIXIE_CLUSTER_ID: CLUSTER };
      const cosmic = parseConfig(pixieConfigSpec, { ...base, PIXIE_CLOUD_ADDR: 'getcosmic.ai:443', PIXIE_CA_FILE: path.join(dir, 'ca.pem') });
      const options = pixieClientOptions(cosmic);
      expect(options.address).toBe('getcosmic.ai:443');
      expect(options.security?.kind === 'tls-ca' && Buffer.from(options.security.caPem).toString()).toBe('PEM');
      const local = parseConfig(pixieConfigSpec, { ...base, PIXIE_CLOUD_ADDR: '127.0.0.1:50300', PIXIE_INSECURE: 'true', PIXIE_SCRIPT_TIMEOUT: '30s' });
      expect(pixieClientOptions(local)).toMatchObject({ security: { kind: 'plaintext' }, retry: { defaultTimeoutMs: 30_000 } });
      const both = parseConfig(pixieConfigSpec, { ...base, PIXIE_INSECURE: '1', PIXIE_CA_FILE: 'x' });
      expect(() => pixieClientOptions(both)).toThrow(/exclude each other/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names every bad variable and never echoes the key', () => {
    let error: unknown;
    try {
      parseConfig(pixieConfigSpec, { PIXIE_API_KEY: '', PIXIE_CLUSTER_ID: 'not-a-uuid', PIXIE_CLOUD_ADDR: 'nohost' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.variable).sort()).toEqual(['PIXIE_API_KEY', 'PIXIE_CLOUD_ADDR', 'PIXIE_CLUSTER_ID']);
  });
});
