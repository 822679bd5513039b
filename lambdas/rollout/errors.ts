/**
 * The rollout's errors. Each `name` is what a state machine Catch or Retry matches, so names are a
 * contract: the two of ROLLOUT_ERRORS (stepfunctions/canary-rollout-states.ts) end the execution as a
 * mismatch or a rollback; the others here are this module's own, listed in ROLLOUT_LAMBDA_ERRORS.
 */
import { ROLLOUT_ERRORS } from '../../stepfunctions/canary-rollout-states';
import type { TrafficWeights } from './contracts';

/** Error names the rollout's Lambdas throw besides ROLLOUT_ERRORS (for the state machine's Catch/Retry). */
export const ROLLOUT_LAMBDA_ERRORS = {
  /** The execution input is not a rollout this stage will run (unknown model, foreign package, ...). Final. */
  rolloutRefused: 'RolloutRefused',
  /** The endpoint or route cannot take a change right now (SageMaker Updating, HTTPRoute 409). Retry. */
  trafficTargetBusy: 'TrafficTargetBusy',
  /** Another promotion changed the model's current version first. Final: roll back. */
  promotionConflict: 'PromotionConflict',
} as const;

/** "current 90 % / candidate 10 %": how weights read in messages and logs. */
export function describeWeights(weights: TrafficWeights): string {
  return `current ${weights.currentPercent} % / candidate ${weights.candidatePercent} %`;
}

/**
 * The traffic a step asked for is not what the endpoint or route reports (or the traffic cannot be read
 * as a split between the two versions at all). The message says what was expected and what was
 * observed, because an operator reads it in the execution history.
 */
export class WeightsNotApplied extends Error {
  override readonly name = ROLLOUT_ERRORS.weightsNotApplied;
  /**
   * @param expected what was asked; undefined when a router reads a target without an expectation.
   * @param observed the split seen; undefined when the traffic is not a split between the two versions.
   * @param detail what is wrong, naming the target.
   */
  constructor(
    readonly expected: TrafficWeights | undefined,
    readonly observed: TrafficWeights | undefined,
    readonly detail: string,
  ) {
    const asked = expected === undefined ? '' : `expected ${describeWeights(expected)}, `;
    super(`${asked}observed ${observed === undefined ? 'no readable split' : describeWeights(observed)}: ${detail}`);
  }
}

/** The canary alarm fired or the rollback Lambda acted: the execution ends as rolled back. */
export class RolledBack extends Error {
  override readonly name = ROLLOUT_ERRORS.rolledBack;
}

/** A rollout this stage will not run; the message says what is allowed. */
export class RolloutRefused extends Error {
  override readonly name = ROLLOUT_LAMBDA_ERRORS.rolloutRefused;
}

/** The traffic target cannot take a change now; trying again shortly is right. */
export class TrafficTargetBusy extends Error {
  override readonly name = ROLLOUT_LAMBDA_ERRORS.trafficTargetBusy;
}

/** The model's current version is no longer the one this rollout started from. */
export class PromotionConflict extends Error {
  override readonly name = ROLLOUT_LAMBDA_ERRORS.promotionConflict;
}

