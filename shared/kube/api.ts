/**
 * The few Kubernetes REST calls the remediator makes, sent through client-node's own request
 * pipeline: the KubeConfig's authentication and TLS (our Google token authenticator on GKE, the
 * kubeconfig's certificates locally), its user-agent middleware and its undici fetch, exactly as
 * the generated `CoreV1Api`/`AppsV1Api` classes send them, and failures as the same
 * {@link ApiException} (HTTP status in `code`, the API server's Status text in `body`).
 *
 * Why not the generated classes: each is one class with every method of its API group, so none of
 * it tree-shakes (`CoreV1Api` alone is 370 KiB of the bundle, with its ObservableAPI and
 * ObjectParamAPI wrappers ~0.7 MiB for four API groups), and parsing it is on every cold start.
 * Why not `KubernetesObjectApi`: it discovers each API group's resources with an extra request
 * per group and instance, and has no subresources (`pods/{name}/resize`).
 *
 * Responses are plain JSON objects (the generated classes also build model instances, e.g. Date
 * objects for timestamps; nothing here reads those fields). The shapes below name only the
 * fields we read.
 *
 * @module
 */
import { ApiException, type Configuration, HttpMethod, type KubeConfig, type RequestContext, type ResponseContext } from '@kubernetes/client-node';

/** A request: path under the API server, query parameters (undefined ones are left out), JSON body. */
export interface KubeRequest {
  readonly method: 'GET' | 'POST' | 'PATCH';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | boolean | undefined>>;
  readonly body?: unknown;
  /** Content type of the body; `application/json` unless a patch type is given. */
  readonly contentType?: string;
  /** Ends the request (and rejects with the signal's reason) when the caller's deadline passes. */
  readonly signal?: AbortSignal;
}

const HTTP_METHODS = { GET: HttpMethod.GET, POST: HttpMethod.POST, PATCH: HttpMethod.PATCH } as const;

/** Sends requests with the configuration `KubeConfig.makeApiClient` builds (server, auth, middleware, HTTP library). */
class KubeRequester {
  readonly configuration: Configuration;

  constructor(configuration: Configuration) {
    this.configuration = configuration;
  }

  /** Sends one request; resolves the parsed JSON of a 2xx answer, rejects with {@link ApiException} otherwise. */
  async send(request: KubeRequest): Promise<unknown> {
    const config = this.configuration;
    let context: RequestContext = config.baseServer.makeRequestContext(request.path, HTTP_METHODS[request.method]);
    context.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) {
        context.setQueryParam(name, String(value));
      }
    }
    if (request.body !== undefined) {
      context.setHeaderParam('Content-Type', request.contentType ?? 'application/json');
      context.setBody(JSON.stringify(request.body));
    }
    if (request.signal !== undefined) {
      // client-node's fetch passes the context's signal to undici (gen/http/isomorphic-fetch.js).
      context.setSignal(request.signal);
    }
    // The order of the generated classes: bearer token, then the KubeConfig, then middleware.
    await config.authMethods.BearerToken?.applySecurityAuthentication(context);
    await config.authMethods.default?.applySecurityAuthentication(context);
    for (const middleware of config.middleware) {
      context = await middleware.pre(context).toPromise();
    }
    request.signal?.throwIfAborted();
    let response: ResponseContext = await config.httpApi.send(context).toPromise();
    for (const middleware of [...config.middleware].reverse()) {
      response = await middleware.post(response).toPromise();
    }
    const status = response.httpStatusCode;
    if (status >= 200 && status <= 299) {
      return JSON.parse(await response.body.text()) as unknown;
    }
    // As the generated classes do: no body kept for 401, the answer's text otherwise.
    if (status === 401) {
      throw new ApiException<undefined>(status, 'Unauthorized', undefined, response.headers);
    }
    throw new ApiException<string>(status, 'Unknown API Status Code!', await response.body.text(), response.headers);
  }
}

/** Sends requests to the current cluster of `kubeConfig` (throws like `makeApiClient` if it has none). */
export const kubeRequester = (kubeConfig: KubeConfig): ((request: KubeRequest) => Promise<unknown>) => {
  const requester = kubeConfig.makeApiClient(KubeRequester);
  return (request) => requester.send(request);
};

/** The signal that ends Kubernetes calls at `deadline`: the calls of one push share it, so none outlives the push. */
export const deadlineSignal = (deadline: Date, now: number = Date.now()): AbortSignal => AbortSignal.timeout(Math.max(0, deadline.getTime() - now));

/** A path segment from a name: names and namespaces are DNS labels, encoded anyway. */
export const segment = (value: string): string => encodeURIComponent(value);

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly { readonly kind: string; readonly name: string; readonly controller?: boolean }[];
}

export interface KubeObject {
  readonly metadata?: ObjectMeta;
}

export interface KubeList<T> {
  readonly items: readonly T[];
}

export interface Container {
  readonly name: string;
  readonly resources?: {
    readonly limits?: Readonly<Record<string, string>>;
    readonly requests?: Readonly<Record<string, string>>;
  };
}

/** A Deployment or StatefulSet, as far as the remediator reads it. */
export interface Workload extends KubeObject {
  readonly spec?: {
    readonly selector: { readonly matchLabels?: Readonly<Record<string, string>> };
    readonly template: { readonly spec?: { readonly containers: readonly Container[] } };
  };
}

export interface HorizontalPodAutoscaler extends KubeObject {
  readonly spec: {
    readonly scaleTargetRef: { readonly kind: string; readonly name: string };
    readonly metrics?: readonly { readonly resource?: { readonly name: string }; readonly containerResource?: { readonly name: string } }[];
  };
}

/**
 * A `MicroTime` (`2006-01-02T15:04:05.000000Z`), as client-node's `V1MicroTime` writes it: the
 * millisecond ISO time with three zero digits of microseconds.
 */
export const microTime = (date: Date): string => `${date.toISOString().slice(0, -1)}000Z`;
