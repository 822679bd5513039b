/**
 * `Validate rollout`, the canary's first state: turns the execution input (the registration the
 * training pipeline handed over) into the rollout's plan, or refuses it, and marks the rollout as the
 * model's active one so that the alarm rollback Lambda knows whom to roll back from the first second.
 *
 * What "current" is: the deployment store's current version of the model. The loop cannot know what
 * the serving team deployed before its first rollout, so a model without one is refused with the
 * command that records it (docs/decisions.md, "Rollout and rollback"); after that, every promotion
 * updates it.
 */
import * as z from '../../shared/zod-mini';
import { isRouterTarget, registryKeyOf, targetModelFamily, type TargetModel } from '../../../config/schema';
import type { ModelRegistry, RegisteredModelPackage } from '../../pipeline/register-model/model-registry';
import { EVAL_EVIDENCE_PREFIX, MODEL_METADATA } from '../../pipeline/register-model/model-registry';
import type { Clock } from '../../pipeline/ports';
import { canaryAlarmName, type PipelineSettings } from '../../pipeline/settings';
import { runIdFromExecutionName } from '../../pipeline/validate-request/run-id';
import { executionArnSchema, executionNameOf, rolloutInputSchema, rolloutPlanSchema, type RolloutInput, type RolloutPlan, type ServingVersion } from '../contracts';
import { RolloutRefused } from '../errors';
import type { DeploymentState, DeploymentStore } from '../ports';
import { variantNameFor } from '../sagemaker/variants';

/**
 * The execution as a state names it: `executionName: $$.Execution.Name, executionArn: $$.Execution.Id`.
 * The ARN is optional only for an execution started on the definition before claims recorded it, which
 * calls this code while a deploy updates the functions before the state machine; its claim then has
 * no ARN, and `sial rollout release` derives one (docs/decisions.md).
 */
export const executionFields = {
  executionName: z.string().check(z.minLength(1), z.maxLength(256)),
  executionArn: z.optional(executionArnSchema),
};

/**
 * The name and the ARN must be one execution's: the rollout id comes from the name and the claim records
 * the ARN, and `sial rollout release` checks one against the other.
 */
export function sameExecution(event: { readonly executionName: string; readonly executionArn?: string | undefined }, context: z.core.$RefinementCtx): void {
  if (event.executionArn !== undefined && executionNameOf(event.executionArn) !== event.executionName) {
    context.addIssue({ code: 'custom', path: ['executionArn'], message: `${event.executionArn} is not the ARN of execution ${event.executionName}` });
  }
}

/** What the state passes in: `{ input: $, executionName: $$.Execution.Name, executionArn: $$.Execution.Id }`. */
export const validateRolloutEventSchema = z.object({ input: z.unknown(), ...executionFields }).check(z.superRefine(sameExecution));

export interface ValidateRolloutDeps {
  readonly settings: Pick<PipelineSettings, 'stage' | 'targetModels' | 'modelPackageGroups' | 'canary'>;
  readonly registry: Pick<ModelRegistry, 'listPackages'>;
  readonly store: Pick<DeploymentStore, 'getCurrent' | 'setActiveRollout'>;
  readonly clock: Clock;
}

const ALLOWED_INPUT_FIELDS = Object.keys(rolloutInputSchema.shape).join(', ');

/** How an operator records the version that serves a model before its first rollout (bin/cli/rollout.ts). */
export function seedHint(model: TargetModel): string {
  const servingName = model.rollout.kind === 'sagemaker' ? ` --serving-name <the variant of ${model.rollout.endpointName} that serves it>` : ` (it serves from ${model.rollout.currentBackend} unless --serving-name says otherwise)`;
  return `record the version that serves it now with: sial rollout seed --model ${model.id} --version <N>${servingName}`;
}

/**
 * The stage's target model of that id, re-checked against the scope rule.
 *
 * @throws RolloutRefused for an unknown model or a managed family.
 */
export function findModel(targetModelId: string, settings: Pick<PipelineSettings, 'stage' | 'targetModels'>): TargetModel {
  const model = settings.targetModels.find((m) => m.id === targetModelId);
  if (model === undefined) {
    throw new RolloutRefused(`targetModelId: unknown target model "${targetModelId}"; stage ${settings.stage} rolls out only: ${settings.targetModels.map((m) => m.id).join(', ')}`);
  }
  // The scope rule (never a managed closed model) is checked again at run time, as the training pipeline's first state does.
  // A router is no LLM family: no family rule applies to it (and it is never a managed model: it is ours).
  if (isRouterTarget(model)) return model;
  const family = targetModelFamily.safeParse(model.family);
  if (!family.success) throw new RolloutRefused(`target model "${model.id}": ${family.error.issues.map((i) => i.message).join('; ')}`);
  return model;
}

