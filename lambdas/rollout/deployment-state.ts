/**
 * The deployment state's rules, shared by every DeploymentStore adapter so that DynamoDB and the local
 * store cannot disagree: how a promotion changes the state, which versions stay deployable, and the
 * schema a stored state must satisfy when it is read back.
 */
import * as z from '../shared/zod-mini';
import { servingVersionSchema, type ServingVersion } from './contracts';
import { PromotionConflict } from './errors';
import type { DeploymentState, PromoteRequest } from './ports';

/** `promotedBy` of a state recorded by an operator before the model's first rollout. */
export const SEEDED_BY = 'seed';

/** A stored deployment state (what an adapter reads back is validated against this). */
export const deploymentStateSchema = z.strictObject({
  targetModelId: z.string().check(z.minLength(1)),
  current: servingVersionSchema,
  deployable: z.array(servingVersionSchema).check(z.minLength(1)),
  revision: z.number().check(z.int(), z.nonnegative()),
  updatedAt: z.iso.datetime({ offset: true }),
  promotedBy: z.string().check(z.minLength(1)),
});

/** The state of a model whose serving version an operator records before its first rollout. */
export function seededState(targetModelId: string, version: ServingVersion, at: Date): DeploymentState {
  return { targetModelId, current: version, deployable: [version], revision: 0, updatedAt: at.toISOString(), promotedBy: SEEDED_BY };
}

/**
 * The versions kept deployable after `next` becomes current: `next` first, then the earlier ones newest
 * first, without a second copy of any package, cut to `keep` (retention keeps the last 3 by default).
 */
export function deployableAfter(next: ServingVersion, previous: readonly ServingVersion[], keep: number): ServingVersion[] {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be an integer >= 1; received ${String(keep)}`);
  const rest = previous.filter((v) => v.modelPackageArn !== next.modelPackageArn);
  return [next, ...rest].slice(0, keep);
}

/** True when `state` is what `request` produces: the retry of a promotion that already happened. */
export function isSamePromotion(state: DeploymentState, request: PromoteRequest): boolean {
  return state.current.modelPackageArn === request.next.modelPackageArn && state.promotedBy === request.rolloutId;
}

/**
 * The state after a promotion, or the unchanged state when this promotion already happened.
 *
 * @throws PromotionConflict when the model has no state, or its current version is not the one the
 *   rollout started from (another rollout promoted first, or an operator changed it).
 */
export function promotedState(state: DeploymentState | undefined, request: PromoteRequest): DeploymentState {
  if (state === undefined) {
    throw new PromotionConflict(`${request.targetModelId} has no deployment state; nothing to promote over (seed the current version first)`);
  }
  if (isSamePromotion(state, request)) return state;
  if (state.current.modelPackageArn !== request.expectedCurrentArn) {
    throw new PromotionConflict(
      `${request.targetModelId}: rollout ${request.rolloutId} started from ${request.expectedCurrentArn}, but ${state.current.modelPackageArn} is current now (promoted by ${state.promotedBy}); not promoting over it`,
    );
  }
  return {
    targetModelId: state.targetModelId,
    current: request.next,
    deployable: deployableAfter(request.next, state.deployable, request.keep),
    revision: state.revision + 1,
    updatedAt: request.at.toISOString(),
    promotedBy: request.rolloutId,
  };
}
