import { ROLLOUT_ERRORS } from '../../stepfunctions/canary-rollout-states';
import {
  MERGE_PATCH_CONTENT_TYPE,
  httpRoutePath,
  routeFromCallResult,
  routePatchRequest,
  routeRejection,
  routeWeights,
  routeWeightsMergePatch,
  type HttpRoute,
} from '../../lambdas/rollout/eks/http-route';
import { applyMergePatch } from '../../local/rollout/simulated-http-route';
import { EKS_TARGET, eksPlan, sageMakerPlan } from './helpers';

const backends = { current: EKS_TARGET.currentBackend, candidate: EKS_TARGET.candidateBackend };

/** A route with two rules on our backends (one only names current), a rule elsewhere, a filter and ports. */
function route(overrides: Partial<HttpRoute['metadata']> = {}): HttpRoute {
  return routeFromCallResult({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: EKS_TARGET.httpRouteName, namespace: EKS_TARGET.namespace, resourceVersion: '4711', generation: 7, ...overrides },
    spec: {
      parentRefs: [{ name: 'inference-gateway', namespace: 'gateways' }],
      hostnames: ['llm.internal.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/v1/chat' } }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x-route', value: 'canary' }] } }],
          backendRefs: [
            { name: backends.current, port: 8000, weight: 100 },
            { name: backends.candidate, port: 8000, weight: 0 },
          ],
        },
        { matches: [{ path: { type: 'PathPrefix', value: '/v1/completions' } }], backendRefs: [{ kind: 'Service', name: backends.current, port: 8000 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/health' } }], backendRefs: [{ name: 'health-checker', port: 80 }] },
      ],
    },
    status: { parents: [{ controllerName: 'gateway.envoyproxy.io/gatewayclass-controller', conditions: [{ type: 'Accepted', status: 'True', observedGeneration: 7 }] }] },
  });
}

