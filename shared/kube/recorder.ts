/**
 * `record`'s I/O: upserts KernelWhisper and PodBirthCertificate objects with server-side apply
 * under the recorder's own field manager. Applying the same finding twice gives the same object:
 * idempotent by construction.
 *
 * @module
 */
import { ApiException, type KubeConfig, PatchStrategy } from '@kubernetes/client-node';
import { deadlineSignal, kubeRequester, segment } from './api.ts';
import type { Finding } from '../findings/types.ts';
import {
  GROUP,
  KERNEL_WHISPERS,
  kernelWhisperFor,
  kernelWhisperStatusFor,
  objectName,
  POD_BIRTH_CERTIFICATES,
  podBirthCertificateFor,
  VERSION,
} from './records.ts';
import { TransientKubeError } from './remediator.ts';

export const RECORDER_FIELD_MANAGER = 'kernel-gossip-recorder';

/** What became of one finding. `rejected`: the API server refused it for good (schema, RBAC). */
export interface RecordReport {
  readonly outcome: 'recorded' | 'rejected';
  readonly object: string;
  readonly reason?: string;
}

const httpStatus = (error: unknown): number | undefined => (error instanceof ApiException ? error.code : undefined);

const messageOf = (error: ApiException<unknown>): string => {
  let body: unknown = error.body;
  if (typeof body === 'string') {
    const text = body;
    try {
      body = JSON.parse(text);
    } catch {
      return text.slice(0, 500);
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message.slice(0, 500) : '';
};

/** The path of a kernel-gossip object (`/status` for its status subresource). */
const objectPath = (plural: string, namespace: string, name: string): string =>
  `/apis/${GROUP}/${VERSION}/namespaces/${segment(namespace)}/${plural}/${segment(name)}`;

export interface RecordOptions {
  /** No Kubernetes call outlives this (the push's deadline): a call still open then is ended and reported transient. */
  readonly deadline: Date;
}

export const createRecorder = (kubeConfig: KubeConfig) => {
  const requester = kubeRequester(kubeConfig);

  const apply = async (signal: AbortSignal, plural: string, body: Record<string, unknown>, status: boolean): Promise<void> => {
    const metadata = body['metadata'] as { name: string; namespace: string };
    await requester({
      method: 'PATCH',
      path: `${objectPath(plural, metadata.namespace, metadata.name)}${status ? '/status' : ''}`,
      query: { fieldManager: RECORDER_FIELD_MANAGER, force: true },
      body,
      contentType: PatchStrategy.ServerSideApply,
      signal,
    });
  };

  const existingContainers = async (signal: AbortSignal, namespace: string, name: string): Promise<Record<string, unknown>[]> => {
    try {
      const object = (await requester({ method: 'GET', path: objectPath(POD_BIRTH_CERTIFICATES, namespace, name), signal })) as {
        spec?: { containers?: Record<string, unknown>[] };
      };
      return object.spec?.containers ?? [];
    } catch (error) {
      if (httpStatus(error) === 404) {
        return [];
      }
      throw error;
    }
  };

  /** Records one finding; throws {@link TransientKubeError} when a retry may succeed. */
  const record = async (finding: Finding, { deadline }: RecordOptions): Promise<RecordReport> => {
    const signal = deadlineSignal(deadline);
    let object = '';
    try {
      switch (finding.kind) {
        case 'cpu.throttle': {
          const body = kernelWhisperFor(finding);
          object = `KernelWhisper ${finding.namespace}/${(body['metadata'] as { name: string }).name}`;
          await apply(signal, KERNEL_WHISPERS, body, false);
          break;
        }
        case 'remediation.result': {
          const body = kernelWhisperStatusFor(finding, 'kernel-gossip-remediator');
          object = `KernelWhisper ${finding.namespace}/${(body['metadata'] as { name: string }).name} status`;
          await apply(signal, KERNEL_WHISPERS, body, true);
          break;
        }
        case 'pod.birth': {
          const name = objectName(finding.birth.pod);
          object = `PodBirthCertificate ${finding.namespace}/${name}`;
          // Parts of a split certificate add their containers to what is recorded already.
          const existing = finding.birth.part === undefined ? [] : await existingContainers(signal, finding.namespace, name);
          await apply(signal, POD_BIRTH_CERTIFICATES, podBirthCertificateFor(finding, existing), false);
          break;
        }
      }
      return { outcome: 'recorded', object };
    } catch (error) {
      const status = httpStatus(error);
      if (signal.aborted) {
        throw new TransientKubeError(`recording ${object}: the push deadline passed`, status, { cause: error });
      }
      if (status === undefined || status >= 500 || status === 429) {
        throw new TransientKubeError(`recording ${object}: ${status === undefined ? 'API server unreachable' : `HTTP ${status}`}`, status, { cause: error });
      }
      if (status === 404 && finding.kind === 'remediation.result') {
        // The decision arrived before the finding it answers was recorded: try again later.
        throw new TransientKubeError(`recording ${object}: the KernelWhisper does not exist yet`, status, { cause: error });
      }
      return { outcome: 'rejected', object, reason: `HTTP ${status}: ${messageOf(error as ApiException<unknown>)}` };
    }
  };

  return { record };
};

export type Recorder = ReturnType<typeof createRecorder>;
