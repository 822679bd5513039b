/**
 * The game day's `Start drill`: a canary of the current version against itself. The plan's candidate is
 * the current package on a second serving slot (a `-drill` SageMaker variant of the same package, or the
 * idle EKS backend, which the serving team keeps running the current version for drills), so forcing
 * the canary alarm exercises the real rollback path without ever exposing an untested model. Like
 * `Validate rollout`, it claims the model as its active rollout, so the alarm Lambda acts on it; the
 * drill ends by the `Roll back` Lambda, which re-verifies 100 % current and releases the model.
 */
import * as z from '../../shared/zod-mini';
import type { Clock } from '../../pipeline/ports';
import type { PipelineSettings } from '../../pipeline/settings';
import type { RolloutPlan } from '../contracts';
import { RolloutRefused } from '../errors';
import type { DeploymentStore } from '../ports';
import { drillVariantNameFor } from '../sagemaker/variants';
import { buildPlan, candidateServingName, claimModel, executionFields, findModel, sameExecution, seedHint } from '../validate-rollout/validate-rollout';

/** `{ input: $ ({ targetModelId, requestedBy? }), executionName: $$.Execution.Name, executionArn: $$.Execution.Id }`. */
export const startDrillEventSchema = z.object({
    input: z.object({
      targetModelId: z.string().check(z.minLength(1), z.maxLength(64)),
      requestedBy: z._default(z.string().check(z.minLength(1), z.maxLength(256)), 'game-day schedule'),
    }),
    ...executionFields,
  }).check(z.superRefine(sameExecution));

export interface StartDrillDeps {
  readonly settings: Pick<PipelineSettings, 'stage' | 'targetModels' | 'canary'>;
  readonly store: Pick<DeploymentStore, 'getCurrent' | 'setActiveRollout'>;
  readonly clock: Clock;
}

/**
 * The drill's plan (candidate = current version), claimed as the model's active rollout.
 *
 * @throws RolloutRefused for an invalid input, an unknown model, one without a current version, or one with a
 *   rollout in progress.
 * @throws Error for wiring faults (no execution name or ARN, or ones of two executions).
 */
export async function startDrill(event: unknown, deps: StartDrillDeps): Promise<RolloutPlan> {
  const parsed = startDrillEventSchema.safeParse(event);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    // Only `input` is the operator's (or the schedule's); the rest comes from the state machine, and a
    // fault there is a wiring fault, not a refusal.
    if (parsed.error.issues.every((i) => i.path[0] === 'input')) throw new RolloutRefused(`the drill input is invalid: ${issues}`);
    throw new Error(`Start drill expects { input, executionName, executionArn } from the state machine: ${issues}`);
  }
  const { input, executionName, executionArn } = parsed.data;
  const { targetModelId, requestedBy } = input;
  const model = findModel(targetModelId, deps.settings);
  const deployment = await deps.store.getCurrent(model.id);
  if (deployment === undefined) throw new RolloutRefused(`${model.id} has no current version in the deployment store; ${seedHint(model)}`);
  const { current } = deployment;
  const servingName = model.rollout.kind === 'sagemaker' ? drillVariantNameFor(model.id, current.modelPackageVersion) : candidateServingName(model, deployment, current.modelPackageVersion);
  const candidate = { ...current, servingName };
  const plan = buildPlan({ settings: deps.settings, model, current, candidate, executionName, executionArn, requestedBy, now: deps.clock() });
  return claimModel(deps.store, plan);
}
