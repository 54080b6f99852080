import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type StartedProcess, startProcess } from '../support/process.ts';

const root = path.resolve(import.meta.dirname, '../..');
const bundleDir = path.join(root, 'dist', 'functions', 'health');
const frameworkBin = path.join(root, 'node_modules', '.bin', 'functions-framework');

describe('health bundle under functions-framework', () => {
  let server: StartedProcess | undefined;
  let port = 0;

  beforeAll(async () => {
    port = await freePort();
    // Run from an empty folder with the bundle's own package.json, as Cloud Run does.
    server = await startProcess(process.execPath, [frameworkBin, '--source', bundleDir, '--target', 'health', '--port', String(port)], {
      cwd: bundleDir,
      env: { ...process.env, K_REVISION: 'health-00001-abc', GOOGLE_CLOUD_PROJECT: 'p1' },
      ready: /Serving function/,
    });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('is a minimal, self-contained package', async () => {
    const manifest = JSON.parse(await readFile(path.join(bundleDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ type: 'module', main: 'index.js', engines: { node: '22' } });
    expect(Object.keys(manifest['dependencies'] as object)).toEqual(['@google-cloud/functions-framework']);
    expect(manifest).not.toHaveProperty('devDependencies');
    expect((await stat(path.join(bundleDir, 'index.js'))).size).toBeGreaterThan(0);
  });

  it('answers over HTTP with the version, revision and config status', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(body).toMatchObject({ status: 'ok', version: pkg.version, revision: 'health-00001-abc', node: process.version });
    expect(process.version.startsWith('v22.')).toBe(true);
  });
});
