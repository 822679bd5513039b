/**
 * What the training pipeline's and the canary rollout's Lambdas need from the stage configuration,
 * passed by the constructs as one JSON environment variable (PIPELINE_SETTINGS) and validated at cold
 * start. Resource names (buckets, tables, topics, the signing secret) travel as their own variables,
 * named in PIPELINE_ENV below (and ROLLOUT_ENV in lambdas/rollout/env.ts); constructs set them with
 * grant* next to them.
 */
import * as z from '../shared/zod-mini';
import { lakeSettingsSchema } from './lake-settings';
import { DATA_BOUNDARIES } from '../../config/boundaries';
import { judgePromptHash, type JudgePolicy } from '../judge/judge-policy';
import { registryKeyOf, approvalsSchema, canarySchema, datasetSchema, eligibilitySchema, evalGateSchema, gpuBudgetSchema, targetModelSchema, trainingSchema, type StageConfig, type TargetModel } from '../../config/schema';

const unit = z.number().check(z.gte(0), z.lte(1));

/**
 * The part of the reward policy the dataset build re-scores with: the component weights and how a
 * feedback event becomes the feedback component. Stored components are re-weighted under these, so rows
 * of an older accepted policy version and rows with late feedback get the current policy's reward.
 */
export const rewardScoringSchema = z.strictObject({
  version: z.string().check(z.minLength(1)),
  weights: z.strictObject({ feedback: unit, errors: unit, latency: unit, groundedness: unit, judge: unit }),
  feedback: z.strictObject({
    outcomeScores: z.strictObject({ success: unit, fallback: unit, timeout: unit, error: unit, user_rejected: unit }),
    qualityShare: unit,
  }),
  /**
   * The policy's judge prompt hash (`sha256:...`), or '' when the policy defines no judge: the build
   * reads the judge component from judgments made under exactly this hash.
   */
  judgePromptHash: z.string(),
});
export type RewardScoring = z.infer<typeof rewardScoringSchema>;

/** The rescoring slice of a reward policy (config/reward-policies/<version>.json). */
export function rewardScoringOf(policy: {
  readonly version: string;
  readonly weights: RewardScoring['weights'];
  readonly components: { readonly feedback: RewardScoring['feedback'] };
  readonly judge?: JudgePolicy;
}): RewardScoring {
  return {
    version: policy.version,
    judgePromptHash: policy.judge === undefined ? '' : judgePromptHash(policy.judge),
    weights: { ...policy.weights },
    feedback: { outcomeScores: { ...policy.components.feedback.outcomeScores }, qualityShare: policy.components.feedback.qualityShare },
  };
}

export const pipelineSettingsSchema = z.strictObject({
  stage: z.string().check(z.minLength(1)),
  boundary: z.enum(DATA_BOUNDARIES),
  rewardPolicyVersion: z.string().check(z.minLength(1)),
  targetModels: z.array(targetModelSchema).check(z.minLength(1)),
  eligibility: eligibilitySchema,
  dataset: datasetSchema,
  /** Needed by the dataset build only; the constructs and local mode pass it from the stage's policy file. */
  rewardScoring: z.optional(rewardScoringSchema),
  gpuBudget: gpuBudgetSchema,
  training: z.pick(trainingSchema, { gpusPerJob: true, maxJobHours: true, maxEvalJobHours: true, attempts: true, checkpointIntervalHours: true, algorithm: true, hyperparameters: true, baseModelUris: true }),
  evalGate: evalGateSchema,
  approvalExpiryHours: approvalsSchema.shape.expiryHours,
  retainApprovedModelVersions: z.number().check(z.int(), z.gte(3)),
  retainApprovedRouterVersions: z.number().check(z.int(), z.gte(10)),
  lake: lakeSettingsSchema,
  /** SageMaker model package group per model family, and per router (by its id: a router is no family). */
  modelPackageGroups: z.record(z.string(), z.string().check(z.minLength(1))),
  /**
   * The canary rollout and alarm rollback: steps, bake, check interval, alarm thresholds and the
   * game-day bound. Each target model's `rollout` (SageMaker endpoint or EKS HTTPRoute) is in targetModels.
   */
  canary: canarySchema,
  /**
   * Only for a stage with `lake.hashAgentIds`: the declared agent ids (`agents[].id`), whose pseudonyms
   * (under the key at PIPELINE_ENV.pseudonymisationKeySecretArn) the dataset build computes to show
   * them by name in the manifest's eligibility figures. Absent: rows hold the ids as they are.
   */
  hashedAgents: z.optional(z.array(z.string().check(z.minLength(1)))),
});
export type PipelineSettings = z.infer<typeof pipelineSettingsSchema>;

