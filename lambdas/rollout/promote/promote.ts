/**
 * `Promote candidate`: after the last step baked at 100 %, the candidate becomes the model's current
 * version. The registry marks its package Approved (the human approvals of every step are the
 * approval), the deployment store makes it current and keeps the previous versions deployable (the
 * last `retainApprovedModelVersions`), and the model's active rollout is released.
 * Every write is idempotent, so a retried state does not promote twice.
 */
import * as z from '../../shared/zod-mini';
import { promotionSchema, rolloutPlanSchema, rolloutProgressSchema, type Promotion } from '../contracts';
import type { Clock } from '../../pipeline/ports';
import type { ModelApprover } from '../../pipeline/register-model/model-registry';
import type { PipelineSettings } from '../../pipeline/settings';
import { RolledBack } from '../errors';
import type { DeploymentStore } from '../ports';

/** `{ rollout: $.rollout, progress: $.progress }`. */
export const promoteEventSchema = z.object({ rollout: rolloutPlanSchema, progress: rolloutProgressSchema });
export type PromoteEvent = z.infer<typeof promoteEventSchema>;

export interface PromoteDeps {
  readonly approver: ModelApprover;
  readonly store: Pick<DeploymentStore, 'getRollback' | 'promote' | 'clearActiveRollout'>;
  /** A router keeps `retainApprovedRouterVersions` (10) deployable, an LLM `retainApprovedModelVersions` (3). */
  readonly settings: Pick<PipelineSettings, 'retainApprovedModelVersions'> & Partial<Pick<PipelineSettings, 'retainApprovedRouterVersions' | 'targetModels'>>;
  readonly clock: Clock;
}

/** How many versions of the target stay deployable after a promotion. */
function keepFor(targetModelId: string, settings: PromoteDeps['settings']): number {
  const target = settings.targetModels?.find((m) => m.id === targetModelId);
  if (target?.kind === 'router' && settings.retainApprovedRouterVersions !== undefined) return settings.retainApprovedRouterVersions;
  return settings.retainApprovedModelVersions;
}

/**
 * Promotes the candidate (ResultPath `$.promotion`).
 *
 * @throws Error when the rollout is not done at 100 % (a wiring fault: only a finished rollout promotes).
 * @throws RolledBack when the rollout was rolled back meanwhile (an alarm in the last seconds).
 * @throws PromotionConflict when another rollout changed the model's current version.
 */
export async function promote(event: PromoteEvent, deps: PromoteDeps): Promise<Promotion> {
  const { rollout, progress } = event;
  if (!progress.done || progress.candidatePercent !== 100) {
    throw new Error(`rollout ${rollout.rolloutId} is not done at 100 % (step ${progress.index}: ${progress.candidatePercent} %, done ${String(progress.done)}); nothing to promote`);
  }
  const rollback = await deps.store.getRollback(rollout.rolloutId);
  if (rollback !== undefined) throw new RolledBack(`rollout ${rollout.rolloutId} was rolled back by the ${rollback.by} at ${rollback.verifiedAt} before promotion: ${rollback.reason}`);

  const at = deps.clock();
  // The store first: its conditional write refuses a conflicting promotion before anything is approved,
  // and a retry after a failed registry call finds the promotion done and approves then.
  const state = await deps.store.promote({
    targetModelId: rollout.targetModelId,
    expectedCurrentArn: rollout.current.modelPackageArn,
    next: rollout.candidate,
    keep: keepFor(rollout.targetModelId, deps.settings),
    rolloutId: rollout.rolloutId,
    at,
  });
  await deps.approver.setApprovalStatus(rollout.candidate.modelPackageArn, 'Approved', `canary rollout ${rollout.rolloutId} (requested by ${rollout.requestedBy}; every step approved and baked)`);
  await deps.store.clearActiveRollout(rollout.targetModelId, rollout.rolloutId);
  return promotionSchema.parse({
    targetModelId: rollout.targetModelId,
    current: state.current,
    previous: rollout.current,
    approvedModelPackageArn: rollout.candidate.modelPackageArn,
    // A retry reports the time of the promotion that happened, not of the retry.
    promotedAt: state.updatedAt,
  });
}
