import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { describeEksClusterWith, type DescribeEksCluster } from '../../lambdas/rollout/aws/eks-cluster-connection';
import { EksRouteRouter } from '../../lambdas/rollout/aws/eks-route-router';
import { presignedUrlOfToken } from '../../lambdas/rollout/aws/eks-token';
import { KubernetesApi, nodeHttpsTransport, type HttpsRequest, type HttpsResponse } from '../../lambdas/rollout/aws/kubernetes-api';
import { TrafficTargetBusy } from '../../lambdas/rollout/errors';
import { backendsOf, httpRoutePath, routeWeights } from '../../lambdas/rollout/eks/http-route';
import { SimulatedHttpRoute, EksCallError } from '../../local/rollout/simulated-http-route';
import { EKS_TARGET, VirtualClock, eksPlan, sageMakerPlan } from './helpers';

const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const ENDPOINT = 'https://EXAMPLE0000000000000000000000000.gr7.us-east-1.eks.amazonaws.com';
const CA_BASE64 = Buffer.from(CA_PEM).toString('base64');

/** A DescribeCluster that answers from a table and counts its calls. */
function clusterDirectory(): { describeCluster: DescribeEksCluster; lookups: string[] } {
  const lookups: string[] = [];
  const describeCluster: DescribeEksCluster = async (name) => {
    lookups.push(name);
    return { endpoint: ENDPOINT, certificateAuthority: CA_BASE64 };
  };
  return { describeCluster, lookups };
}

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
  const target = EKS_TARGET;

  it('reads the route through the Kubernetes API with an EKS bearer token and the cluster CA', async () => {
    const route = new SimulatedHttpRoute({ target, clock: clock.now });
    const { transport, requests } = clusterTransport(route);
    const { describeCluster, lookups } = clusterDirectory();
    const router = new EksRouteRouter({ region: 'us-east-1', credentials, describeCluster, transport, clock: clock.now });
    expect(await router.readWeights(target, plan)).toEqual({ currentPercent: 100, candidatePercent: 0 });
    expect(lookups).toEqual([EKS_TARGET.clusterName]);
    const [get] = requests;
    expect(get!.method).toBe('GET');
    expect(get!.url).toBe(new URL(httpRoutePath(EKS_TARGET), ENDPOINT).toString());
    expect(get!.ca).toBe(CA_PEM);
    const bearer = get!.headers.authorization!;
    expect(bearer).toMatch(/^Bearer k8s-aws-v1\./);
    expect(presignedUrlOfToken(bearer.slice('Bearer '.length)).searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
  });

  it('patches the weights with a JSON merge patch carrying the resourceVersion it read', async () => {
    const route = new SimulatedHttpRoute({ target, clock: clock.now });
    const { transport, requests } = clusterTransport(route);
    const { describeCluster, lookups } = clusterDirectory();
    const router = new EksRouteRouter({ region: 'us-east-1', credentials, describeCluster, transport, clock: clock.now });
    await router.setWeights(target, plan, { currentPercent: 90, candidatePercent: 10 });
    const patch = requests.find((r) => r.method === 'PATCH')!;
    expect(patch.headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(patch.body!)).toEqual(expect.objectContaining({ metadata: { resourceVersion: '1' } }));
    expect(routeWeights(route.current(), backendsOf(plan))).toEqual({ currentPercent: 90, candidatePercent: 10 });
    // One token for both calls and one cluster lookup: neither is repeated per request.
    expect(new Set(requests.map((r) => r.headers.authorization)).size).toBe(1);
    expect(lookups).toEqual([EKS_TARGET.clusterName]);
  });

  it('turns a 409 Conflict (the route changed since it was read) into TrafficTargetBusy', async () => {
    const route = new SimulatedHttpRoute({ target, clock: clock.now });
    const { transport: base } = clusterTransport(route);
    // Someone patches between our GET and our PATCH.
    const transport = async (request: HttpsRequest): Promise<HttpsResponse> => {
      if (request.method === 'PATCH') route.call({ Method: 'PATCH', Path: httpRoutePath(EKS_TARGET), RequestBody: { metadata: { labels: { touched: 'yes' } } } });
      return base(request);
    };
    const router = new EksRouteRouter({ region: 'us-east-1', credentials, describeCluster: clusterDirectory().describeCluster, transport, clock: clock.now });
    await expect(router.setWeights(target, plan, { currentPercent: 100, candidatePercent: 0 })).rejects.toBeInstanceOf(TrafficTargetBusy);
  });

  it('reports an API error with its status and reason', async () => {
    const api = new KubernetesApi({
      endpoint: ENDPOINT,
      certificateAuthority: CA_BASE64,
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
    const router = new EksRouteRouter({ region: 'us-east-1', credentials, describeCluster: clusterDirectory().describeCluster });
    const sm = sageMakerPlan();
    await expect(router.readWeights(sm.target, sm)).rejects.toThrow('was given a sagemaker target');
  });

  it('asks EKS again after a failed cluster lookup instead of keeping the failure', async () => {
    const route = new SimulatedHttpRoute({ target, clock: clock.now });
    const { transport } = clusterTransport(route);
    let calls = 0;
    const describeCluster: DescribeEksCluster = async () => {
      calls += 1;
      if (calls === 1) throw new Error('ThrottlingException: Rate exceeded');
      return { endpoint: ENDPOINT, certificateAuthority: CA_BASE64 };
    };
    const router = new EksRouteRouter({ region: 'us-east-1', credentials, describeCluster, transport, clock: clock.now });
    await expect(router.readWeights(target, plan)).rejects.toThrow('Rate exceeded');
    await expect(router.readWeights(target, plan)).resolves.toEqual({ currentPercent: 100, candidatePercent: 0 });
    expect(calls).toBe(2);
  });
});

it('describes the cluster again after a failure below HTTP (a recreated cluster has a new endpoint and CA), not after an API error', async () => {
  const clock = new VirtualClock();
  const plan = eksPlan();
  const route = new SimulatedHttpRoute({ target: EKS_TARGET, clock: clock.now });
  const { transport: answering } = clusterTransport(route);
  let failNext: 'tls' | 'forbidden' | undefined;
  const transport = async (request: HttpsRequest): Promise<HttpsResponse> => {
    const failure = failNext;
    failNext = undefined;
    if (failure === 'tls') throw new Error('unable to verify the first certificate');
    if (failure === 'forbidden') return { status: 403, body: JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'no' }) };
    return answering(request);
  };
  const { describeCluster, lookups } = clusterDirectory();
  const router = new EksRouteRouter({ region: 'us-east-1', credentials, describeCluster, transport, clock: clock.now });
  await router.readWeights(EKS_TARGET, plan);
  failNext = 'forbidden';
  await expect(router.readWeights(EKS_TARGET, plan)).rejects.toThrow('HTTP 403');
  await router.readWeights(EKS_TARGET, plan);
  expect(lookups).toHaveLength(1);
  failNext = 'tls';
  await expect(router.readWeights(EKS_TARGET, plan)).rejects.toThrow('unable to verify');
  await expect(router.readWeights(EKS_TARGET, plan)).resolves.toEqual({ currentPercent: 100, candidatePercent: 0 });
  expect(lookups).toHaveLength(2);
});

describe('describeEksClusterWith (EKS DescribeCluster)', () => {
  const eks = mockClient(EKSClient);
  beforeEach(() => eks.reset());

  it('returns the endpoint and the base64 CA of the named cluster', async () => {
    eks.on(DescribeClusterCommand, { name: 'serving-dev' }).resolves({ cluster: { name: 'serving-dev', status: 'ACTIVE', endpoint: ENDPOINT, certificateAuthority: { data: CA_BASE64 } } });
    await expect(describeEksClusterWith(new EKSClient({ region: 'us-east-1' }))('serving-dev')).resolves.toEqual({ endpoint: ENDPOINT, certificateAuthority: CA_BASE64 });
  });

  it('refuses a cluster that has no endpoint yet, naming it and its status', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'serving-dev', status: 'CREATING' } });
    await expect(describeEksClusterWith(new EKSClient({ region: 'us-east-1' }))('serving-dev')).rejects.toThrow('EKS cluster serving-dev (status CREATING) reports no API endpoint or certificate authority yet');
  });
});