/** Environment variable names the pipeline's constructs set and its Lambdas read. */
export const PIPELINE_ENV = {
  settings: 'PIPELINE_SETTINGS',
  artifactBucket: 'ARTIFACT_BUCKET',
  athenaWorkGroup: 'ATHENA_WORKGROUP',
  /** s3:// folder of the golden sets (`<target>/golden.jsonl`): what datasets are decontaminated against. */
  goldenSetsUri: 'GOLDEN_SETS_URI',
  ledgerTable: 'LEDGER_TABLE',
  approvalsTable: 'APPROVALS_TABLE',
  signingSecretArn: 'APPROVAL_SIGNING_SECRET_ARN',
  approvalPageBaseUrl: 'APPROVAL_PAGE_BASE_URL',
  /** JSON `{ kind: [address, ...] }`: who gets a personal approval link, per approval kind (approval-recipients.ts). */
  approvalRecipients: 'APPROVAL_RECIPIENTS',
  /** JSON `{ kind: [address, ...] }`: the stage's approver e-mail lists the page enforces (empty: none named). */
  approverEmails: 'APPROVER_EMAILS',
  approvalsTopicArn: 'APPROVALS_TOPIC_ARN',
  finopsTopicArn: 'FINOPS_TOPIC_ARN',
  notificationsTopicArn: 'NOTIFICATIONS_TOPIC_ARN',
  /** Build dataset only, and only with `hashedAgents` (lake.hashAgentIds): the pseudonymisation key secret. */
  pseudonymisationKeySecretArn: 'PSEUDONYMISATION_KEY_SECRET_ARN',
} as const;

/**
 * Model package group name of a registry key (a family, or a router's id: config/schema.ts registryKeyOf)
 * in a stage (no physical names elsewhere: this one is a contract).
 */
export function modelPackageGroupName(stage: string, registryKey: string): string {
  return `sial-${stage}-${registryKey}`;
}

/** How many approved versions of a target stay deployable: routers keep more (config/governance-defaults.ts). */
export function retainedApprovedVersions(model: TargetModel, settings: Pick<PipelineSettings, 'retainApprovedModelVersions' | 'retainApprovedRouterVersions'>): number {
  return model.kind === 'router' ? settings.retainApprovedRouterVersions : settings.retainApprovedModelVersions;
}

/**
 * Name of the composite canary alarm of a target model in a stage. A contract like the package group's
 * name: the rollout plan carries it, the alarm rollback Lambda maps an alarm back to its model with
 * {@link targetModelOfCanaryAlarm}, and a game day forces it into ALARM by name.
 */
export function canaryAlarmName(stage: string, targetModelId: string): string {
  return `sial-${stage}-${targetModelId}-canary`;
}

/** The target model whose canary alarm this is, or undefined for any other alarm. */
export function targetModelOfCanaryAlarm(alarmName: string, settings: Pick<PipelineSettings, 'stage' | 'targetModels'>): string | undefined {
  return settings.targetModels.find((m) => canaryAlarmName(settings.stage, m.id) === alarmName)?.id;
}

/** Derives the settings from a stage; throws naming every field that does not fit. */
export function pipelineSettingsFromStage(stage: StageConfig, lake: PipelineSettings['lake'], rewardScoring?: RewardScoring): PipelineSettings {
  if (!stage.dataset.acceptedRewardPolicyVersions.includes(stage.rewardPolicyVersion)) {
    throw new Error(
      `The pipeline settings are invalid: dataset.acceptedRewardPolicyVersions (${stage.dataset.acceptedRewardPolicyVersions.join(', ')}) must include the stage's rewardPolicyVersion "${stage.rewardPolicyVersion}"`,
    );
  }
  if (rewardScoring !== undefined && rewardScoring.version !== stage.rewardPolicyVersion) {
    throw new Error(`The pipeline settings are invalid: the reward policy given is ${rewardScoring.version} but the stage names ${stage.rewardPolicyVersion}`);
  }
  const registryKeys = [...new Set(stage.targetModels.map(registryKeyOf))];
  const candidate = {
    stage: stage.stage,
    boundary: stage.dataBoundary,
    rewardPolicyVersion: stage.rewardPolicyVersion,
    targetModels: stage.targetModels,
    eligibility: stage.eligibility,
    dataset: stage.dataset,
    ...(rewardScoring === undefined ? {} : { rewardScoring }),
    gpuBudget: stage.gpuBudget,
    training: {
      gpusPerJob: stage.training.gpusPerJob,
      maxJobHours: stage.training.maxJobHours,
      maxEvalJobHours: stage.training.maxEvalJobHours,
      attempts: stage.training.attempts,
      ...(stage.training.checkpointIntervalHours === undefined ? {} : { checkpointIntervalHours: stage.training.checkpointIntervalHours }),
      algorithm: stage.training.algorithm,
      hyperparameters: stage.training.hyperparameters,
      baseModelUris: stage.training.baseModelUris,
    },
    evalGate: stage.evalGate,
    approvalExpiryHours: stage.approvals.expiryHours,
    retainApprovedModelVersions: stage.retainApprovedModelVersions,
    retainApprovedRouterVersions: stage.retainApprovedRouterVersions,
    lake,
    modelPackageGroups: Object.fromEntries(registryKeys.map((k) => [k, modelPackageGroupName(stage.stage, k)])),
    canary: stage.canary,
    ...(stage.lake.hashAgentIds === true ? { hashedAgents: stage.agents.map((a) => a.id) } : {}),
  };
  return parseSettings(candidate, 'The pipeline settings');
}

function parseSettings(candidate: unknown, what: string): PipelineSettings {
  const result = pipelineSettingsSchema.safeParse(candidate);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${what} is invalid: ${fields}`);
  }
  return result.data;
}

/** Reads PIPELINE_SETTINGS at cold start. */
export function pipelineSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): PipelineSettings {
  const json = env[PIPELINE_ENV.settings];
  if (json === undefined || json === '') throw new Error(`${PIPELINE_ENV.settings} is not set: the construct passes the pipeline settings as JSON`);
  return parseSettings(JSON.parse(json), PIPELINE_ENV.settings);
}

/** Reads a required resource variable, naming it when it is missing. */
export { requiredEnv } from '../shared/required-env';
