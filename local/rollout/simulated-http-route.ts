/**
 * SIMULATED Gateway API HTTPRoute on a SIMULATED EKS cluster, for `npm run local`, the rollout
 * simulation and the tests. It answers the calls the canary makes in the shape the Step Functions
 * eks:call integration returns them (`call({ Method, Path, RequestBody })` -> `{ ResponseBody,
 * StatusCode, StatusText, Headers }`; a non-2xx answer throws an error named `EKS.<status>` as the
 * integration fails), and stands behind the TrafficRouter port like the real EKS adapter.
 *
 * PATCH applies an RFC 7386 JSON merge patch with the resourceVersion precondition of the API server
 * (409 Conflict when stale). `silentlyIgnorePatches` makes a PATCH answer 200 without changing the
 * route, the mismatch the verify step exists for. Everything it reports is marked SIMULATED.
 */
import type { RolloutTarget } from '../../config/schema';
import type { RolloutPlan, TrafficWeights } from '../../lambdas/rollout/contracts';
import { TrafficTargetBusy } from '../../lambdas/rollout/errors';
import { GATEWAY_API_VERSION, backendsOf, httpRoutePath, routeFromCallResult, routeWeights, routeWeightsMergePatch, type EksTarget, type HttpRoute } from '../../lambdas/rollout/eks/http-route';
import type { TrafficRouter } from '../../lambdas/rollout/ports';

/** Marks everything the simulation says. */
export const SIMULATED = '[SIMULATED]';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** RFC 7386 JSON merge patch: objects merge key by key, `null` removes, anything else (arrays too) replaces. */
export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const result: { [key: string]: Json } = target !== null && typeof target === 'object' && !Array.isArray(target) && target !== undefined ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** An eks:call request, as the state's Parameters give it. */
export interface EksCallInput {
  readonly Method: 'GET' | 'PATCH';
  readonly Path: string;
  readonly RequestBody?: unknown;
}

/** An eks:call result. */
export interface EksCallOutput {
  readonly ResponseBody: unknown;
  readonly StatusCode: number;
  readonly StatusText: string;
  readonly Headers: Readonly<Record<string, string[]>>;
}

/** The error eks:call fails with for a non-2xx answer (`EKS.409`, ...), its cause the answer as JSON. */
export class EksCallError extends Error {
  constructor(
    readonly statusCode: number,
    readonly output: EksCallOutput,
  ) {
    super(JSON.stringify(output));
    this.name = `EKS.${statusCode}`;
  }
}

export interface SimulatedHttpRouteOptions {
  readonly target: EksTarget;
  readonly clock: () => Date;
  /** The route to start from; default: one rule, the target's current backend at 100 and its candidate at 0, port 8000. */
  readonly route?: HttpRoute;
}

/** The route a fresh simulated cluster serves for `target`. */
export function initialRoute(target: EksTarget): HttpRoute {
  return routeFromCallResult({
    apiVersion: GATEWAY_API_VERSION,
    kind: 'HTTPRoute',
    metadata: { name: target.httpRouteName, namespace: target.namespace, resourceVersion: '1', generation: 1 },
    spec: {
      parentRefs: [{ name: 'inference-gateway' }],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/v1' } }],
          backendRefs: [
            { name: target.currentBackend, port: 8000, weight: 100 },
            { name: target.candidateBackend, port: 8000, weight: 0 },
          ],
        },
      ],
    },
  });
}

export class SimulatedHttpRoute implements TrafficRouter {
  /** Every change, as a line a local run prints. */
  readonly events: string[] = [];
  /** When true, PATCH answers 200 but the route does not change (simulated fault). */
  silentlyIgnorePatches = false;
  private route: HttpRoute;
  private readonly path: string;

  constructor(private readonly options: SimulatedHttpRouteOptions) {
    this.route = structuredClone(options.route ?? initialRoute(options.target));
    this.path = httpRoutePath(options.target);
    this.accept();
  }

  /** The route as stored now (a copy). */
  current(): HttpRoute {
    return structuredClone(this.route);
  }