/** `arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>` -> group and version. */
function packageCoordinates(arn: string): { group: string; version: number } | undefined {
  const match = /^arn:aws[a-z-]*:sagemaker:[^:]*:[^:]*:model-package\/([^/]+)\/(\d+)$/.exec(arn);
  return match === null ? undefined : { group: match[1]!, version: Number(match[2]) };
}

/** Refuses a package that is not a version of the model's group, is rejected, or was registered for another model; returns it. */
async function checkPackage(input: RolloutInput, model: TargetModel, deps: ValidateRolloutDeps): Promise<RegisteredModelPackage> {
  const group = deps.settings.modelPackageGroups[registryKeyOf(model)];
  if (group === undefined) throw new Error(`no model package group is configured for "${registryKeyOf(model)}" in stage ${deps.settings.stage}`);
  const coordinates = packageCoordinates(input.modelPackageArn);
  if (coordinates === undefined) throw new RolloutRefused(`modelPackageArn "${input.modelPackageArn}" is not a versioned SageMaker model package ARN (.../model-package/<group>/<version>)`);
  if (coordinates.group !== group) throw new RolloutRefused(`model package ${input.modelPackageArn} is in group ${coordinates.group}, not in ${group}, the group of ${model.id}`);
  if (coordinates.version !== input.modelPackageVersion) {
    throw new RolloutRefused(`modelPackageVersion ${input.modelPackageVersion} does not match the version in the ARN (${coordinates.version})`);
  }
  const registered = (await deps.registry.listPackages(group)).find((p) => p.arn === input.modelPackageArn);
  if (registered === undefined) throw new RolloutRefused(`model package ${input.modelPackageArn} is not registered in ${group}`);
  if (registered.approvalStatus === 'Rejected') throw new RolloutRefused(`model package ${input.modelPackageArn} is Rejected in the registry; a rejected version is never rolled out`);
  const registeredFor = registered.metadata[MODEL_METADATA.targetModelId];
  if (registeredFor !== undefined && registeredFor !== model.id) {
    throw new RolloutRefused(`model package ${input.modelPackageArn} was trained for ${registeredFor}, not for ${model.id}`);
  }
  return registered;
}

/**
 * What the deploy approvals show the approver about the candidate: the eval gate's comparison with
 * production and the training lineage, as Register model recorded them in the registry. A version
 * registered some other way says that it carries none, rather than showing nothing.
 */
export function evalEvidenceOf(registered: Pick<RegisteredModelPackage, 'metadata'>): Record<string, string> {
  const evidence = Object.fromEntries(
    Object.entries(registered.metadata)
      .filter(([key]) => key.startsWith(EVAL_EVIDENCE_PREFIX))
      .map(([key, value]) => [key.slice(EVAL_EVIDENCE_PREFIX.length), value]),
  );
  if (Object.keys(evidence).length === 0) return { note: 'the registry holds no eval evidence for this version: it was not registered by the training pipeline' };
  const lineage: Array<[string, string]> = [
    ['trainingRun', MODEL_METADATA.runId],
    ['dataset', MODEL_METADATA.datasetId],
    ['rewardPolicyVersion', MODEL_METADATA.rewardPolicyVersion],
    ['trainingApprovedBy', MODEL_METADATA.approver],
  ];
  for (const [label, key] of lineage) {
    const value = registered.metadata[key];
    if (value !== undefined) evidence[label] = value;
  }
  return evidence;
}

/**
 * Where the candidate serves: a new variant on SageMaker; on EKS the backend that does not serve now.
 *
 * @throws RolloutRefused when that would be where the current version serves.
 */
export function candidateServingName(model: TargetModel, deployment: DeploymentState, version: number): string {
  const target = model.rollout;
  if (target.kind === 'sagemaker') {
    const name = variantNameFor(model.id, version);
    if (name === deployment.current.servingName) throw new RolloutRefused(`variant ${name} already serves ${model.id} as its current version`);
    return name;
  }
  const backends = [target.currentBackend, target.candidateBackend];
  if (!backends.includes(deployment.current.servingName)) {
    throw new RolloutRefused(
      `the current version of ${model.id} serves from backend ${deployment.current.servingName}, which is neither ${target.currentBackend} nor ${target.candidateBackend} of HTTPRoute ${target.namespace}/${target.httpRouteName}; fix the configuration or the deployment store`,
    );
  }
  // The two backends swap roles with every promotion: the candidate goes to the idle one.
  return deployment.current.servingName === target.currentBackend ? target.candidateBackend : target.currentBackend;
}

