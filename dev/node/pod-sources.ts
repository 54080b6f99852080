/**
 * Where the names of this node's pods come from (adapters): the API server, given a kubeconfig
 * (`GET /api/v1/pods?fieldSelector=spec.nodeName=<node>`, as a kubelet lists its own pods), or the
 * kubelet's read-only pod list (`GET <kubelet>/pods`, port 10255 when the kubelet enables it).
 * Each call has a deadline; a failure is a {@link PodSourceError} that keeps its cause.
 *
 * @module
 */
import { kubeRequester } from '../../shared/kube/api.ts';
import { fileKubeConfig } from '../../shared/kube/connect.ts';
import type { NamingSource, PodSource } from './naming.ts';
import { type NamedPod, podsOfList } from './pods.ts';

/** A pod source could not answer (unreachable, refused, or answered something else). */
export class PodSourceError extends Error {
  override readonly name = 'PodSourceError';
}

/** The kubelet's read-only port (KubeletConfiguration `readOnlyPort`; 0, disabled, on most clusters). */
export const DEFAULT_KUBELET_URL = 'http://127.0.0.1:10255';

const withDeadline = async <T>(what: string, timeoutMs: number, work: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new PodSourceError(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

const describe = (error: unknown): string => {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
  return typeof code === 'number' ? `HTTP ${code}` : message.slice(0, 200);
};

export interface ApiServerPodsOptions {
  readonly kubeconfig: string;
  /** The node's name as the kubelet registered it (its hostname unless overridden). */
  readonly node: string;
  readonly timeoutMs?: number;
}

/** A function listing the pods of `node` from the API server of `kubeconfig`. */
export const apiServerPods = (options: ApiServerPodsOptions): (() => Promise<NamedPod[]>) => {
  // The name goes into a field selector: only a DNS subdomain, so it cannot add another selector.
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(options.node)) {
    throw new PodSourceError(`node name ${JSON.stringify(options.node.slice(0, 80))} is not a Kubernetes node name (a DNS subdomain)`);
  }
  let send: ReturnType<typeof kubeRequester>;
  try {
    send = kubeRequester(fileKubeConfig(options.kubeconfig));
  } catch (error) {
    throw new PodSourceError(`kubeconfig ${options.kubeconfig} cannot be used: ${describe(error)}`, { cause: error });
  }
  return async () => {
    const what = `the API server's pods of node ${options.node}`;
    try {
      const list = await withDeadline(what, options.timeoutMs ?? 5000, send({ method: 'GET', path: '/api/v1/pods', query: { fieldSelector: `spec.nodeName=${options.node}` } }));
      return podsOfList(list);
    } catch (error) {
      throw error instanceof PodSourceError ? error : new PodSourceError(`${what}: ${describe(error)}`, { cause: error });
    }
  };
};

/**
 * A kubelet read-only endpoint as given on a command line, checked: `http:` or `https:`, a host,
 * nothing after it (the pod list is always `<origin>/pods`, so a path would be silently dropped),
 * no credentials (the read-only port takes none). Returns the origin; throws a
 * {@link PodSourceError} that says what is wrong.
 */
export const parseKubeletUrl = (text: string): string => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PodSourceError(`${JSON.stringify(text.slice(0, 80))} is not a URL (expected e.g. ${DEFAULT_KUBELET_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PodSourceError(`${JSON.stringify(text.slice(0, 80))}: only http: and https: URLs (the kubelet's read-only port speaks HTTP, e.g. ${DEFAULT_KUBELET_URL}), not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new PodSourceError(`${JSON.stringify(url.origin)}: no credentials in the URL (the read-only port takes none)`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new PodSourceError(`${JSON.stringify(text.slice(0, 80))}: give only scheme, host and port (the pod list is always <url>/pods)`);
  }
  return url.origin;
};

/** A function listing the pods of the kubelet's read-only pod list at `url`. */
export const kubeletPods = (url: string = DEFAULT_KUBELET_URL, timeoutMs = 2000): (() => Promise<NamedPod[]>) => {
  const endpoint = new URL('/pods', url);
  return async () => {
    const what = `the kubelet's pod list at ${endpoint.origin}`;
    try {
      const response = await fetch(endpoint, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) {
        throw new PodSourceError(`${what}: HTTP ${response.status}`);
      }
      return podsOfList(await response.json());
    } catch (error) {
      throw error instanceof PodSourceError ? error : new PodSourceError(`${what}: ${describe(error)}`, { cause: error });
    }
  };
};

/** One way to list pods, tagged with the naming source it stands for. */
export interface PodLister {
  readonly source: NamingSource;
  readonly list: () => Promise<readonly NamedPod[]>;
}

export interface PodListing {
  readonly sources: readonly PodSource[];
  readonly failures: readonly { readonly source: NamingSource; readonly error: string }[];
}

/** Asks every lister at once; one that fails is reported with its reason and names nothing. */
export const listPods = async (listers: readonly PodLister[]): Promise<PodListing> => {
  const results = await Promise.allSettled(listers.map((lister) => lister.list()));
  const sources: PodSource[] = [];
  const failures: { source: NamingSource; error: string }[] = [];
  results.forEach((result, i) => {
    const source = listers[i]?.source ?? 'api-server';
    if (result.status === 'fulfilled') {
      sources.push({ source, pods: result.value });
    } else {
      failures.push({ source, error: result.reason instanceof Error ? result.reason.message : String(result.reason) });
    }
  });
  return { sources, failures };
};

export interface NamingOptions {
  /** A kubeconfig: names come from the API server. */
  readonly kubeconfig?: string;
  /** This node's name as registered (default: the hostname, as a kubelet without `--hostname-override`). */
  readonly node: string;
  /** The kubelet's read-only endpoint, asked when no kubeconfig is given. */
  readonly kubeletUrl?: string;
}

/** The API server when a kubeconfig is given, else the kubelet's read-only pod list. */
export const podListers = (options: NamingOptions): PodLister[] =>
  options.kubeconfig === undefined
    ? [{ source: 'kubelet', list: kubeletPods(options.kubeletUrl) }]
    : [{ source: 'api-server', list: apiServerPods({ kubeconfig: options.kubeconfig, node: options.node }) }];