describe('HTTPRoute weights', () => {
  it('addresses the route through the Gateway API', () => {
    expect(httpRoutePath(EKS_TARGET)).toBe(`/apis/gateway.networking.k8s.io/v1/namespaces/${EKS_TARGET.namespace}/httproutes/${EKS_TARGET.httpRouteName}`);
  });

  it('reads a route from an eks:call result, a JSON string body or the route itself', () => {
    const r = route();
    expect(routeFromCallResult({ ResponseBody: r, StatusCode: 200, StatusText: 'OK', Headers: {} })).toEqual(r);
    expect(routeFromCallResult({ ResponseBody: JSON.stringify(r), StatusCode: 200 })).toEqual(r);
    expect(routeFromCallResult(r)).toEqual(r);
    expect(() => routeFromCallResult({ ResponseBody: { kind: 'Status', code: 404 }, StatusCode: 404 })).toThrow('the HTTPRoute read answered HTTP 404');
    expect(() => routeFromCallResult({ kind: 'Service', metadata: { name: 'x' }, spec: {} })).toThrow('not an HTTPRoute');
  });

  it('computes the split over every rule that names the backends (an unweighted ref weighs 1)', () => {
    // Rule 1 names only the current backend without a weight: 100 % current, same as rule 0.
    expect(routeWeights(route(), backends)).toEqual({ currentPercent: 100, candidatePercent: 0 });
  });

  it('refuses rules that disagree, a missing route rule and a third backend', () => {
    const r = route();
    r.spec.rules![0]!.backendRefs![0]!.weight = 90;
    r.spec.rules![0]!.backendRefs![1]!.weight = 10;
    expect(() => routeWeights(r, backends)).toThrow(/rules disagree: rule 0 serves current 90 % \/ candidate 10 %, rule 1 serves current 100 % \/ candidate 0 %/);
    expect(() => routeWeights(route(), { current: 'a', candidate: 'b' })).toThrow('has no rule with a backendRef named a or b');
    const third = route();
    third.spec.rules![0]!.backendRefs!.push({ name: 'stray', port: 8000, weight: 5 });
    let error: unknown;
    try {
      routeWeights(third, backends, { currentPercent: 100, candidatePercent: 0 });
    } catch (e) {
      error = e;
    }
    expect((error as Error).name).toBe(ROLLOUT_ERRORS.weightsNotApplied);
    expect((error as Error).message).toContain('also sends traffic to stray 5 %');
  });

  it('builds a merge patch that keeps every rule and field and only moves the weights', () => {
    const before = route();
    const patch = routeWeightsMergePatch(before, backends, { currentPercent: 90, candidatePercent: 10 });
    expect(patch.metadata).toEqual({ resourceVersion: '4711' });
    expect(patch.spec.rules).toHaveLength(3);
    // Rule 0: same matches, filter and ports; new weights.
    expect(patch.spec.rules[0]).toEqual({ ...before.spec.rules![0], backendRefs: [{ name: backends.current, port: 8000, weight: 90 }, { name: backends.candidate, port: 8000, weight: 10 }] });
    // Rule 1 named only the current backend: the candidate is added, shaped like it.
    expect(patch.spec.rules[1]!.backendRefs).toEqual([
      { kind: 'Service', name: backends.current, port: 8000, weight: 90 },
      { kind: 'Service', name: backends.candidate, port: 8000, weight: 10 },
    ]);
    // A rule that routes elsewhere is sent back untouched (a merge patch replaces the whole array).
    expect(patch.spec.rules[2]).toEqual(before.spec.rules![2]);

    const after = routeFromCallResult(applyMergePatch(before as never, patch as never));
    expect(routeWeights(after, backends)).toEqual({ currentPercent: 90, candidatePercent: 10 });
    expect(after.spec.hostnames).toEqual(['llm.internal.example.com']);
    expect(after.spec.parentRefs).toEqual(before.spec.parentRefs);
  });

  it('rolls a route back to 100 % current, zeroing a third backend in a weighed rule', () => {
    const r = route();
    r.spec.rules![0]!.backendRefs!.push({ name: 'stray', port: 8000 });
    const patch = routeWeightsMergePatch(r, backends, { currentPercent: 100, candidatePercent: 0 });
    expect(patch.spec.rules[0]!.backendRefs!.map((ref) => [ref.name, ref.weight])).toEqual([
      [backends.current, 100],
      [backends.candidate, 0],
      ['stray', 0],
    ]);
    expect(routeWeights(routeFromCallResult(applyMergePatch(r as never, patch as never)), backends)).toEqual({ currentPercent: 100, candidatePercent: 0 });
  });

  it('makes the eks:call PATCH request for a plan', () => {
    const request = routePatchRequest(eksPlan(), route(), { currentPercent: 50, candidatePercent: 50 });
    expect(request.method).toBe('PATCH');
    expect(request.contentType).toBe(MERGE_PATCH_CONTENT_TYPE);
    expect(request.path).toBe(httpRoutePath(EKS_TARGET));
    expect(() => routePatchRequest(sageMakerPlan(), route(), { currentPercent: 50, candidatePercent: 50 })).toThrow('targets sagemaker, not an EKS HTTPRoute');
  });

  it('reports a gateway that did not accept the current generation, and ignores stale conditions', () => {
    expect(routeRejection(route())).toBeUndefined();
    const rejected = route();
    rejected.status = { parents: [{ controllerName: 'gw', conditions: [{ type: 'Accepted', status: 'False', reason: 'UnsupportedValue', message: 'weight too large', observedGeneration: 7 }] }] };
    expect(routeRejection(rejected)).toBe('gw did not accept HTTPRoute llm-serving/qwen3-4b-internal: UnsupportedValue weight too large');
    const stale = route({ generation: 8 });
    stale.status = rejected.status;
    expect(routeRejection(stale)).toBeUndefined();
  });
});

describe('applyMergePatch (RFC 7386)', () => {
  it('merges objects, replaces arrays and removes nulls', () => {
    expect(applyMergePatch({ a: 'b', c: { d: 'e', f: 'g' }, list: [1, 2] }, { a: 'z', c: { f: null }, list: [3] })).toEqual({ a: 'z', c: { d: 'e' }, list: [3] });
    expect(applyMergePatch({ a: 1 }, ['x'])).toEqual(['x']);
  });
});
