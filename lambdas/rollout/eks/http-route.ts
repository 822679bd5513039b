/**
 * The Gateway API HTTPRoute as the EKS canary uses it: its two backendRefs (current and candidate
 * Services) carry the traffic split as weights. Pure: it reads a route as the Kubernetes API returns it
 * (directly, or as the `ResponseBody` of a Step Functions eks:call) and computes the JSON merge patch
 * that sets the weights.
 *
 * A JSON merge patch (RFC 7386) replaces arrays whole, so the patch carries every rule of the route as
 * read, with only the weights changed: matches, filters, ports and rules that route elsewhere survive.
 * The patch also carries the route's `metadata.resourceVersion`, which the API server treats as a
 * precondition: a route changed since it was read answers 409 Conflict instead of being overwritten.
 * Weights are written as percentages (0-100); Gateway API reads them as relative, so they are exact.
 */
import * as z from '../../shared/zod-mini';
import type { RolloutTarget } from '../../../config/schema';
import type { RolloutPlan, TrafficWeights } from '../contracts';
import { WeightsNotApplied, describeWeights } from '../errors';
import { percentSplit, sameWeights } from '../traffic/weights';

/** An EKS rollout target (config/schema.ts rolloutTargetSchema, kind `eks`). */
export type EksTarget = Extract<RolloutTarget, { kind: 'eks' }>;

/** Gateway API group and version the canary's HTTPRoutes are served at. */
export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';
/** Content type of a JSON merge patch, which the Kubernetes API accepts for custom resources. */
export const MERGE_PATCH_CONTENT_TYPE = 'application/merge-patch+json';
/** Gateway API: a backendRef without a weight has weight 1. */
const DEFAULT_BACKEND_WEIGHT = 1;

const backendRefSchema = z.looseObject({
  name: z.string().check(z.minLength(1)),
  namespace: z.optional(z.string()),
  kind: z.optional(z.string()),
  group: z.optional(z.string()),
  port: z.optional(z.number().check(z.int())),
  weight: z.optional(z.number().check(z.int(), z.nonnegative())),
});
type BackendRef = z.infer<typeof backendRefSchema>;

const ruleSchema = z.looseObject({ backendRefs: z.optional(z.array(backendRefSchema)) });
type Rule = z.infer<typeof ruleSchema>;

const conditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.optional(z.string()),
  message: z.optional(z.string()),
  observedGeneration: z.optional(z.number().check(z.int())),
});

/** The parts of an HTTPRoute the canary reads; everything else is kept as it is. */
export const httpRouteSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.literal('HTTPRoute'),
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.optional(z.string()),
    resourceVersion: z.optional(z.string()),
    generation: z.optional(z.number().check(z.int())),
  }),
  spec: z.looseObject({ rules: z.optional(z.array(ruleSchema)) }),
  status: z.optional(z.looseObject({
      parents: z.optional(z.array(z.looseObject({ controllerName: z.optional(z.string()), conditions: z.optional(z.array(conditionSchema)) }))),
    })),
});
export type HttpRoute = z.infer<typeof httpRouteSchema>;

/** The JSON merge patch that sets the weights. */
export interface RouteMergePatch {
  readonly metadata: { readonly resourceVersion?: string };
  readonly spec: { readonly rules: Rule[] };
}

/** The two backends of a rollout, by name: which is current changes with every promotion. */
export interface RouteBackends {
  readonly current: string;
  readonly candidate: string;
}

/** The API path of the target's HTTPRoute. */
export function httpRoutePath(target: Pick<EksTarget, 'namespace' | 'httpRouteName'>): string {
  return `/apis/${GATEWAY_API_VERSION}/namespaces/${encodeURIComponent(target.namespace)}/httproutes/${encodeURIComponent(target.httpRouteName)}`;
}

/** The plan's backends: `current.servingName` and `candidate.servingName`. */
export function backendsOf(plan: Pick<RolloutPlan, 'current' | 'candidate'>): RouteBackends {
  return { current: plan.current.servingName, candidate: plan.candidate.servingName };
}

/**
 * An HTTPRoute from what the Kubernetes API returned: the route itself, or a Step Functions eks:call
 * result (`{ ResponseBody, StatusCode, ... }`, ResponseBody as an object or a JSON string).
 *
 * @throws Error naming what is missing when the value is not an HTTPRoute.
 */
