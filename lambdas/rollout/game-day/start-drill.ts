/**
 * The game day's `Start drill`: a canary of the current version against itself. The plan's candidate is
 * the current package on a second serving slot (a `-drill` SageMaker variant of the same package, or the
 * idle EKS backend, which the serving team keeps running the current version for drills), so forcing
 * the canary alarm exercises the real rollback path without ever exposing an untested model. Like
 * `Validate rollout`, it claims the model as its active rollout, so the alarm Lambda acts on it; the
 * drill ends by the `Roll back` Lambda, which re-verifies 100 % current and releases the model.
 */
import { z } from 'zod';
import type { Clock } from '../../pipeline/ports';
import type { PipelineSettings } from '../../pipeline/settings';
import type { RolloutPlan } from '../contracts';
import { RolloutRefused } from '../errors';
import type { DeploymentStore } from '../ports';
import { drillVariantNameFor } from '../sagemaker/variants';
import { buildPlan, candidateServingName, claimModel, findModel, seedHint } from '../validate-rollout/validate-rollout';

/** `{ input: $ ({ targetModelId, requestedBy? }), executionName: $$.Execution.Name }`. */
export const startDrillEventSchema = z.object({
  input: z.object({
    targetModelId: z.string().min(1).max(64),
    requestedBy: z.string().min(1).max(256).default('game-day schedule'),
  }),
  executionName: z.string().min(1).max(256),
});

export interface StartDrillDeps {
  readonly settings: Pick<PipelineSettings, 'stage' | 'targetModels' | 'canary'>;
  readonly store: Pick<DeploymentStore, 'getCurrent' | 'setActiveRollout'>;
  readonly clock: Clock;
}

/**
 * The drill's plan (candidate = current version), claimed as the model's active rollout.
 *
 * @throws RolloutRefused for an unknown model, one without a current version, or one with a rollout in progress.
 */
export async function startDrill(event: unknown, deps: StartDrillDeps): Promise<RolloutPlan> {
  const parsed = startDrillEventSchema.safeParse(event);
  if (!parsed.success) throw new RolloutRefused(`the drill input is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const { input, executionName } = parsed.data;
  const { targetModelId, requestedBy } = input;
  const model = findModel(targetModelId, deps.settings);
  const deployment = await deps.store.getCurrent(model.id);
  if (deployment === undefined) throw new RolloutRefused(`${model.id} has no current version in the deployment store; ${seedHint(model)}`);
  const { current } = deployment;
  const servingName = model.rollout.kind === 'sagemaker' ? drillVariantNameFor(model.id, current.modelPackageVersion) : candidateServingName(model, deployment, current.modelPackageVersion);
  const candidate = { ...current, servingName };
  const plan = buildPlan({ settings: deps.settings, model, current, candidate, executionName, requestedBy, now: deps.clock() });
  return claimModel(deps.store, plan);
}
