/**
 * A real, local Kubernetes control plane for tests and the demo: etcd plus kube-apiserver with RBAC
 * on and x509 client-certificate authentication, listening only on 127.0.0.1 (random ports), with
 * everything (certificates, etcd data, kubeconfigs) in one temporary folder removed on stop.
 *
 * No controller-manager or scheduler runs: nothing creates ReplicaSets or Pods by itself, so callers
 * create the objects they need (with owner references) themselves.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type KubeBinaries, resolveKubeBinaries } from './binaries.ts';
import { type Child, spawnChild } from './child.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import {
  createCertificateAuthority,
  createServiceAccountKeyPair,
  type IssuedCertificate,
  issueClientCertificate,
  issueServingCertificate,
  type KubeIdentity,
} from './pki.ts';

/** The admin identity: `system:masters` bypasses RBAC, as a cluster admin's does. */
export const ADMIN_IDENTITY: KubeIdentity = { user: 'kernel-gossip-admin', groups: ['system:masters'] };

export interface LocalKubeOptions {
  /** Binaries to run; found with {@link resolveKubeBinaries} when absent. */
  readonly binaries?: KubeBinaries;
  /** Parent of the temporary folder; the OS temp dir by default. */
  readonly parentDir?: string;
  /** How long etcd plus the apiserver may take to become ready (default 90 s: cold start on a busy 2-core machine). */
  readonly startTimeoutMs?: number;
}

export interface LocalKube {
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** Kubeconfig of {@link ADMIN_IDENTITY}. */
  readonly kubeconfigPath: string;
  /** The temporary folder holding certificates, etcd data and kubeconfigs. */
  readonly dir: string;
  readonly caPem: string;
  readonly version: string;
  /** Milliseconds from start until `/readyz` answered ok. */
  readonly startupMs: number;
  /** Process ids, for checks that both are gone after {@link LocalKube.stop}. */
  readonly pids: { readonly etcd: number; readonly apiserver: number };
  /**
   * The apiserver's audit log (one JSON event per line, level Metadata, stage ResponseComplete):
   * who asked what, as the API server itself saw it. Tests read it to count the requests a
   * function made, e.g. that a refused finding caused none.
   */
  readonly auditLogPath: string;
  /**
   * Writes a kubeconfig that authenticates as `identity` (client certificate with CN = user,
   * O = groups) and returns its path. Throws `IdentityError` for names a certificate cannot hold.
   */
  kubeconfigFor(identity: KubeIdentity): Promise<string>;
  /** Stops the apiserver, then etcd, and removes the temporary folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Thrown when the control plane does not come up; carries the tail of the failing process's output. */
export class LocalKubeStartError extends Error {
  override readonly name = 'LocalKubeStartError';
}

const freePort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (address === null || typeof address === 'string') {
    throw new Error('could not pick a free port on 127.0.0.1');
  }
  return address.port;
};

/** Whether this etcd knows `--unsafe-no-fsync` (3.4.23 from Debian does not; 3.5+ does). */
const etcdSupportsNoFsync = async (etcd: string): Promise<boolean> => {
  const { stdout, stderr } = await promisify(execFile)(etcd, ['--help'], { maxBuffer: 4 * 1024 * 1024 });
  return `${stdout}${stderr}`.includes('--unsafe-no-fsync');
};

interface TlsClient {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** GET over TLS with a client certificate; resolves with the status and body, rejects on network errors. */
const tlsGet = (url: string, tls: TlsClient, timeoutMs: number): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ca: tls.ca, cert: tls.cert, key: tls.key, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });

/** Polls `check` until it returns true, the process exits, or the deadline passes. */
const waitFor = async (child: Child, what: string, deadline: number, check: () => Promise<boolean>): Promise<void> => {
  let lastError = '';
  for (;;) {
    if (child.hasExited()) {
      throw new LocalKubeStartError(`${child.name} exited (${await child.exited}) before ${what}:\n${child.tail()}`);
    }
    try {
      if (await check()) {
        return;
      }
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new LocalKubeStartError(`${child.name}: no ${what} in time${lastError === '' ? '' : ` (last error: ${lastError})`}:\n${child.tail()}`);
    }
    await sleep(100);
  }
};

const startEtcd = async (binaries: KubeBinaries, dir: string, deadline: number): Promise<{ child: Child; url: string }> => {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name=kernel-gossip',
    `--data-dir=${path.join(dir, 'etcd')}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=kernel-gossip=${peerUrl}`,
    '--logger=zap',
    '--log-outputs=stderr',
    ...((await etcdSupportsNoFsync(binaries.etcd)) ? ['--unsafe-no-fsync'] : []),
  ];
  const child = spawnChild('etcd', binaries.etcd, args);
  try {
    await waitFor(child, 'healthy /health', deadline, async () => {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      return response.ok && ((await response.json()) as { health?: unknown }).health === 'true';
    });
  } catch (error) {
    await child.stop(2_000);
    throw error;
  }
  return { child, url };
};

