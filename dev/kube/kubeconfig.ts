/**
 * Kubeconfig files for the local apiserver. JSON is valid YAML, so kubectl and
 * `@kubernetes/client-node` both read these without a YAML writer here.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';

export interface KubeconfigInput {
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Names the user and context entries (not the Kubernetes identity, which is in the certificate). */
  readonly userEntry: string;
}

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** The kubeconfig document for one client certificate; its single context is current. */
export const kubeconfigDocument = (input: KubeconfigInput): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'kernel-gossip-local', cluster: { server: input.server, 'certificate-authority-data': base64(input.caPem) } }],
  users: [
    {
      name: input.userEntry,
      user: { 'client-certificate-data': base64(input.clientCertPem), 'client-key-data': base64(input.clientKeyPem) },
    },
  ],
  contexts: [{ name: input.userEntry, context: { cluster: 'kernel-gossip-local', user: input.userEntry } }],
  'current-context': input.userEntry,
  preferences: {},
});

/** Writes a kubeconfig readable only by its owner (it holds a private key). */
export const writeKubeconfig = async (filePath: string, input: KubeconfigInput): Promise<void> => {
  await writeFile(filePath, `${JSON.stringify(kubeconfigDocument(input), null, 2)}\n`, { mode: 0o600 });
};