  /** The Step Functions eks:call integration against this route. */
  call(input: EksCallInput): EksCallOutput {
    if (input.Path !== this.path) return this.fail(404, 'NotFound', `httproutes at ${input.Path} not found ${SIMULATED} (this cluster serves ${this.path})`);
    if (input.Method === 'GET') return this.ok(this.current());
    if (input.Method !== 'PATCH') return this.fail(405, 'MethodNotAllowed', `${String(input.Method)} is not simulated`);
    const patch = (typeof input.RequestBody === 'string' ? JSON.parse(input.RequestBody) : input.RequestBody) as Json;
    const precondition = (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
    if (precondition !== undefined && precondition !== this.route.metadata.resourceVersion) {
      return this.fail(409, 'Conflict', `Operation cannot be fulfilled on httproutes.gateway.networking.k8s.io "${this.route.metadata.name}": the object has been modified; please apply your changes to the latest version and try again ${SIMULATED}`);
    }
    if (this.silentlyIgnorePatches) {
      this.log('PATCH accepted and silently NOT applied (simulated fault)');
      return this.ok(this.current());
    }
    const merged = routeFromCallResult(applyMergePatch(this.route as unknown as Json, patch));
    const generation = (this.route.metadata.generation ?? 1) + 1;
    this.route = { ...merged, metadata: { ...merged.metadata, resourceVersion: String(Number(this.route.metadata.resourceVersion ?? '1') + 1), generation } };
    this.accept();
    this.log(`patched: ${this.describeWeights()}`);
    return this.ok(this.current());
  }

  async readWeights(target: RolloutTarget, plan: RolloutPlan): Promise<TrafficWeights> {
    this.checkTarget(target);
    return routeWeights(routeFromCallResult(this.call({ Method: 'GET', Path: this.path })), backendsOf(plan));
  }

  async setWeights(target: RolloutTarget, plan: RolloutPlan, weights: TrafficWeights): Promise<void> {
    this.checkTarget(target);
    const route = routeFromCallResult(this.call({ Method: 'GET', Path: this.path }));
    try {
      this.call({ Method: 'PATCH', Path: this.path, RequestBody: routeWeightsMergePatch(route, backendsOf(plan), weights) });
    } catch (error) {
      if (error instanceof EksCallError && error.statusCode === 409) throw new TrafficTargetBusy(error.message);
      throw error;
    }
  }

  /** The backendRef weights of every rule, in words. */
  describeWeights(): string {
    return (this.route.spec.rules ?? []).map((rule, i) => `rule ${i}: ${(rule.backendRefs ?? []).map((r) => `${r.name}=${r.weight ?? 1}`).join(', ')}`).join('; ');
  }

  /** The simulated gateway accepts every generation at once. */
  private accept(): void {
    const generation = this.route.metadata.generation ?? 1;
    this.route = {
      ...this.route,
      status: { parents: [{ controllerName: `${SIMULATED} gateway-controller`, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', observedGeneration: generation }] }] },
    };
  }

  private ok(body: unknown): EksCallOutput {
    return { ResponseBody: body, StatusCode: 200, StatusText: 'OK', Headers: { 'content-type': ['application/json'], 'x-simulated': [SIMULATED] } };
  }

  private fail(status: number, reason: string, message: string): never {
    this.log(`answered ${status} ${reason}`);
    throw new EksCallError(status, {
      ResponseBody: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code: status },
      StatusCode: status,
      StatusText: reason,
      Headers: { 'x-simulated': [SIMULATED] },
    });
  }

  private log(message: string): void {
    const t = this.options.target;
    this.events.push(`${SIMULATED} ${this.options.clock().toISOString()} HTTPRoute ${t.namespace}/${t.httpRouteName} on EKS ${t.clusterName}: ${message}`);
  }

  private checkTarget(target: RolloutTarget): void {
    if (target.kind !== 'eks' || target.httpRouteName !== this.options.target.httpRouteName || target.namespace !== this.options.target.namespace) {
      throw new Error(`${SIMULATED} HTTPRoute ${this.options.target.namespace}/${this.options.target.httpRouteName} was given another target`);
    }
  }
}