/**
 * Every request at level Metadata (user, verb, URI, response code; no bodies), written once its
 * response is complete (audit.k8s.io/v1 Policy; the log backend's default "blocking" mode writes
 * each event before the response is sent, so a test reading the log after a response sees it).
 */
const AUDIT_POLICY = JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived', 'ResponseStarted'], rules: [{ level: 'Metadata' }] });

const apiserverArgs = (dir: string, port: number, etcdUrl: string, serving: IssuedCertificate, ca: IssuedCertificate, sa: { privateKeyPath: string; publicKeyPath: string }): string[] => [
  `--etcd-servers=${etcdUrl}`,
  `--audit-policy-file=${path.join(dir, 'audit-policy.json')}`,
  `--audit-log-path=${path.join(dir, 'audit.log')}`,
  '--bind-address=127.0.0.1',
  `--secure-port=${port}`,
  // The sandbox has no default route, so the apiserver cannot pick an advertise address itself.
  '--advertise-address=127.0.0.1',
  // Node: the kubelet of dev/kube/node.ts authenticates as system:node:<name>, as kubelets do.
  '--authorization-mode=Node,RBAC',
  `--client-ca-file=${ca.certPath}`,
  `--tls-cert-file=${serving.certPath}`,
  `--tls-private-key-file=${serving.keyPath}`,
  `--cert-dir=${dir}`,
  '--service-account-issuer=https://kubernetes.default.svc',
  `--service-account-key-file=${sa.publicKeyPath}`,
  `--service-account-signing-key-file=${sa.privateKeyPath}`,
  '--service-cluster-ip-range=10.0.0.0/24',
  // Without a controller-manager no token controller exists; pods name no service account token.
  '--disable-admission-plugins=ServiceAccount',
  '--allow-privileged=true',
  // One apiserver and no Service endpoints to keep: skip the lease reconciler and its log noise.
  '--endpoint-reconciler-type=none',
  '--enable-priority-and-fairness=false',
  '--profiling=false',
];

/** Ports are picked free and then bound by another process; parallel test files can rarely collide. */
const PORT_ATTEMPTS = 3;
const isPortClash = (error: unknown): boolean => error instanceof LocalKubeStartError && /address already in use/i.test(error.message);

/** Starts etcd and kube-apiserver and resolves once `/readyz` is ok. */
export const startLocalKube = async (options: LocalKubeOptions = {}): Promise<LocalKube> => {
  const started = Date.now();
  const deadline = started + (options.startTimeoutMs ?? 90_000);
  const binaries = options.binaries ?? (await resolveKubeBinaries());
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(options, binaries, started, deadline);
    } catch (error) {
      if (attempt >= PORT_ATTEMPTS || !isPortClash(error)) {
        throw error;
      }
    }
  }
};

const startOnce = async (options: LocalKubeOptions, binaries: KubeBinaries, started: number, deadline: number): Promise<LocalKube> => {
  const dir = await mkdtemp(path.join(options.parentDir ?? tmpdir(), 'kernel-gossip-kube-'));
  const pkiDir = path.join(dir, 'pki');
  let etcd: Child | undefined;
  let apiserver: Child | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await apiserver?.stop(10_000);
      await etcd?.stop(5_000);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    await mkdir(pkiDir, { mode: 0o700 });
    const ca = await createCertificateAuthority(pkiDir);
    const [serving, admin, sa] = await Promise.all([
      issueServingCertificate(ca, pkiDir, 'apiserver'),
      issueClientCertificate(ca, pkiDir, 'admin', ADMIN_IDENTITY),
      createServiceAccountKeyPair(pkiDir),
    ]);
    await writeFile(path.join(dir, 'audit-policy.json'), AUDIT_POLICY);
    const etcdStarted = await startEtcd(binaries, dir, deadline);
    etcd = etcdStarted.child;
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    apiserver = spawnChild('kube-apiserver', binaries.apiserver, apiserverArgs(dir, port, etcdStarted.url, serving, ca, sa));
    const tls: TlsClient = { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem };
    await waitFor(apiserver, 'ok from /readyz', deadline, async () => (await tlsGet(`${server}/readyz`, tls, 2_000)).status === 200);
    const kubeconfigPath = path.join(dir, 'admin.kubeconfig');
    await writeKubeconfig(kubeconfigPath, {
      server,
      caPem: ca.certPem,
      clientCertPem: admin.certPem,
      clientKeyPem: admin.keyPem,
      userEntry: ADMIN_IDENTITY.user,
    });
    let minted = 0;
    return {
      server,
      kubeconfigPath,
      dir,
      caPem: ca.certPem,
      version: binaries.version,
      startupMs: Date.now() - started,
      pids: { etcd: etcd.process.pid ?? -1, apiserver: apiserver.process.pid ?? -1 },
      auditLogPath: path.join(dir, 'audit.log'),
      kubeconfigFor: async (identity) => {
        minted += 1;
        const stem = `user-${minted}`;
        const cert = await issueClientCertificate(ca, pkiDir, stem, identity);
        const file = path.join(dir, `${stem}.kubeconfig`);
        await writeKubeconfig(file, { server, caPem: ca.certPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem, userEntry: stem });
        return file;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
};