/**
 * Validates the input and builds the plan (ResultPath `$.rollout`); marks it as the model's active rollout.
 *
 * @throws RolloutRefused for an invalid input, an unknown or managed model, a package outside the
 *   model's group, a model without a recorded current version, a candidate that already is current, or
 *   another rollout of the same model in progress.
 * @throws Error for wiring faults (no execution name or ARN, or ones of two executions; no package group).
 */
export async function validateRollout(event: unknown, deps: ValidateRolloutDeps): Promise<RolloutPlan> {
  const envelope = validateRolloutEventSchema.safeParse(event);
  if (!envelope.success) throw new Error(`Validate rollout expects { input, executionName, executionArn } from the state machine: ${envelope.error.message}`);
  const parsed = rolloutInputSchema.safeParse(envelope.data.input);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new RolloutRefused(`the execution input is invalid: ${fields}. Allowed fields: ${ALLOWED_INPUT_FIELDS}`);
  }
  const input = parsed.data;
  const { settings } = deps;
  const model = findModel(input.targetModelId, settings);
  const registered = await checkPackage(input, model, deps);

  const deployment = await deps.store.getCurrent(model.id);
  if (deployment === undefined) throw new RolloutRefused(`${model.id} has no current version in the deployment store; ${seedHint(model)}`);
  if (deployment.current.modelPackageArn === input.modelPackageArn) {
    throw new RolloutRefused(`model package ${input.modelPackageArn} already is the current version of ${model.id}`);
  }
  const candidate: ServingVersion = {
    modelPackageArn: input.modelPackageArn,
    modelPackageVersion: input.modelPackageVersion,
    servingName: candidateServingName(model, deployment, input.modelPackageVersion),
  };
  const { executionName, executionArn } = envelope.data;
  const plan = buildPlan({ settings, model, current: deployment.current, candidate, executionName, executionArn, requestedBy: input.requestedBy, now: deps.clock(), evalEvidence: evalEvidenceOf(registered) });
  return claimModel(deps.store, plan);
}

/** What a plan is made of besides the stage's canary settings. */
export interface PlanParts {
  readonly settings: Pick<PipelineSettings, 'stage' | 'canary'>;
  readonly model: TargetModel;
  readonly current: ServingVersion;
  readonly candidate: ServingVersion;
  readonly executionName: string;
  /** Recorded in the plan, and so in the claim, for `sial rollout release` (absent: see executionFields). */
  readonly executionArn?: string | undefined;
  readonly requestedBy: string;
  readonly now: Date;
  /** What the deploy approvals show about the candidate (a rollout's; a drill has none). */
  readonly evalEvidence?: Record<string, string>;
}

/** The plan: the rollout id from the execution name, its execution's ARN, steps and bake from the canary settings, the model's alarm. */
export function buildPlan(parts: PlanParts): RolloutPlan {
  const { settings, model } = parts;
  const { canary } = settings;
  return rolloutPlanSchema.parse({
    rolloutId: runIdFromExecutionName(parts.executionName),
    ...(parts.executionArn === undefined ? {} : { executionArn: parts.executionArn }),
    stage: settings.stage,
    targetModelId: model.id,
    modelFamily: registryKeyOf(model),
    target: model.rollout,
    current: parts.current,
    candidate: parts.candidate,
    stepsPercent: canary.stepsPercent,
    bakeSeconds: canary.bakeSeconds,
    checkIntervalSeconds: canary.checkIntervalSeconds,
    alarmName: canaryAlarmName(settings.stage, model.id),
    requestedBy: parts.requestedBy,
    startedAt: parts.now.toISOString(),
    ...(parts.evalEvidence === undefined ? {} : { evalEvidence: parts.evalEvidence }),
  });
}

/**
 * Marks the plan as its model's active rollout.
 *
 * @throws RolloutRefused when another rollout of the model is in progress.
 */
export async function claimModel(store: Pick<DeploymentStore, 'setActiveRollout'>, plan: RolloutPlan): Promise<RolloutPlan> {
  const claim = await store.setActiveRollout(plan.targetModelId, plan);
  if (!claim.acquired) {
    throw new RolloutRefused(
      `rollout ${claim.active.rolloutId} of ${plan.targetModelId} (package version ${claim.active.candidate.modelPackageVersion}, started ${claim.active.startedAt} by ${claim.active.requestedBy}) is still in progress; one rollout per model at a time`,
    );
  }
  // A retried Validate (same execution, so the same rollout id) claims again and gets its own plan back.
  return claim.active;
}
