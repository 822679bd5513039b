import { EksRouteRouter } from '../../lambdas/rollout/aws/eks-route-router';
import { presignedUrlOfToken } from '../../lambdas/rollout/aws/eks-token';
import { KubernetesApi, nodeHttpsTransport, type HttpsRequest, type HttpsResponse } from '../../lambdas/rollout/aws/kubernetes-api';
import { TrafficTargetBusy } from '../../lambdas/rollout/errors';
import { backendsOf, httpRoutePath, routeWeights } from '../../lambdas/rollout/eks/http-route';
import { SimulatedHttpRoute, EksCallError } from '../../local/rollout/simulated-http-route';
import { EKS_TARGET, VirtualClock, eksPlan, sageMakerPlan } from './helpers';

const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** A transport that answers from a SIMULATED route and records every request. */
function clusterTransport(route: SimulatedHttpRoute): { transport: (r: HttpsRequest) => Promise<HttpsResponse>; requests: HttpsRequest[] } {
  const requests: HttpsRequest[] = [];
  const transport = async (request: HttpsRequest): Promise<HttpsResponse> => {
    requests.push(request);
    const path = new URL(request.url).pathname;
    try {
      const output = route.call({ Method: request.method, Path: path, ...(request.body === undefined ? {} : { RequestBody: JSON.parse(request.body) as unknown }) });
      return { status: output.StatusCode, body: JSON.stringify(output.ResponseBody) };
    } catch (error) {
      if (error instanceof EksCallError) return { status: error.statusCode, body: JSON.stringify(error.output.ResponseBody) };
      throw error;
    }
  };
  return { transport, requests };
}

describe('EksRouteRouter', () => {
  const clock = new VirtualClock();
  const plan = eksPlan();
  // The dev config's CA is base64 of a PEM header: enough for the client's format check.
  const target = { ...EKS_TARGET, certificateAuthority: Buffer.from(CA_PEM).toString('base64') };

  it('reads the route through the Kubernetes API with an EKS bearer token and the cluster CA', async () => {
    const route = new SimulatedHttpRoute({ target, clock: clock.now });
    const { transport, requests } = clusterTransport(route);
    const router = new EksRouteRouter({ region: 'us-east-1', credentials, transport, clock: clock.now });
    expect(await router.readWeights(target, plan)).toEqual({ currentPercent: 100, candidatePercent: 0 });
    const [get] = requests;
    expect(get!.method).toBe('GET');
    expect(get!.url).toBe(new URL(httpRoutePath(EKS_TARGET), EKS_TARGET.clusterEndpoint).toString());
    expect(get!.ca).toBe(CA_PEM);
    const bearer = get!.headers.authorization!;
    expect(bearer).toMatch(/^Bearer k8s-aws-v1\./);
    expect(presignedUrlOfToken(bearer.slice('Bearer '.length)).searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
  });

  it('patches the weights with a JSON merge patch carrying the resourceVersion it read', async () => {
    const route = new SimulatedHttpRoute({ target, clock: clock.now });
    const { transport, requests } = clusterTransport(route);
    const router = new EksRouteRouter({ region: 'us-east-1', credentials, transport, clock: clock.now });
    await router.setWeights(target, plan, { currentPercent: 90, candidatePercent: 10 });
    const patch = requests.find((r) => r.method === 'PATCH')!;
    expect(patch.headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(patch.body!)).toEqual(expect.objectContaining({ metadata: { resourceVersion: '1' } }));
    expect(routeWeights(route.current(), backendsOf(plan))).toEqual({ currentPercent: 90, candidatePercent: 10 });
    // One token for both calls: tokens are reused, not minted per request.
    expect(new Set(requests.map((r) => r.headers.authorization)).size).toBe(1);
  });

  it('turns a 409 Conflict (the route changed since it was read) into TrafficTargetBusy', async () => {
    const route = new SimulatedHttpRoute({ target, clock: clock.now });
    const { transport: base } = clusterTransport(route);
    // Someone patches between our GET and our PATCH.
    const transport = async (request: HttpsRequest): Promise<HttpsResponse> => {
      if (request.method === 'PATCH') route.call({ Method: 'PATCH', Path: httpRoutePath(EKS_TARGET), RequestBody: { metadata: { labels: { touched: 'yes' } } } });
      return base(request);
    };
    const router = new EksRouteRouter({ region: 'us-east-1', credentials, transport, clock: clock.now });
    await expect(router.setWeights(target, plan, { currentPercent: 100, candidatePercent: 0 })).rejects.toBeInstanceOf(TrafficTargetBusy);
  });

  it('reports an API error with its status and reason', async () => {
    const api = new KubernetesApi({
      endpoint: EKS_TARGET.clusterEndpoint,
      certificateAuthority: target.certificateAuthority,
      token: async () => 'k8s-aws-v1.x',
      transport: async () => ({ status: 403, body: JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'httproutes is forbidden: User "sial-rollback" cannot patch resource' }) }),
    });
    await expect(api.get('/apis/x')).rejects.toThrow('GET /apis/x answered HTTP 403 Forbidden: httproutes is forbidden');
  });

  it('trusts only a PEM certificate authority and speaks only HTTPS', async () => {
    expect(() => new KubernetesApi({ endpoint: 'https://x', certificateAuthority: Buffer.from('not a cert').toString('base64'), token: async () => 't' })).toThrow('not base64 of a PEM certificate');
    await expect(nodeHttpsTransport({ method: 'GET', url: 'http://127.0.0.1:1/', headers: {}, ca: CA_PEM, timeoutMs: 100 })).rejects.toThrow('over HTTPS only');
  });

  it('is refused a SageMaker target', async () => {
    const router = new EksRouteRouter({ region: 'us-east-1', credentials });
    const sm = sageMakerPlan();
    await expect(router.readWeights(sm.target, sm)).rejects.toThrow('was given a sagemaker target');
  });
});
