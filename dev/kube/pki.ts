/**
 * Certificates for the local kube-apiserver: a throwaway CA, a serving certificate for 127.0.0.1,
 * client certificates whose subject is the Kubernetes identity (CN = user, O = groups, which is how
 * the apiserver's x509 authenticator reads them), and the service-account signing key pair.
 *
 * Node can make keys but not X.509 certificates, so certificates come from `openssl` run with
 * execFile (no shell). The only caller-supplied values are user and group names, which are checked
 * against a strict character set before they reach openssl's `-subj` syntax.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Certificates live one week: long enough for a demo, short enough not to matter if leaked. */
const VALIDITY_DAYS = '7';

/** A minimal openssl config, so no system default (such as CA extensions on `req -x509`) leaks in. */
const OPENSSL_CONFIG = '[req]\ndistinguished_name = dn\n[dn]\n';

/** An identity the apiserver derives from a client certificate. */
export interface KubeIdentity {
  /** Kubernetes user name, e.g. a Google service account's email. */
  readonly user: string;
  /** Kubernetes groups, e.g. `system:masters`. */
  readonly groups?: readonly string[];
}

/** A key and certificate on disk, with the certificate's PEM text. */
export interface IssuedCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** Thrown when an identity cannot be put in a certificate subject. */
export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

/** Letters, digits and the punctuation of emails and `system:` names; nothing openssl's -subj parses. */
const SUBJECT_VALUE = /^[A-Za-z0-9][A-Za-z0-9@._:-]*$/;
/** X.509 upper bound for CN and O (RFC 5280 ub-common-name / ub-organization-name). */
const MAX_SUBJECT_VALUE = 64;

const checkSubjectValue = (what: string, value: string): void => {
  if (value.length > MAX_SUBJECT_VALUE) {
    throw new IdentityError(`${what} is ${value.length} characters; an X.509 subject allows at most ${MAX_SUBJECT_VALUE}`);
  }
  if (!SUBJECT_VALUE.test(value)) {
    throw new IdentityError(`${what} may only contain letters, digits and @ . _ : - (and must start with a letter or digit)`);
  }
};

/** The openssl `-subj` argument for an identity; throws {@link IdentityError} for unusable names. */
export const subjectFor = (identity: KubeIdentity): string => {
  checkSubjectValue('user name', identity.user);
  const groups = identity.groups ?? [];
  groups.forEach((group, index) => {
    checkSubjectValue(`group ${index + 1}`, group);
  });
  return `/CN=${identity.user}${groups.map((group) => `/O=${group}`).join('')}`;
};

const openssl = async (dir: string, args: readonly string[]): Promise<void> => {
  const config = path.join(dir, 'openssl.cnf');
  await writeFile(config, OPENSSL_CONFIG, { mode: 0o600 });
  try {
    await run('openssl', ['req', '-config', config, ...args], { cwd: dir });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new Error(`openssl req failed${typeof stderr === 'string' ? `: ${stderr.trim()}` : ''}`, { cause: error });
  }
};

const NEW_EC_KEY = ['-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', VALIDITY_DAYS];

const readIssued = async (certPath: string, keyPath: string): Promise<IssuedCertificate> => ({
  certPath,
  keyPath,
  certPem: await readFile(certPath, 'utf8'),
  keyPem: await readFile(keyPath, 'utf8'),
});

/** Creates a self-signed CA in `dir` (files `ca.crt`, `ca.key`). */
export const createCertificateAuthority = async (dir: string): Promise<IssuedCertificate> => {
  const certPath = path.join(dir, 'ca.crt');
  const keyPath = path.join(dir, 'ca.key');
  await openssl(dir, [
    ...NEW_EC_KEY,
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-subj',
    '/CN=kernel-gossip-local-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  return readIssued(certPath, keyPath);
};

const issue = async (
  ca: IssuedCertificate,
  dir: string,
  name: string,
  subject: string,
  extensions: readonly string[],
): Promise<IssuedCertificate> => {
  const certPath = path.join(dir, `${name}.crt`);
  const keyPath = path.join(dir, `${name}.key`);
  await openssl(dir, [
    ...NEW_EC_KEY,
    '-CA',
    ca.certPath,
    '-CAkey',
    ca.keyPath,
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-subj',
    subject,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    ...extensions.flatMap((extension) => ['-addext', extension]),
  ]);
  return readIssued(certPath, keyPath);
};

/** A serving certificate for the apiserver on 127.0.0.1 / localhost (files `<name>.crt`, `<name>.key`). */
export const issueServingCertificate = (ca: IssuedCertificate, dir: string, name: string): Promise<IssuedCertificate> =>
  issue(ca, dir, name, '/CN=kube-apiserver', [
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
  ]);

/**
 * A client certificate for `identity` (files `<name>.crt`, `<name>.key`). `name` is a file stem chosen
 * by the caller's code, never a user value. Throws {@link IdentityError} for unusable names.
 */
export const issueClientCertificate = (ca: IssuedCertificate, dir: string, name: string, identity: KubeIdentity): Promise<IssuedCertificate> =>
  issue(ca, dir, name, subjectFor(identity), ['extendedKeyUsage=clientAuth']);

/** The service-account token signing key pair (files `sa.key`, `sa.pub`), P-256 PEM. */
export const createServiceAccountKeyPair = async (dir: string): Promise<{ readonly privateKeyPath: string; readonly publicKeyPath: string }> => {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const privateKeyPath = path.join(dir, 'sa.key');
  const publicKeyPath = path.join(dir, 'sa.pub');
  await writeFile(privateKeyPath, privateKey, { mode: 0o600 });
  await writeFile(publicKeyPath, publicKey, { mode: 0o644 });
  return { privateKeyPath, publicKeyPath };
};
