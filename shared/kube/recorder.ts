/**
 * `record`'s I/O: upserts KernelWhisper and PodBirthCertificate objects with server-side apply
 * under the recorder's own field manager. Applying the same finding twice gives the same object:
 * idempotent by construction.
 *
 * @module
 */
import { ApiException, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
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

export const createRecorder = (kubeConfig: KubeConfig) => {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const ssa = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

  const apply = async (plural: string, body: Record<string, unknown>, status: boolean): Promise<void> => {
    const metadata = body['metadata'] as { name: string; namespace: string };
    const request = { group: GROUP, version: VERSION, namespace: metadata.namespace, plural, name: metadata.name, body, fieldManager: RECORDER_FIELD_MANAGER, force: true };
    if (status) {
      await custom.patchNamespacedCustomObjectStatus(request, ssa);
    } else {
      await custom.patchNamespacedCustomObject(request, ssa);
    }
  };

  const existingContainers = async (namespace: string, name: string): Promise<Record<string, unknown>[]> => {
    try {
      const object = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: POD_BIRTH_CERTIFICATES, name })) as {
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
  const record = async (finding: Finding): Promise<RecordReport> => {
    let object = '';
    try {
      switch (finding.kind) {
        case 'cpu.throttle': {
          const body = kernelWhisperFor(finding);
          object = `KernelWhisper ${finding.namespace}/${(body['metadata'] as { name: string }).name}`;
          await apply(KERNEL_WHISPERS, body, false);
          break;
        }
        case 'remediation.result': {
          const body = kernelWhisperStatusFor(finding, 'kernel-gossip-remediator');
          object = `KernelWhisper ${finding.namespace}/${(body['metadata'] as { name: string }).name} status`;
          await apply(KERNEL_WHISPERS, body, true);
          break;
        }
        case 'pod.birth': {
          const name = objectName(finding.birth.pod);
          object = `PodBirthCertificate ${finding.namespace}/${name}`;
          // Parts of a split certificate add their containers to what is recorded already.
          const existing = finding.birth.part === undefined ? [] : await existingContainers(finding.namespace, name);
          await apply(POD_BIRTH_CERTIFICATES, podBirthCertificateFor(finding, existing), false);
          break;
        }
      }
      return { outcome: 'recorded', object };
    } catch (error) {
      const status = httpStatus(error);
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