export function routeFromCallResult(value: unknown): HttpRoute {
  let candidate: unknown = value;
  if (value !== null && typeof value === 'object' && 'ResponseBody' in value) {
    const { ResponseBody: body, StatusCode: status } = value as { ResponseBody: unknown; StatusCode?: unknown };
    if (typeof status === 'number' && (status < 200 || status > 299)) throw new Error(`the HTTPRoute read answered HTTP ${status}: ${JSON.stringify(body).slice(0, 500)}`);
    candidate = typeof body === 'string' ? (JSON.parse(body) as unknown) : body;
  }
  const parsed = httpRouteSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new Error(`not an HTTPRoute: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

function routeLabel(route: HttpRoute): string {
  return `HTTPRoute ${route.metadata.namespace ?? '?'}/${route.metadata.name}`;
}

function weightOf(ref: BackendRef): number {
  return ref.weight ?? DEFAULT_BACKEND_WEIGHT;
}

function referencesEither(rule: Rule, backends: RouteBackends): boolean {
  return (rule.backendRefs ?? []).some((ref) => ref.name === backends.current || ref.name === backends.candidate);
}

/**
 * The split the route asks for. Every rule that references either backend must carry the same split
 * (a route may have several rules, e.g. one per path); rules that route elsewhere are ignored.
 *
 * @throws WeightsNotApplied when no rule references the backends, a rule lacks the current backend,
 *   sends traffic to a third backend, or the rules disagree.
 */
export function routeWeights(route: HttpRoute, backends: RouteBackends, expected?: TrafficWeights): TrafficWeights {
  const label = routeLabel(route);
  const rules = (route.spec.rules ?? []).map((rule, index) => ({ rule, index })).filter(({ rule }) => referencesEither(rule, backends));
  if (rules.length === 0) throw new WeightsNotApplied(expected, undefined, `${label} has no rule with a backendRef named ${backends.current} or ${backends.candidate}`);
  const splits = rules.map(({ rule, index }) => {
    const refs = rule.backendRefs ?? [];
    const current = refs.filter((r) => r.name === backends.current);
    const candidate = refs.filter((r) => r.name === backends.candidate);
    const others = refs.filter((r) => r.name !== backends.current && r.name !== backends.candidate).map((r) => ({ name: r.name, weight: weightOf(r) }));
    const shares = {
      current: current.length === 0 ? undefined : current.reduce((sum, r) => sum + weightOf(r), 0),
      candidate: candidate.reduce((sum, r) => sum + weightOf(r), 0),
      others,
    };
    return { index, split: percentSplit(shares, `${label} rule ${index}`, expected) };
  });
  const first = splits[0]!;
  const differing = splits.find((s) => !sameWeights(s.split, first.split));
  if (differing !== undefined) {
    throw new WeightsNotApplied(
      expected,
      undefined,
      `${label} rules disagree: rule ${first.index} serves ${describeWeights(first.split)}, rule ${differing.index} serves ${describeWeights(differing.split)}`,
    );
  }
  return first.split;
}

function withWeight(ref: BackendRef, weight: number): BackendRef {
  return { ...ref, weight };
}

/** The rule with the split applied: both backends weighted, any third backend at 0. */
function weighRule(rule: Rule, backends: RouteBackends, weights: TrafficWeights): Rule {
  const refs = rule.backendRefs ?? [];
  let hasCurrent = false;
  let hasCandidate = false;
  const weighed = refs.map((ref) => {
    if (ref.name === backends.current) {
      // A backend listed twice gets its share once; the second entry would double it.
      const weight = hasCurrent ? 0 : weights.currentPercent;
      hasCurrent = true;
      return withWeight(ref, weight);
    }
    if (ref.name === backends.candidate) {
      const weight = hasCandidate ? 0 : weights.candidatePercent;
      hasCandidate = true;
      return withWeight(ref, weight);
    }
    return withWeight(ref, 0);
  });
  // A rule that names only one backend gets the other, shaped like it (same kind, group, namespace, port):
  // the two backends are two Services of one serving deployment.
  const template = refs.find((r) => r.name === backends.current) ?? refs.find((r) => r.name === backends.candidate);
  if (template !== undefined && !hasCandidate && weights.candidatePercent > 0) weighed.push(withWeight({ ...template, name: backends.candidate }, weights.candidatePercent));
  if (template !== undefined && !hasCurrent && weights.currentPercent > 0) weighed.push(withWeight({ ...template, name: backends.current }, weights.currentPercent));
  return { ...rule, backendRefs: weighed };
}

/**
 * The JSON merge patch (`application/merge-patch+json`) that gives the route `weights`: every rule as
 * read, those referencing either backend weighed, plus the resourceVersion precondition.
 *
 * @throws WeightsNotApplied when no rule references either backend (there is nothing to weigh).
 */
export function routeWeightsMergePatch(route: HttpRoute, backends: RouteBackends, weights: TrafficWeights): RouteMergePatch {
  const rules = route.spec.rules ?? [];
  if (!rules.some((rule) => referencesEither(rule, backends))) {
    throw new WeightsNotApplied(weights, undefined, `${routeLabel(route)} has no rule with a backendRef named ${backends.current} or ${backends.candidate}`);
  }
  const resourceVersion = route.metadata.resourceVersion;
  return {
    metadata: resourceVersion === undefined ? {} : { resourceVersion },
    spec: { rules: rules.map((rule) => (referencesEither(rule, backends) ? weighRule(rule, backends, weights) : rule)) },
  };
}

/** What `Patch HTTPRoute weights` sends through eks:call (or the rollback Lambda through the API). */
export interface RoutePatchRequest {
  readonly method: 'PATCH';
  readonly path: string;
  readonly contentType: typeof MERGE_PATCH_CONTENT_TYPE;
  readonly body: RouteMergePatch;
}

/** The PATCH that gives the plan's route `weights`, computed from the route as last read. */
export function routePatchRequest(plan: RolloutPlan, route: HttpRoute, weights: TrafficWeights): RoutePatchRequest {
  if (plan.target.kind !== 'eks') throw new Error(`rollout ${plan.rolloutId} targets ${plan.target.kind}, not an EKS HTTPRoute`);
  return { method: 'PATCH', path: httpRoutePath(plan.target), contentType: MERGE_PATCH_CONTENT_TYPE, body: routeWeightsMergePatch(route, backendsOf(plan), weights) };
}

/**
 * Why the gateway refused the route, if one of its parents reports `Accepted: False` for the route's
 * current generation; undefined otherwise (accepted, or not reconciled yet: status lags spec by design).
 */
export function routeRejection(route: HttpRoute): string | undefined {
  const generation = route.metadata.generation;
  for (const parent of route.status?.parents ?? []) {
    const accepted = (parent.conditions ?? []).find((c) => c.type === 'Accepted');
    if (accepted === undefined || accepted.status !== 'False') continue;
    if (generation !== undefined && accepted.observedGeneration !== undefined && accepted.observedGeneration < generation) continue;
    return `${parent.controllerName ?? 'the gateway'} did not accept ${routeLabel(route)}: ${accepted.reason ?? ''} ${accepted.message ?? ''}`.trim();
  }
  return undefined;
}
