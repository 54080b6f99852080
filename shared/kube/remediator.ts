/**
 * The remediator's I/O: resolve the pod's owning workload, read what the planner needs, apply the
 * plan with server-side apply under our own field manager, optionally resize running pods in
 * place, and record an Event on the workload.
 *
 * Failures are sorted by what a retry can change: the API server unreachable or answering 5xx/429
 * is transient (the push is answered 5xx so Pub/Sub redelivers); 403, 404 and field-manager
 * conflicts are final decisions, reported and acknowledged so they never become retry storms.
 *
 * @module
 */
import { ApiException, type KubeConfig, PatchStrategy } from '@kubernetes/client-node';
import { deadlineSignal, type HorizontalPodAutoscaler, type KubeList, type KubeObject, type KubeRequest, kubeRequester, microTime, segment, type Workload } from './api.ts';
import type { ThrottleFinding } from '../findings/types.ts';
import { applyBody, type Plan, planRemediation, STATE_KEYS, windowLabel, type WorkloadState } from './planner.ts';
import { parseCpuMillicores, type RemediationPolicy } from './policy.ts';

export const FIELD_MANAGER = 'kernel-gossip-remediator';
export const REPORTING_CONTROLLER = 'kernel.gossip.io/remediator';

/** What the remediator did with one finding. */
export interface RemediationReport {
  readonly outcome: 'applied' | 'recommended' | 'skipped' | 'conflict' | 'failed';
  readonly reason: string;
  readonly plan: Plan | undefined;
  readonly workload: { readonly kind: string; readonly name: string; readonly namespace: string };
  readonly conflictingManager?: string;
  readonly podsResized: number;
  readonly notes: readonly string[];
}

/** The API server could not answer now (unreachable, 5xx, 429): worth a redelivery. */
export class TransientKubeError extends Error {
  override readonly name = 'TransientKubeError';
  readonly status: number | undefined;

  constructor(message: string, status: number | undefined, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

export interface RemediatorOptions {
  readonly kubeConfig: KubeConfig;
  readonly operator: RemediationPolicy;
  readonly now?: () => Date;
  /** Identifies this instance in Events (e.g. the Cloud Run revision). */
  readonly reportingInstance: string;
  /** Re-reads after a resourceVersion conflict before giving up. */
  readonly maxConflictRetries?: number;
}

interface KubeStatus {
  readonly reason?: string;
  readonly message?: string;
  readonly details?: { readonly causes?: readonly { readonly type?: string; readonly message?: string; readonly field?: string }[] };
}

/** The Status body of an ApiException (client-node leaves it as text for most errors). */
const statusOf = (error: ApiException<unknown>): KubeStatus => {
  const body: unknown = error.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as KubeStatus;
    } catch {
      return { message: body.slice(0, 300) };
    }
  }
  return (body ?? {});
};

const httpStatus = (error: unknown): number | undefined => (error instanceof ApiException ? error.code : undefined);

/** Rethrows anything a retry might fix as {@link TransientKubeError}; returns final API errors. */
const classify = (error: unknown, what: string, signal: AbortSignal): ApiException<unknown> => {
  const status = httpStatus(error);
  if (signal.aborted) {
    throw new TransientKubeError(`${what}: the push deadline passed`, status, { cause: error });
  }
  if (status === undefined || status >= 500 || status === 429) {
    throw new TransientKubeError(`${what}: ${status === undefined ? 'API server unreachable' : `HTTP ${status}`}`, status, { cause: error });
  }
  return error as ApiException<unknown>;
};

/** The manager named in a server-side apply conflict message: `conflict with "argocd-controller" ...`. */
export const conflictingManagerOf = (status: KubeStatus): string | undefined => {
  const texts = [status.message ?? '', ...(status.details?.causes ?? []).map((cause) => cause.message ?? '')];
  for (const text of texts) {
    const match = /conflicts? with "([^"]+)"/.exec(text);
    if (match?.[1]) {
      return match[1];
    }
  }
  return undefined;
};

/** The apps/v1 resource of each workload kind the remediator changes. */
const WORKLOAD_RESOURCES: Readonly<Record<string, string>> = { Deployment: 'deployments', StatefulSet: 'statefulsets' };

/** The API path of a workload the remediator reads and applies to; undefined for any other kind. */
const workloadPath = (namespace: string, kind: string, name: string): string | undefined => {
  const resource = WORKLOAD_RESOURCES[kind];
  return resource === undefined ? undefined : `/apis/apps/v1/namespaces/${segment(namespace)}/${resource}/${segment(name)}`;
};

