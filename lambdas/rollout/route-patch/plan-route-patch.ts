/**
 * The body of `Patch HTTPRoute weights` (eks:call PATCH). A JSON merge patch replaces arrays whole, so
 * the patch must be computed from the route as it is (eks/http-route.ts): a JSONPath state cannot
 * rewrite one weight inside `spec.rules`. This step takes the route as `Read HTTPRoute` returned it and
 * the step's weights, and returns what the eks:call state sends: `Path` and `RequestBody`.
 */
import * as z from '../../shared/zod-mini';
import { rolloutPlanSchema, rolloutProgressSchema, trafficWeightsSchema } from '../contracts';
import { routeFromCallResult, routePatchRequest, type RouteMergePatch } from '../eks/http-route';
import { weightsOfProgress } from '../traffic/weights';

/** `{ rollout: $.rollout, progress: $.progress (or expected), route: <eks:call GET result> }`. */
export const planRoutePatchEventSchema = z.object({
  rollout: rolloutPlanSchema,
  progress: z.optional(rolloutProgressSchema),
  expected: z.optional(trafficWeightsSchema),
  route: z.unknown(),
});

/** What the eks:call PATCH state takes (`Path.$`, `RequestBody.$`). */
export interface PlannedRoutePatch {
  readonly Path: string;
  readonly RequestBody: RouteMergePatch;
  readonly expected: z.infer<typeof trafficWeightsSchema>;
}

export function planRoutePatch(event: unknown): PlannedRoutePatch {
  const parsed = planRoutePatchEventSchema.parse(event);
  const expected = parsed.expected ?? (parsed.progress === undefined ? undefined : weightsOfProgress(parsed.progress));
  if (expected === undefined) throw new Error('Plan HTTPRoute patch needs `progress` (or `expected`) to know which split to set');
  const request = routePatchRequest(parsed.rollout, routeFromCallResult(parsed.route), expected);
  return { Path: request.path, RequestBody: request.body, expected };
}
