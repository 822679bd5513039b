/**
 * `Roll back`: every way out of a rollout that is not a promotion ends here (alarm, failed check,
 * rejected approval, mismatch, any error): 100 % of the traffic back on the current version, verified,
 * recorded, and the model's active rollout released.
 *
 * Safe while the alarm Lambda does the same at the same moment: both ask for the same split and wait
 * until the target serves it (a refusal because the other's update is in progress is waited out), and
 * the rollback record is written once (first writer wins); this state then returns the stored record,
 * so the execution reports who acted first.
 */
import * as z from '../../shared/zod-mini';
import { canaryCheckSchema, rollbackRecordSchema, rolloutPlanSchema, type RollbackRecord, type RolloutPlan } from '../contracts';
import type { AlarmReader, DeploymentStore, TrafficRouter } from '../ports';
import { applyAndAwait, type SettleOptions } from '../traffic/settle';
import { ALL_CURRENT } from '../traffic/weights';

/**
 * `{ rollout: $.rollout, reason?, error?: $.error (a Catch's { Error, Cause }), check?: $.check }`:
 * whatever says why; the first present of reason, check.reason, error is recorded.
 */
export const rollBackEventSchema = z.object({
  rollout: rolloutPlanSchema,
  reason: z.optional(z.string().check(z.minLength(1))),
  error: z.nullish(z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
  check: z.nullish(canaryCheckSchema),
});
export type RollBackEvent = z.infer<typeof rollBackEventSchema>;

export interface RollBackDeps {
  readonly router: TrafficRouter;
  readonly store: Pick<DeploymentStore, 'getRollback' | 'recordRollback' | 'clearActiveRollout'>;
  /** When given, an alarm in ALARM dates the breach (breachAt); without it breachAt is null. */
  readonly alarms?: AlarmReader;
  readonly settle: SettleOptions;
}

/** Longest reason kept in the record (the execution history has the rest). */
export const MAX_REASON_CHARS = 2000;

/** The message of a Lambda error's Cause (`{"errorMessage": ...}`), or the Cause as it is. */
function causeText(cause: string | undefined): string | undefined {
  if (cause === undefined || cause === '') return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: an integration's plain-text cause.
  }
  return cause;
}

/** Why the rollout is rolled back, in words. */
export function rollbackReason(event: RollBackEvent): string {
  if (event.reason !== undefined) return event.reason.slice(0, MAX_REASON_CHARS);
  if (event.check?.reason !== undefined) return event.check.reason.slice(0, MAX_REASON_CHARS);
  if (event.error !== undefined && event.error !== null) {
    const cause = causeText(event.error.Cause);
    return `${event.error.Error ?? 'error'}${cause === undefined ? '' : `: ${cause}`}`.slice(0, MAX_REASON_CHARS);
  }
  return 'the rollout ended without promotion';
}

async function breachTime(plan: RolloutPlan, alarms: AlarmReader | undefined): Promise<string | null> {
  if (alarms === undefined) return null;
  try {
    const alarm = await alarms.state(plan.alarmName);
    return alarm.state === 'ALARM' ? alarm.updatedAt.toISOString() : null;
  } catch {
    // The breach time is informative; a rollback must not fail because the alarm cannot be read.
    return null;
  }
}

/**
 * Restores 100 % current, records the rollback (by `state-machine` unless the alarm Lambda recorded it
 * first) and releases the model (ResultPath `$.rollback`).
 *
 * @throws WeightsNotApplied when the target does not serve 100 % current within the settle window;
 *   the state machine retries this state.
 */
export async function rollBack(event: RollBackEvent, deps: RollBackDeps): Promise<RollbackRecord> {
  const plan = event.rollout;
  // Always converge, even when a record exists: the record says someone restored the traffic, not that
  // nothing moved it since (a step approval that arrived after the alarm Lambda acted, for one).
  const applied = await applyAndAwait(deps.router, plan, ALL_CURRENT, deps.settle);
  let record = await deps.store.getRollback(plan.rolloutId);
  if (record === undefined) {
    const candidate = rollbackRecordSchema.parse({
      rolloutId: plan.rolloutId,
      targetModelId: plan.targetModelId,
      reason: rollbackReason(event),
      by: 'state-machine',
      breachAt: await breachTime(plan, deps.alarms),
      verifiedAt: applied.verifiedAt,
      weights: applied.observed,
    });
    record = (await deps.store.recordRollback(candidate)).record;
  }
  await deps.store.clearActiveRollout(plan.targetModelId, plan.rolloutId);
  return record;
}
