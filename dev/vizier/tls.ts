/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1 / localhost, made with
 * the openssl CLI (installed by dev/setup/apt.sh), so clients can dial the local Vizier over TLS
 * with a custom CA exactly as they dial Pixie Cloud.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface TlsMaterial {
  readonly caPath: string;
  readonly ca: Buffer;
  readonly key: Buffer;
  readonly cert: Buffer;
}

const openssl = (args: readonly string[], cwd: string): void => {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
};

/** Creates `dir` with ca.pem (+ key), server.pem and server-key.pem; returns them. */
export const createTlsMaterial = (dir: string): TlsMaterial => {
  mkdirSync(dir, { recursive: true });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=kernel-gossip local Vizier CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext'], dir);
  const caPath = path.join(dir, 'ca.pem');
  return {
    caPath,
    ca: readFileSync(caPath),
    key: readFileSync(path.join(dir, 'server-key.pem')),
    cert: readFileSync(path.join(dir, 'server.pem')),
  };
};
