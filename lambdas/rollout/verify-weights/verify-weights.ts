/**
 * `Verify SageMaker weights` and `Verify HTTPRoute weights`: the traffic a step asked for must be what
 * the target serves, or the rollout stops (WeightsNotApplied, and the state machine rolls back).
 *
 * - SageMaker: DescribeEndpoint until CurrentWeight is the split asked for (UpdateEndpointWeightsAndCapacities
 *   applies asynchronously), within the settle window.
 * - EKS: the route as `Read HTTPRoute` (eks:call GET) returned it, compared at once: the API server
 *   stores a patch synchronously. A gateway that reports the route as not Accepted is a mismatch too.
 *
 * Before comparing, the rollout's rollback record is checked: when the alarm Lambda rolled back while
 * the execution waited for a step approval, the weights just set re-exposed the candidate, and the
 * execution must end as RolledBack now rather than at the next canary check.
 */
import * as z from '../../shared/zod-mini';
import { rolloutPlanSchema, rolloutProgressSchema, trafficWeightsSchema, type RolloutPlan, type TrafficWeights } from '../contracts';
import { RolledBack, WeightsNotApplied } from '../errors';
import { backendsOf, routeFromCallResult, routeRejection, routeWeights } from '../eks/http-route';
import type { Clock } from '../../pipeline/ports';
import type { DeploymentStore, TrafficRouter } from '../ports';
import { awaitWeights, type SettleOptions, type WeightsVerified } from '../traffic/settle';
import { sameWeights, weightsOfProgress } from '../traffic/weights';

/**
 * `{ rollout: $.rollout, progress: $.progress }` (the step's weights), or `expected` instead of progress;
 * for EKS also `route`: the `Read HTTPRoute` result (eks:call output or the route itself).
 */
export const verifyWeightsEventSchema = z.object({
  rollout: rolloutPlanSchema,
  progress: z.optional(rolloutProgressSchema),
  expected: z.optional(trafficWeightsSchema),
  route: z.optional(z.unknown()),
});
export type VerifyWeightsEvent = z.infer<typeof verifyWeightsEventSchema>;

export interface VerifyWeightsDeps {
  /** Reads SageMaker endpoints (not used for EKS: the route comes in the event). */
  readonly router: TrafficRouter;
  readonly store: Pick<DeploymentStore, 'getRollback'>;
  readonly settle: SettleOptions;
  readonly clock: Clock;
}

function expectedOf(event: VerifyWeightsEvent): TrafficWeights {
  if (event.expected !== undefined) return event.expected;
  if (event.progress !== undefined) return weightsOfProgress(event.progress);
  throw new Error('Verify weights needs `progress` (or `expected`) to know which split to check');
}

function verifyRoute(plan: RolloutPlan, expected: TrafficWeights, routeResult: unknown, clock: Clock): WeightsVerified {
  if (routeResult === undefined) throw new Error('Verify HTTPRoute weights needs `route`: the Read HTTPRoute result');
  const route = routeFromCallResult(routeResult);
  const observed = routeWeights(route, backendsOf(plan), expected);
  if (!sameWeights(observed, expected)) throw new WeightsNotApplied(expected, observed, `HTTPRoute ${route.metadata.namespace ?? ''}/${route.metadata.name} does not carry the split asked for`);
  const rejection = routeRejection(route);
  if (rejection !== undefined) throw new WeightsNotApplied(expected, observed, rejection);
  return { expected, observed, verifiedAt: clock().toISOString() };
}

/**
 * Verifies the step's weights (ResultPath `$.verified`).
 *
 * @throws RolledBack when the rollout was rolled back meanwhile (by the alarm Lambda).
 * @throws WeightsNotApplied with expected and observed when the target does not serve the split.
 */
export async function verifyWeights(event: VerifyWeightsEvent, deps: VerifyWeightsDeps): Promise<WeightsVerified> {
  const plan = event.rollout;
  const rollback = await deps.store.getRollback(plan.rolloutId);
  if (rollback !== undefined) throw new RolledBack(`rollout ${plan.rolloutId} was rolled back by the ${rollback.by} at ${rollback.verifiedAt}: ${rollback.reason}`);
  const expected = expectedOf(event);
  if (plan.target.kind === 'eks') return verifyRoute(plan, expected, event.route, deps.clock);
  return awaitWeights(deps.router, plan, expected, deps.settle);
}
