/**
 * The alarm rollback: a canary alarm went into ALARM (EventBridge), so the model's active rollout goes
 * back to 100 % current at once, without waiting for the state machine's next check. Then the
 * rollback is verified, recorded with the breach time (the alarm's state change) and the verified time,
 * and announced. The state machine learns of it at its next `Check canary` (or `Verify ... weights`)
 * and ends as RolledBack with this record's reason.
 *
 * Which rollout: the alarm's name identifies the model (settings.ts `canaryAlarmName(stage, model)`, a
 * contract with the alarm construct), and the deployment store's active rollout of that model is the
 * one rolled back. Idempotent: EventBridge may deliver twice and Lambda retries; a second call finds the
 * record, makes sure the traffic is still 100 % current and reports `already-rolled-back`.
 */
import type { Notifier } from '../../pipeline/ports';
import { targetModelOfCanaryAlarm, type PipelineSettings } from '../../pipeline/settings';
import { rollbackRecordSchema, type RollbackRecord, type RolloutPlan } from '../contracts';
import { describeWeights } from '../errors';
import type { DeploymentStore, TrafficRouter } from '../ports';
import { applyAndAwait, targetLabel, type SettleOptions } from '../traffic/settle';
import { ALL_CURRENT } from '../traffic/weights';
import { alarmStateChangeEventSchema, cloudWatchTimestamp, triggeringAlarms, type AlarmStateChangeEvent } from './alarm-event';

export interface AlarmRollbackDeps {
  readonly settings: Pick<PipelineSettings, 'stage' | 'targetModels'>;
  readonly store: Pick<DeploymentStore, 'getActiveRollout' | 'getRollback' | 'recordRollback' | 'getCurrent'>;
  readonly router: TrafficRouter;
  readonly notifier: Notifier;
  readonly settle: SettleOptions;
}

/** What the Lambda did, for its log line and its metrics. */
export type AlarmRollbackOutcome =
  | { readonly action: 'ignored'; readonly reason: string }
  | { readonly action: 'no-active-rollout'; readonly targetModelId: string }
  | { readonly action: 'after-promotion'; readonly targetModelId: string; readonly rolloutId: string }
  | { readonly action: 'already-rolled-back'; readonly record: RollbackRecord }
  | {
      readonly action: 'rolled-back';
      readonly record: RollbackRecord;
      /** Breach to verified 100 % current, in seconds (the RollbackSeconds metric). */
      readonly rollbackSeconds: number;
      /** How many weight updates it took (0 when the state machine had already restored the traffic). */
      readonly requests: number;
      /** False when the notification could not be sent (the rollback stands; the handler logs it). */
      readonly notified: boolean;
    };

function reasonOf(event: AlarmStateChangeEvent): string {
  const { alarmName, state } = event.detail;
  const children = triggeringAlarms(state.reasonData);
  return `canary alarm ${alarmName} went into ALARM${children.length === 0 ? '' : ` (${children.join(', ')})`}: ${state.reason}`;
}

function notice(plan: RolloutPlan, record: RollbackRecord, seconds: number): { subject: string; message: string } {
  return {
    subject: `Rolled back ${plan.targetModelId} to version ${plan.current.modelPackageVersion} (canary alarm)`,
    message: [
      `The canary of ${plan.targetModelId} (rollout ${plan.rolloutId}, candidate version ${plan.candidate.modelPackageVersion}) was rolled back automatically.`,
      '',
      `Why: ${record.reason}`,
      `Breach: ${record.breachAt ?? 'unknown'}`,
      `Verified ${describeWeights(record.weights)} on ${targetLabel(plan)}: ${record.verifiedAt} (${seconds.toFixed(1)} s after the breach)`,
      `Current version: ${plan.current.modelPackageArn} (${plan.current.servingName})`,
      `Candidate: ${plan.candidate.modelPackageArn} (${plan.candidate.servingName}), not approved`,
      '',
      'The rollout execution ends as RolledBack at its next check. Nothing else is needed to restore service.',
    ].join('\n'),
  };
}

