/**
 * `Advance step`: moves `$.progress` through the plan's steps. JSONPath state machines have no
 * variables, so the loop's position lives in `$.progress` and only this function moves it: no
 * progress yet means the first step (index 0); after the last step it reports `done`.
 */
import * as z from '../../shared/zod-mini';
import { rolloutPlanSchema, rolloutProgressSchema, type RolloutPlan, type RolloutProgress } from '../contracts';

/** `{ rollout: $.rollout, progress: $.progress }`; progress is absent (or null) before the first step. */
export const advanceStepEventSchema = z.object({
  rollout: rolloutPlanSchema,
  progress: z.nullish(rolloutProgressSchema),
});
export type AdvanceStepEvent = z.infer<typeof advanceStepEventSchema>;

function stepAt(plan: RolloutPlan, index: number): RolloutProgress {
  const candidatePercent = plan.stepsPercent[index];
  if (candidatePercent === undefined) throw new Error(`rollout ${plan.rolloutId} has no step ${index} (steps ${JSON.stringify(plan.stepsPercent)})`);
  return rolloutProgressSchema.parse({ index, candidatePercent, currentPercent: 100 - candidatePercent, stepStartedAt: null, done: false });
}

/** The first step: index 0, its weights, not started. */
export function initialProgress(plan: RolloutPlan): RolloutProgress {
  return stepAt(plan, 0);
}

/**
 * The next position: the first step when there is none, the following step, or, after the last step,
 * the last step marked `done` (its weights stay: 100 % candidate, which `Promote candidate` makes permanent).
 *
 * @throws Error when asked to advance a rollout that is already done (a state machine wiring fault).
 */
export function advanceStep(event: AdvanceStepEvent): RolloutProgress {
  const { rollout, progress } = event;
  if (progress === undefined || progress === null) return initialProgress(rollout);
  if (progress.done) throw new Error(`rollout ${rollout.rolloutId} is already done; Advance step must not run again`);
  const next = progress.index + 1;
  if (next < rollout.stepsPercent.length) return stepAt(rollout, next);
  return rolloutProgressSchema.parse({ ...progress, done: true });
}
