/**
 * shared/kube/api.ts sends through @kubernetes/client-node's own request pipeline (its
 * authentication, user-agent middleware and undici fetch), which is why the package is pinned
 * exactly: these tests hold that use to what the pinned 2.0.1 does, at the HTTP level, with undici's
 * MockAgent as the API server. client-node's fetch uses undici's global dispatcher when the
 * kubeconfig needs no TLS options of its own (`createDispatcherOptions` answers `none` in
 * dist/config.js), so the mock sees exactly what a real API server would.
 */
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { type Dispatcher, getGlobalDispatcher, MockAgent, setGlobalDispatcher } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kubeRequester } from '../../../shared/kube/api.ts';
import { DEFAULT_POLICY } from '../../../shared/kube/policy.ts';
import { createRemediator, TransientKubeError } from '../../../shared/kube/remediator.ts';
import { sampleThrottle } from '../../support/findings.ts';

const SERVER = 'https://kube.test:6443';
const TOKEN = 'kube-token-for-the-mock';

const kubeConfig = (): KubeConfig => {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'mock', server: SERVER }],
    users: [{ name: 'remediator', token: TOKEN }],
    contexts: [{ name: 'mock', cluster: 'mock', user: 'remediator' }],
    currentContext: 'mock',
  });
  return config;
};

const json = { headers: { 'content-type': 'application/json' } };

let agent: MockAgent;
let previous: Dispatcher;

beforeEach(() => {
  previous = getGlobalDispatcher();
  agent = new MockAgent({ enableCallHistory: true });
  agent.disableNetConnect();
  setGlobalDispatcher(agent);
});

afterEach(async () => {
  setGlobalDispatcher(previous);
  await agent.close();
});

describe('kubeRequester through client-node 2.0.1 (undici MockAgent as the API server)', () => {
  it('sends a GET with the kubeconfig token, the client-node user agent and the query, and parses the JSON', async () => {
    agent
      .get(SERVER)
      .intercept({
        path: '/apis/apps/v1/deployments?labelSelector=kernel.gossip.io%2Fwindow%3Dw1',
        method: 'GET',
        headers: { authorization: `Bearer ${TOKEN}`, 'user-agent': 'kubernetes-client-javascript/2.0.1', accept: 'application/json, */*;q=0.8' },
      })
      .reply(200, { items: [{ metadata: { name: 'cart' } }] }, json);
    const send = kubeRequester(kubeConfig());
    await expect(send({ method: 'GET', path: '/apis/apps/v1/deployments', query: { labelSelector: 'kernel.gossip.io/window=w1', unset: undefined } })).resolves.toEqual({
      items: [{ metadata: { name: 'cart' } }],
    });
    agent.assertNoPendingInterceptors();
  });

  it('sends a server-side apply PATCH with its content type, field manager and JSON body', async () => {
    const body = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'cart', namespace: 'shop' } };
    agent
      .get(SERVER)
      .intercept({
        path: '/apis/apps/v1/namespaces/shop/deployments/cart?fieldManager=kernel-gossip-remediator&force=false',
        method: 'PATCH',
        headers: { 'content-type': 'application/apply-patch+yaml' },
        body: JSON.stringify(body),
      })
      .reply(200, body, json);
    const send = kubeRequester(kubeConfig());
    await expect(
      send({ method: 'PATCH', path: '/apis/apps/v1/namespaces/shop/deployments/cart', query: { fieldManager: 'kernel-gossip-remediator', force: false }, body, contentType: 'application/apply-patch+yaml' }),
    ).resolves.toEqual(body);
    agent.assertNoPendingInterceptors();
  });

  it('fails a non-2xx answer as the ApiException the generated classes throw: the status, and the Status text except for 401', async () => {
    const status = { kind: 'Status', status: 'Failure', reason: 'Conflict', message: 'Apply failed with 1 conflict: conflict with "argocd"', code: 409 };
    const pool = agent.get(SERVER);
    pool.intercept({ path: '/api/v1/namespaces/shop', method: 'GET' }).reply(409, status, json);
    pool.intercept({ path: '/api/v1/namespaces/shop', method: 'GET' }).reply(401, { kind: 'Status', message: 'Unauthorized' }, json);
    const send = kubeRequester(kubeConfig());
    const conflict = await send({ method: 'GET', path: '/api/v1/namespaces/shop' }).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(ApiException);
    expect([(conflict as ApiException<string>).code, JSON.parse((conflict as ApiException<string>).body) as unknown]).toEqual([409, status]);
    const unauthorized = await send({ method: 'GET', path: '/api/v1/namespaces/shop' }).catch((error: unknown) => error);
    expect([(unauthorized as ApiException<undefined>).code, (unauthorized as ApiException<undefined>).body]).toEqual([401, undefined]);
  });

  it('ends a request the API server does not answer when its signal fires', async () => {
    // The reply would come after an hour: only the signal can end the call.
    agent.get(SERVER).intercept({ path: '/api/v1/namespaces/shop', method: 'GET' }).reply(200, {}, json).delay(3_600_000);
    const send = kubeRequester(kubeConfig());
    const error = await send({ method: 'GET', path: '/api/v1/namespaces/shop', signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
  });

  it('sends nothing once the signal has fired', async () => {
    const send = kubeRequester(kubeConfig());
    const aborted = AbortSignal.abort(new Error('deadline passed before the call'));
    await expect(send({ method: 'GET', path: '/api/v1/namespaces/shop', signal: aborted })).rejects.toThrow('deadline passed before the call');
    expect(agent.getCallHistory()?.calls() ?? []).toEqual([]);
  });
});