/**
 * Handles one alarm state change.
 *
 * @throws Error for an event that is not a CloudWatch alarm state change (a wiring fault).
 * @throws WeightsNotApplied when 100 % current cannot be verified within the settle window (after a
 *   notification saying so); Lambda's retry of the asynchronous invocation tries again.
 */
export async function rollbackOnAlarm(event: unknown, deps: AlarmRollbackDeps): Promise<AlarmRollbackOutcome> {
  const parsed = alarmStateChangeEventSchema.safeParse(event);
  if (!parsed.success) throw new Error(`not a CloudWatch alarm state change event: ${parsed.error.message}`);
  const change = parsed.data;
  const { alarmName, state } = change.detail;
  if (state.value !== 'ALARM') return { action: 'ignored', reason: `${alarmName} changed to ${state.value}, not ALARM` };
  const targetModelId = targetModelOfCanaryAlarm(alarmName, deps.settings);
  if (targetModelId === undefined) return { action: 'ignored', reason: `${alarmName} is not the canary alarm of any target model of stage ${deps.settings.stage}` };

  const plan = await deps.store.getActiveRollout(targetModelId);
  if (plan === undefined) return { action: 'no-active-rollout', targetModelId };
  if (plan.alarmName !== alarmName) return { action: 'ignored', reason: `rollout ${plan.rolloutId} of ${targetModelId} is watched by ${plan.alarmName}, not ${alarmName}` };

  // Promoted in the moment between its last check and this event: the rollout is over and its plan's
  // "current" is now the previous version. Moving traffic is then a decision for a human, not for a rollback.
  const [deployment, existing] = await Promise.all([deps.store.getCurrent(targetModelId), deps.store.getRollback(plan.rolloutId)]);
  // A game-day drill is a self canary (candidate = current package on a drill variant): never "promoted".
  const selfCanary = plan.candidate.modelPackageArn === plan.current.modelPackageArn;
  if (!selfCanary && deployment !== undefined && deployment.current.modelPackageArn === plan.candidate.modelPackageArn) {
    await deps.notifier.publish(
      'notifications',
      `Canary alarm after promotion of ${targetModelId}: no automatic rollback`,
      `${reasonOf(change)}\n\nRollout ${plan.rolloutId} had already promoted ${plan.candidate.modelPackageArn}. To go back, start a rollout of ${plan.current.modelPackageArn} (it is kept deployable).`,
    );
    return { action: 'after-promotion', targetModelId, rolloutId: plan.rolloutId };
  }

  try {
    const applied = await applyAndAwait(deps.router, plan, ALL_CURRENT, deps.settle);
    if (existing !== undefined) return { action: 'already-rolled-back', record: existing };
    const breachAt = cloudWatchTimestamp(state.timestamp);
    const outcome = await deps.store.recordRollback(
      rollbackRecordSchema.parse({
        rolloutId: plan.rolloutId,
        targetModelId,
        reason: reasonOf(change),
        by: 'alarm-lambda',
        breachAt: breachAt.toISOString(),
        verifiedAt: applied.verifiedAt,
        weights: applied.observed,
      }),
    );
    if (!outcome.recorded) return { action: 'already-rolled-back', record: outcome.record };
    const rollbackSeconds = (new Date(outcome.record.verifiedAt).getTime() - breachAt.getTime()) / 1000;
    const { subject, message } = notice(plan, outcome.record, rollbackSeconds);
    let notified = true;
    try {
      await deps.notifier.publish('notifications', subject, message);
    } catch {
      // The rollback stands; a failed e-mail must not make Lambda retry a rollback that is already recorded.
      notified = false;
    }
    return { action: 'rolled-back', record: outcome.record, rollbackSeconds, requests: applied.requests, notified };
  } catch (error) {
    if (existing === undefined) {
      await deps.notifier
        .publish(
          'notifications',
          `ROLLBACK FAILED for ${targetModelId}: traffic may still reach the candidate`,
          `${reasonOf(change)}\n\nThe alarm Lambda could not verify 100 % on version ${plan.current.modelPackageVersion} (${plan.current.servingName}) on ${targetLabel(plan)}: ${(error as Error).message}\n\nIt will retry; check the target and roll back by hand if it does not recover.`,
        )
        .catch(() => undefined);
    }
    throw error;
  }
}
