/**
 * The game day's `Set self canary`: the drill's first step, the current version's small share on its
 * second serving slot, set and verified, so that the breach that follows is rolled back from a real
 * split. On SageMaker the slot is a `-drill` variant that first has to be deployed: until it serves,
 * this step answers TrafficTargetBusy and the state machine retries it (the deploy takes minutes).
 */
import * as z from '../../shared/zod-mini';
import { rolloutPlanSchema } from '../contracts';
import { TrafficTargetBusy } from '../errors';
import type { CandidateVariantDeployer, TrafficRouter } from '../ports';
import { applyAndAwait, type SettleOptions, type WeightsVerified } from '../traffic/settle';
import { weightsWithCandidate } from '../traffic/weights';

/** `{ rollout: $.rollout }` (the drill's plan from Start drill). */
export const selfCanaryEventSchema = z.object({ rollout: rolloutPlanSchema });

export interface SelfCanaryDeps {
  readonly router: TrafficRouter;
  /** Deploys the SageMaker drill variant (unused for EKS: the idle backend already serves the current version). */
  readonly deployer: CandidateVariantDeployer;
  readonly settle: SettleOptions;
}

/**
 * Sets and verifies the plan's first step (ResultPath `$.selfCanary`).
 *
 * @throws TrafficTargetBusy while the SageMaker drill variant is being deployed (retry).
 * @throws Error when the endpoint failed to deploy it.
 * @throws WeightsNotApplied when the split does not take.
 */
export async function setSelfCanary(event: unknown, deps: SelfCanaryDeps): Promise<WeightsVerified> {
  const { rollout } = selfCanaryEventSchema.parse(event);
  if (rollout.current.modelPackageArn !== rollout.candidate.modelPackageArn) {
    throw new Error(`rollout ${rollout.rolloutId} is not a self canary (its candidate is another package): a drill never exposes an untested version`);
  }
  if (rollout.target.kind === 'sagemaker') {
    const status = await deps.deployer.endpointStatus(rollout);
    if (status.failed) throw new Error(`the drill variant ${rollout.candidate.servingName} could not be deployed on ${status.endpointName}: ${status.failureReason ?? status.status}`);
    if (!status.inService) {
      if (!status.candidateDeployed && status.status === 'InService') await deps.deployer.deployCandidateVariant(rollout);
      throw new TrafficTargetBusy(`the drill variant ${rollout.candidate.servingName} is being deployed on ${status.endpointName} (${status.status})`);
    }
  }
  const firstStep = rollout.stepsPercent[0];
  if (firstStep === undefined) throw new Error(`rollout ${rollout.rolloutId} has no steps`);
  return applyAndAwait(deps.router, rollout, weightsWithCandidate(firstStep), deps.settle);
}