describe('the remediator against the mock API server', () => {
  const workload = {
    metadata: { name: 'cart', namespace: 'shop', uid: 'u-1', resourceVersion: '7', labels: {}, annotations: {} },
    spec: {
      selector: { matchLabels: { app: 'cart' } },
      template: { spec: { containers: [{ name: 'app', resources: { limits: { cpu: '200m' }, requests: { cpu: '100m' } } }] } },
    },
  };

  /** Answers the reads of one decision; the namespace opts in, so the plan is the operator's mode. */
  const serveReads = (): void => {
    const pool = agent.get(SERVER);
    pool.intercept({ path: '/apis/apps/v1/namespaces/shop/deployments/cart', method: 'GET' }).reply(200, workload, json);
    pool.intercept({ path: '/api/v1/namespaces/shop', method: 'GET' }).reply(200, { metadata: { name: 'shop', labels: { 'kernel.gossip.io/remediation': 'enabled' } } }, json);
    pool.intercept({ path: '/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers', method: 'GET' }).reply(200, { items: [] }, json);
    pool.intercept({ path: (p) => p.startsWith('/apis/apps/v1/deployments?'), method: 'GET' }).reply(200, { items: [] }, json);
    pool.intercept({ path: (p) => p.startsWith('/apis/apps/v1/statefulsets?'), method: 'GET' }).reply(200, { items: [] }, json);
  };

  const eventPosts = (): number =>
    (agent.getCallHistory()?.calls() ?? []).filter((call) => call.method === 'POST' && call.path === '/apis/events.k8s.io/v1/namespaces/shop/events').length;

  /** One remediation in `mode`, with a minute to go, Events accepted; its outcome and the Events posted. */
  const decideIn = async (mode: 'recommend' | 'apply'): Promise<[string, number]> => {
    agent.get(SERVER).intercept({ path: '/apis/events.k8s.io/v1/namespaces/shop/events', method: 'POST' }).reply(201, {}, json).persist();
    const remediator = createRemediator({ kubeConfig: kubeConfig(), operator: { ...DEFAULT_POLICY, mode, minConsecutiveWindows: 1 }, reportingInstance: 'test' });
    const report = await remediator.remediate(sampleThrottle(), { deadline: new Date(Date.now() + 60_000) });
    return [report.outcome, eventPosts()];
  };

  it('records its decision as exactly one Event', async () => {
    serveReads();
    expect(await decideIn('recommend')).toEqual(['recommended', 1]);
  });

  it('records one Event for a failed apply too', async () => {
    serveReads();
    agent
      .get(SERVER)
      .intercept({ path: (p) => p.startsWith('/apis/apps/v1/namespaces/shop/deployments/cart?'), method: 'PATCH' })
      .reply(422, { kind: 'Status', message: 'invalid' }, json);
    expect(await decideIn('apply')).toEqual(['failed', 1]);
  });

  it('does not outlive the push deadline: a hanging API server ends the remediation as transient (the push is redelivered)', async () => {
    agent.get(SERVER).intercept({ path: '/apis/apps/v1/namespaces/shop/deployments/cart', method: 'GET' }).reply(200, workload, json).delay(3_600_000);
    const remediator = createRemediator({ kubeConfig: kubeConfig(), operator: { ...DEFAULT_POLICY, mode: 'apply' }, reportingInstance: 'test' });
    const error = await remediator.remediate(sampleThrottle(), { deadline: new Date(Date.now() + 200) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientKubeError);
    expect((error as Error).message).toBe('reading the workload: the push deadline passed');
    expect(eventPosts()).toBe(0);
  });
});