/** The calls of one remediation, all ended by its deadline's signal. */
interface Calls {
  readonly signal: AbortSignal;
  readonly send: (request: KubeRequest) => Promise<unknown>;
  readonly get: <T>(path: string, query?: Readonly<Record<string, string>>) => Promise<T>;
}

export interface RemediateOptions {
  /** No Kubernetes call outlives this (the push's deadline): a call still open then is ended and reported transient. */
  readonly deadline: Date;
}

export const createRemediator = (options: RemediatorOptions) => {
  const requester = kubeRequester(options.kubeConfig);
  const callsUntil = (signal: AbortSignal): Calls => {
    const send = (request: KubeRequest): Promise<unknown> => requester({ ...request, signal });
    return { signal, send, get: async <T>(path: string, query?: Readonly<Record<string, string>>) => (await send({ method: 'GET', path, ...(query === undefined ? {} : { query }) })) as T };
  };
  const now = options.now ?? (() => new Date());
  const maxRetries = options.maxConflictRetries ?? 3;

  /** Follows controller owner references from a pod or ReplicaSet to the Deployment or StatefulSet. */
  const resolveOwner = async ({ get }: Calls, namespace: string, kind: string, name: string): Promise<{ kind: string; name: string }> => {
    let current = { kind, name };
    for (let hop = 0; hop < 3; hop += 1) {
      let owners: readonly { kind: string; name: string; controller?: boolean }[] | undefined;
      if (current.kind === 'Pod') {
        owners = (await get<KubeObject>(`/api/v1/namespaces/${segment(namespace)}/pods/${segment(current.name)}`)).metadata?.ownerReferences;
      } else if (current.kind === 'ReplicaSet') {
        owners = (await get<KubeObject>(`/apis/apps/v1/namespaces/${segment(namespace)}/replicasets/${segment(current.name)}`)).metadata?.ownerReferences;
      } else {
        return current;
      }
      const controller = owners?.find((owner) => owner.controller === true);
      if (controller === undefined) {
        return current;
      }
      current = { kind: controller.kind, name: controller.name };
    }
    return current;
  };

  const readWorkload = async ({ get }: Calls, namespace: string, kind: string, name: string): Promise<Workload | undefined> => {
    const path = workloadPath(namespace, kind, name);
    return path === undefined ? undefined : get<Workload>(path);
  };

  const hpaOnCpu = async ({ get }: Calls, namespace: string, kind: string, name: string): Promise<boolean> => {
    const list = await get<KubeList<HorizontalPodAutoscaler>>(`/apis/autoscaling/v2/namespaces/${segment(namespace)}/horizontalpodautoscalers`);
    return list.items.some(
      (hpa) =>
        hpa.spec.scaleTargetRef.kind === kind &&
        hpa.spec.scaleTargetRef.name === name &&
        (hpa.spec.metrics ?? []).some((metric) => metric.resource?.name === 'cpu' || metric.containerResource?.name === 'cpu'),
    );
  };

  /** Changes already applied for this window, counted server-side by the label we set. */
  const actionsThisRun = async ({ get }: Calls, finding: ThrottleFinding): Promise<number> => {
    const labelSelector = `${STATE_KEYS.lastWindow}=${windowLabel(finding)}`;
    const [deployments, statefulSets] = await Promise.all([
      get<KubeList<Workload>>('/apis/apps/v1/deployments', { labelSelector }),
      get<KubeList<Workload>>('/apis/apps/v1/statefulsets', { labelSelector }),
    ]);
    return deployments.items.length + statefulSets.items.length;
  };

  const stateOf = (workload: Workload, kind: string, hpa: boolean): WorkloadState => ({
    kind,
    apiVersion: 'apps/v1',
    name: workload.metadata?.name ?? '',
    namespace: workload.metadata?.namespace ?? '',
    resourceVersion: workload.metadata?.resourceVersion ?? '',
    annotations: workload.metadata?.annotations ?? {},
    labels: workload.metadata?.labels ?? {},
    containers: (workload.spec?.template.spec?.containers ?? []).map((container) => {
      const limit = container.resources?.limits?.['cpu'];
      const request = container.resources?.requests?.['cpu'];
      const limitMillicores = limit === undefined ? undefined : parseCpuMillicores(limit);
      const requestMillicores = request === undefined ? undefined : parseCpuMillicores(request);
      return {
        name: container.name,
        ...(limitMillicores === undefined ? {} : { cpuLimitMillicores: limitMillicores }),
        ...(requestMillicores === undefined ? {} : { cpuRequestMillicores: requestMillicores }),
      };
    }),
    hpaOnCpu: hpa,
  });

  const apply = async ({ send }: Calls, kind: string, body: Record<string, unknown>, plan: Plan): Promise<void> => {
    const metadata = body['metadata'] as { name: string; namespace: string };
    const path = workloadPath(metadata.namespace, kind, metadata.name);
    if (path === undefined) {
      // Only a workload readWorkload found is applied to.
      throw new TypeError(`no apps/v1 resource for kind ${kind}`);
    }
    await send({
      method: 'PATCH',
      path,
      query: { fieldManager: FIELD_MANAGER, force: plan.forceOwnership },
      body,
      contentType: PatchStrategy.ServerSideApply,
    });
  };

  /** Raises the limit of running pods in place, so relief does not wait for a rollout. */
  const resizePods = async ({ get, send }: Calls, workload: Workload, plan: Plan, notes: string[]): Promise<number> => {
    const namespace = workload.metadata?.namespace ?? '';
    const selector = Object.entries(workload.spec?.selector.matchLabels ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    if (selector === '' || plan.toLimitMillicores === undefined) {
      return 0;
    }
    const pods = await get<KubeList<KubeObject>>(`/api/v1/namespaces/${segment(namespace)}/pods`, { labelSelector: selector });
    let resized = 0;
    const body = { spec: { containers: [{ name: plan.container, resources: { limits: { cpu: `${plan.toLimitMillicores}m` } } }] } };
    for (const pod of pods.items) {
      try {
        await send({
          method: 'PATCH',
          path: `/api/v1/namespaces/${segment(namespace)}/pods/${segment(pod.metadata?.name ?? '')}/resize`,
          query: { fieldManager: FIELD_MANAGER },
          body,
          contentType: PatchStrategy.StrategicMergePatch,
        });
        resized += 1;
      } catch (error) {
        const status = httpStatus(error);
        notes.push(`in-place resize of pod ${pod.metadata?.name ?? '?'} failed${status === undefined ? '' : ` (HTTP ${status})`}; the rollout will apply the new limit`);
      }
    }
    return resized;
  };

  const recordEvent = async ({ send }: Calls, report: RemediationReport, workload: Workload | undefined): Promise<void> => {
    if (workload?.metadata?.name === undefined) {
      return;
    }
    const warning = report.outcome === 'conflict' || report.outcome === 'failed';
    try {
      await send({
        method: 'POST',
        path: `/apis/events.k8s.io/v1/namespaces/${segment(report.workload.namespace)}/events`,
        body: {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { generateName: `${report.workload.name}.kernel-gossip-` },
          eventTime: microTime(now()),
          reportingController: REPORTING_CONTROLLER,
          reportingInstance: options.reportingInstance,
          action: report.outcome === 'applied' ? 'RaiseCPULimit' : 'Evaluate',
          reason: `CPULimit${report.outcome.charAt(0).toUpperCase()}${report.outcome.slice(1)}`,
          note: report.reason.slice(0, 1000),
          type: warning ? 'Warning' : 'Normal',
          regarding: {
            apiVersion: 'apps/v1',
            kind: report.workload.kind,
            name: workload.metadata.name,
            namespace: report.workload.namespace,
            ...(workload.metadata.uid === undefined ? {} : { uid: workload.metadata.uid }),
          },
        },
      });
    } catch (error) {
      // An Event is a courtesy: its failure must not turn a decision into a retry.
      (report.notes as string[]).push(`recording the Event failed${httpStatus(error) === undefined ? '' : ` (HTTP ${httpStatus(error)})`}`);
    }
  };

  /** The decision on one finding, and the workload it is about once read (the Event is recorded on it). */
  const decide = async (calls: Calls, finding: ThrottleFinding): Promise<{ report: RemediationReport; workload: Workload | undefined }> => {
    const namespace = finding.namespace;
    const notes: string[] = [];
    let owner: { kind: string; name: string };
    try {
      owner = await resolveOwner(calls, namespace, finding.workload.kind, finding.workload.name);
    } catch (error) {
      const api = classify(error, 'resolving the workload', calls.signal);
      const outcome = api.code === 404 ? 'skipped' : 'failed';
      return {
        report: { outcome, reason: `${finding.workload.kind} ${finding.workload.name}: HTTP ${api.code} ${statusOf(api).message ?? ''}`.trim(), plan: undefined, workload: { ...finding.workload, namespace }, podsResized: 0, notes },
        workload: undefined,
      };
    }
    const ref = { kind: owner.kind, name: owner.name, namespace };
    for (let attempt = 0; ; attempt += 1) {
      let workload: Workload | undefined;
      let plan: Plan;
      try {
        workload = await readWorkload(calls, namespace, owner.kind, owner.name);
        if (workload === undefined) {
          return { report: { outcome: 'skipped', reason: `${owner.kind} is not remediated (only Deployment and StatefulSet)`, plan: undefined, workload: ref, podsResized: 0, notes }, workload: undefined };
        }
        const [ns, hpa, actions] = await Promise.all([calls.get<KubeObject>(`/api/v1/namespaces/${segment(namespace)}`), hpaOnCpu(calls, namespace, owner.kind, owner.name), actionsThisRun(calls, finding)]);
        plan = planRemediation({
          finding,
          workload: stateOf(workload, owner.kind, hpa),
          namespaceLabels: ns.metadata?.labels ?? {},
          namespaceAnnotations: ns.metadata?.annotations ?? {},
          operator: options.operator,
          now: now(),
          actionsThisRun: actions,
        });
      } catch (error) {
        const api = classify(error, 'reading the workload', calls.signal);
        const report: RemediationReport = {
          outcome: api.code === 404 ? 'skipped' : 'failed',
          reason: `reading ${owner.kind} ${owner.name}: HTTP ${api.code} ${statusOf(api).message ?? ''}`.trim(),
          plan: undefined,
          workload: ref,
          podsResized: 0,
          notes,
        };
        return { report, workload };
      }
      notes.push(...plan.notes);
      if (plan.action !== 'apply') {
        const report: RemediationReport = { outcome: plan.action === 'recommend' ? 'recommended' : 'skipped', reason: plan.reason, plan, workload: ref, podsResized: 0, notes };
        return { report, workload };
      }
      try {
        await apply(calls, owner.kind, applyBody(plan, { finding, workload: stateOf(workload, owner.kind, false), namespaceLabels: {}, operator: options.operator, now: now(), actionsThisRun: 0 }), plan);
      } catch (error) {
        const api = classify(error, 'applying the new limit', calls.signal);
        const status = statusOf(api);
        if (api.code === 409) {
          const manager = conflictingManagerOf(status);
          if (manager !== undefined) {
            const report: RemediationReport = {
              outcome: 'conflict',
              reason: `the CPU limit is owned by field manager "${manager}" (GitOps or another tool); commit the patch instead, or annotate ${STATE_KEYS.takeOwnership}=cpu-limit to let kernel-gossip own it`,
              plan,
              workload: ref,
              conflictingManager: manager,
              podsResized: 0,
              notes,
            };
            return { report, workload };
          }
          if (attempt < maxRetries) {
            // resourceVersion changed under us (a concurrent delivery or another writer): re-read and decide again.
            notes.push('retried after a concurrent change of the workload (resourceVersion conflict)');
            continue;
          }
        }
        const report: RemediationReport = {
          outcome: 'failed',
          reason: `applying the new limit: HTTP ${api.code} ${status.message ?? ''}`.trim(),
          plan,
          workload: ref,
          podsResized: 0,
          notes,
        };
        return { report, workload };
      }
      const resized = options.operator.resizeInPlace ? await resizePods(calls, workload, plan, notes) : 0;
      const report: RemediationReport = { outcome: 'applied', reason: plan.reason, plan, workload: ref, podsResized: resized, notes };
      return { report, workload };
    }
  };

  /** Decides and, where the policy allows, acts on one throttle finding; records the decision as one Event on the workload. */
  const remediate = async (finding: ThrottleFinding, { deadline }: RemediateOptions): Promise<RemediationReport> => {
    const calls = callsUntil(deadlineSignal(deadline));
    const { report, workload } = await decide(calls, finding);
    await recordEvent(calls, report, workload);
    return report;
  };

  return { remediate };
};

export type Remediator = ReturnType<typeof createRemediator>;
