/**
 * `Check canary`: one look at the step's health during its bake. Rolls back when the rollout was
 * already rolled back (the alarm Lambda acted, which also ends the execution's wait within one check
 * interval) or the canary alarm is in ALARM; reports the step baked once `bakeSeconds` have passed
 * since its weights were verified and the alarm is OK.
 *
 * INSUFFICIENT_DATA (too few candidate traces to judge, under minTracesPerPeriod) is not a breach, but
 * it is not evidence either: such a step does not count as baked, and after twice its bake time without
 * evidence the rollout rolls back rather than promote a version nobody could judge.
 */
import * as z from '../../shared/zod-mini';
import { canaryCheckSchema, rolloutPlanSchema, rolloutProgressSchema, weightsVerifiedSchema, type CanaryCheck, type RolloutPlan, type RolloutProgress } from '../contracts';
import type { Clock } from '../../pipeline/ports';
import type { AlarmReader, DeploymentStore } from '../ports';
import type { WeightsVerified } from '../traffic/settle';

/**
 * `{ rollout: $.rollout, progress: $.progress, verified: $.verified }`. The bake clock starts at
 * `progress.stepStartedAt`, or, when the state machine does not copy it there, at `verified.verifiedAt`
 * of this step's verification.
 */
export const checkCanaryEventSchema = z.object({
  rollout: rolloutPlanSchema,
  progress: rolloutProgressSchema,
  verified: z.nullish(weightsVerifiedSchema),
});
export type CheckCanaryEvent = z.infer<typeof checkCanaryEventSchema>;

export interface CheckCanaryDeps {
  readonly alarms: AlarmReader;
  readonly store: Pick<DeploymentStore, 'getRollback'>;
  readonly clock: Clock;
}

/** Without evidence for this many bake times, the step rolls back. */
export const INSUFFICIENT_DATA_BAKES = 2;

/** When the step's bake started: its recorded start, else when its weights were verified. */
export function stepStart(plan: RolloutPlan, progress: RolloutProgress, verified: WeightsVerified | null | undefined): Date {
  if (progress.stepStartedAt !== null) return new Date(progress.stepStartedAt);
  if (verified !== null && verified !== undefined && verified.expected.candidatePercent === progress.candidatePercent) return new Date(verified.verifiedAt);
  throw new Error(`rollout ${plan.rolloutId} step ${progress.index} (${progress.candidatePercent} %) has no verified start: pass progress.stepStartedAt or this step's $.verified`);
}

/** The check (ResultPath `$.check`). */
export async function checkCanary(event: CheckCanaryEvent, deps: CheckCanaryDeps): Promise<CanaryCheck> {
  const { rollout, progress } = event;
  const [rollback, alarm] = await Promise.all([deps.store.getRollback(rollout.rolloutId), deps.alarms.state(rollout.alarmName)]);
  const now = deps.clock();
  const checkedAt = now.toISOString();
  if (rollback !== undefined) {
    return canaryCheckSchema.parse({ alarmState: alarm.state, rollBack: true, reason: `rolled back by the ${rollback.by} at ${rollback.verifiedAt}: ${rollback.reason}`, baked: false, checkedAt });
  }
  if (alarm.state === 'ALARM') {
    return canaryCheckSchema.parse({ alarmState: alarm.state, rollBack: true, reason: `canary alarm ${rollout.alarmName} is in ALARM since ${alarm.updatedAt.toISOString()}: ${alarm.reason}`, baked: false, checkedAt });
  }
  const elapsedSeconds = (now.getTime() - stepStart(rollout, progress, event.verified).getTime()) / 1000;
  if (alarm.state === 'INSUFFICIENT_DATA' && elapsedSeconds >= INSUFFICIENT_DATA_BAKES * rollout.bakeSeconds) {
    return canaryCheckSchema.parse({
      alarmState: alarm.state,
      rollBack: true,
      reason: `canary alarm ${rollout.alarmName} reports insufficient data (since ${alarm.updatedAt.toISOString()}) ${Math.round(elapsedSeconds)} s into the ${progress.candidatePercent} % step, twice its bake time: too few candidate traces to judge quality, and a version nobody could judge is not promoted`,
      baked: false,
      checkedAt,
    });
  }
  return canaryCheckSchema.parse({ alarmState: alarm.state, rollBack: false, baked: alarm.state === 'OK' && elapsedSeconds >= rollout.bakeSeconds, checkedAt });
}
