/**
 * The game day's measuring steps (prove automatic reversion within the bound, 5 minutes by default). The
 * drill forces the canary alarm of a self-canary into ALARM; the alarm Lambda rolls it back and records
 * the breach time (the alarm's state change) and the time 100 % current was verified. These functions
 * read that record: `checkDrillRollback` for the drill's wait loop, `measureDrill` for the result,
 * which the state machine's `Within bound?` choice judges (`withinBound`); measuring also releases the
 * model the drill claimed (start-drill.ts).
 */
import * as z from '../../shared/zod-mini';
import type { CanaryConfig } from '../../../config/schema';
import type { RollbackRecord } from '../contracts';
import type { DeploymentStore } from '../ports';

/** `{ rolloutId }` of the drill's rollout (its plan's rolloutId). */
export const drillEventSchema = z.object({ rolloutId: z.string().check(z.minLength(1)) });
export type DrillEvent = z.infer<typeof drillEventSchema>;

/** `Check rollback` -> `$.drillRollback`: whether the rollback has been recorded yet. */
export interface DrillRollbackCheck {
  readonly rolloutId: string;
  readonly rolledBack: boolean;
  readonly by?: RollbackRecord['by'];
}

/** `Record drill` -> `$.drill`. */
export interface DrillMeasurement {
  readonly rolloutId: string;
  readonly targetModelId: string;
  readonly by: RollbackRecord['by'];
  readonly breachAt: string | null;
  readonly verifiedAt: string;
  /** Breach to verified 100 % current; null when the record has no breach time (not an alarm rollback). */
  readonly rollbackSeconds: number | null;
  readonly maxRollbackSeconds: number;
  readonly targetRollbackSeconds: number;
  /** The drill passes: the alarm path rolled back, within maxRollbackSeconds. */
  readonly withinBound: boolean;
  /** Also within our own, tighter target. */
  readonly withinTarget: boolean;
  /** In words, for the notification. */
  readonly summary: string;
}

export async function checkDrillRollback(event: DrillEvent, store: Pick<DeploymentStore, 'getRollback'>): Promise<DrillRollbackCheck> {
  const record = await store.getRollback(event.rolloutId);
  return record === undefined ? { rolloutId: event.rolloutId, rolledBack: false } : { rolloutId: event.rolloutId, rolledBack: true, by: record.by };
}

/**
 * Seconds from the breach to the verified rollback, judged against the game-day bound. A rollback the
 * alarm Lambda did not make (the state machine's, without a breach time) fails the drill: it did not
 * exercise the path a real breach takes.
 *
 * @throws Error when the drill's rollout has no rollback record (the wait loop ended too early).
 */
export async function measureDrill(event: DrillEvent, deps: { readonly store: Pick<DeploymentStore, 'getRollback' | 'clearActiveRollout'>; readonly gameDay: CanaryConfig['gameDay'] }): Promise<DrillMeasurement> {
  const record = await deps.store.getRollback(event.rolloutId);
  if (record === undefined) throw new Error(`drill ${event.rolloutId} has no rollback record: nothing to measure`);
  // The drill is over: the alarm Lambda verified 100 % current; release the model for real rollouts.
  await deps.store.clearActiveRollout(record.targetModelId, record.rolloutId);
  const { maxRollbackSeconds, targetRollbackSeconds } = deps.gameDay;
  const base = { rolloutId: record.rolloutId, targetModelId: record.targetModelId, by: record.by, breachAt: record.breachAt, verifiedAt: record.verifiedAt, maxRollbackSeconds, targetRollbackSeconds };
  if (record.breachAt === null || record.by !== 'alarm-lambda') {
    return { ...base, rollbackSeconds: null, withinBound: false, withinTarget: false, summary: `drill ${record.rolloutId} was rolled back by the ${record.by} without an alarm breach time: the alarm path was not exercised (${record.reason})` };
  }
  const rollbackSeconds = Math.round((new Date(record.verifiedAt).getTime() - new Date(record.breachAt).getTime()) / 100) / 10;
  const withinBound = rollbackSeconds <= maxRollbackSeconds;
  const withinTarget = rollbackSeconds <= targetRollbackSeconds;
  const verdict = withinBound ? (withinTarget ? 'passed, within our target' : 'passed the bound, missed our target') : 'FAILED: over the bound';
  return {
    ...base,
    rollbackSeconds,
    withinBound,
    withinTarget,
    summary: `${record.targetModelId}: breach to verified 100 % current in ${rollbackSeconds} s (bound ${maxRollbackSeconds} s, target ${targetRollbackSeconds} s): ${verdict}`,
  };
}
