/**
 * The stage configuration contract. Every stage file in `config/stages/` is validated against this
 * schema at synth time (bin/app.ts) and by the local runner; a bad value fails with the field's path,
 * the value received and what is allowed.
 */
import * as z from '../lambdas/shared/zod-mini';
import { BOUNDARY_REGIONS, DATA_BOUNDARIES } from './boundaries';
import { calibrationSettingsSchema } from '../lambdas/judge/calibration/calibration-settings';
import { judgeBoundaryProblems, judgeStageSchema } from './judge';
import { operationsSchema, SLO_PERCENTILES } from './operations';
import { SELF_HOSTED_MODEL_FAMILIES } from './model-families';
import { parseSageMakerEndpoint, piiSchema } from './pii';

export { SELF_HOSTED_MODEL_FAMILIES, type SelfHostedModelFamily } from './model-families';

/**
 * Words that identify a managed closed model. Matched as substrings of the lower-cased family so
 * that "openai-gpt-4.1" and "bedrock-claude" are both recognised and refused with the scope rule's reason.
 */
export const MANAGED_MODEL_MARKERS = [
  'bedrock',
  'anthropic',
  'claude',
  'nova',
  'titan',
  'openai',
  'gpt',
  'gemini',
  'vertex',
  'cohere',
  'mistral-large',
] as const;

export { CONFIDENTIALITY_LEVELS, type ConfidentialityLevel } from './confidentiality';
export {
  entityDetectorSchema,
  parseSageMakerEndpoint,
  patternOnlyRiskAcceptanceSchema,
  piiSchema,
  type EntityDetectorConfig,
  type PatternOnlyRiskAcceptance,
  type PiiConfig,
  type SageMakerEndpointRef,
} from './pii';

const awsRegion = z.string().check(z.regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region code such as eu-central-1'));

/** A model family accepted as a training target; refuses managed closed models with the scope rule's reason. */
export const targetModelFamily = z.string().check(z.superRefine((value, ctx) => {
  const lower = value.toLowerCase();
  const marker = MANAGED_MODEL_MARKERS.find((m) => lower.includes(m));
  if (marker !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is a managed closed model (matched "${marker}"); this loop only trains self-hosted open-weight families: ${SELF_HOSTED_MODEL_FAMILIES.join(', ')} (managed closed models are never trained)`,
    });
    return;
  }
  if (!(SELF_HOSTED_MODEL_FAMILIES as readonly string[]).includes(lower)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a supported self-hosted family; allowed: ${SELF_HOSTED_MODEL_FAMILIES.join(', ')}`,
    });
  }
}));

/**
 * Where a model serves and how its canary moves traffic. SageMaker: the candidate becomes a
 * second production variant of the serving endpoint and steps set variant weights. EKS: steps patch
 * the weights of a Gateway API HTTPRoute's two backendRefs through the Step Functions eks:call
 * integration.
 */
export const rolloutTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('sagemaker'),
    /** The existing serving endpoint (created by the serving team; the loop only adds and weighs variants). */
    endpointName: z.string().check(z.regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/)),
    /** Instance type and count of the candidate variant. */
    instanceType: z.string().check(z.regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/)),
    initialInstanceCount: z.number().check(z.int(), z.positive()),
  }),
  z.strictObject({
    kind: z.literal('eks'),
    /**
     * The EKS cluster (same account and region). Its API endpoint and CA are read from EKS
     * (DescribeCluster) when a rollout starts and by the rollback Lambdas, never configured: they cannot
     * go stale, and a CA (about 1.5 KB) would otherwise ride in every Lambda's 4 KB environment.
     */
    clusterName: z.string().check(z.regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, 'must be an EKS cluster name (letters, digits, - and _, at most 100)')),
    namespace: z.string().check(z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)),
    /** The Gateway API HTTPRoute whose two backendRefs carry current and candidate traffic. */
    httpRouteName: z.string().check(z.regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)),
    currentBackend: z.string().check(z.minLength(1)),
    candidateBackend: z.string().check(z.minLength(1)),
  }),
]);
export type RolloutTarget = z.infer<typeof rolloutTargetSchema>;

const targetModelId = z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'must be lower-case letters, digits, dots and dashes'));

/** An LLM the loop trains with GRPO or DPO on GPUs (`kind` may be left out: LLM targets came first). */
export const llmTargetModelSchema = z.strictObject({
  kind: z.optional(z.literal('llm')),
  /** Short id used in metric dimensions and the lake's `model` partition, e.g. `qwen3-4b`. */
  id: targetModelId,
  family: targetModelFamily,
  /**
   * An internal-only model may learn from internal-only and customer-confidential traces; any other
   * model learns only from public and internal ones (the confidentiality gate).
   */
  internalOnly: z.boolean(),
  /** Where the model serves and how its canary moves traffic. */
  rollout: rolloutTargetSchema,
});
export type LlmTargetModel = z.infer<typeof llmTargetModelSchema>;

/** A serving tier the router may pick, with what 1,000 requests on it cost. */
export const routerTierSchema = z.strictObject({
  name: z.string().check(z.regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be a lower-case tier name such as small')),
  costPer1kRequestsUsd: z.number().check(z.nonnegative()),
});
export type RouterTier = z.infer<typeof routerTierSchema>;

/** vCPU -> the memory (MiB) AWS Fargate accepts with it: [min, max, step]. */
export const FARGATE_MEMORY_MIB: Readonly<Record<string, readonly [number, number, number]>> = {
  '0.25': [512, 2048, 512],
  '0.5': [1024, 4096, 1024],
  '1': [2048, 8192, 1024],
  '2': [4096, 16384, 1024],
  '4': [8192, 30720, 1024],
  '8': [16384, 61440, 4096],
  '16': [32768, 122880, 8192],
};

/** Instance families with accelerators: a router is a small CPU model and never holds one. */
const ACCELERATED_INSTANCE = /^ml\.(p|g|inf|trn|dl)[0-9]/;

/**
 * The cascade router's classifier (which serving tier answers a request): trained on CPU from the lake's
 * routing outcomes by `python -m sial_training.router`, served on a SageMaker endpoint by the same image.
 * It is no LLM family, so no family rule applies; it is trained, gated, registered and rolled out
 * through the same approvals as an LLM.
 */
export const routerTargetModelSchema = z.strictObject({
    kind: z.literal('router'),
    id: targetModelId,
    /** As for an LLM: whether confidential traces may teach it. */
    internalOnly: z.boolean(),
    /** The tiers it chooses between, cheapest first (the trainer's cost order). */
    tiers: z.array(routerTierSchema).check(z.minLength(2)),
    /** A reward at or above this is a good outcome on the tier that served (the labelling rule). */
    qualityFloor: z.number().check(z.gte(0), z.lte(1)),
    /**
     * Largest rise of the misroute rate over the current version, in points (0.10 = 10): the eval gate
     * refuses a candidate above it, and the canary's misroute alarm rolls back at it.
     */
    maxMisrouteRise: z.number().check(z.gt(0), z.lte(1)),
    /** The gate's floor on the share of requests routed at or above the tier they needed. */
    minRoutingQuality: z.number().check(z.gte(0), z.lte(1)),
    /** The endpoint whose production variants serve the router (CPU instances only). */
    rollout: z.strictObject({
      kind: z.literal('sagemaker'),
      endpointName: z.string().check(z.regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/)),
      instanceType: z.string().check(z.regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/), z.refine((t) => !ACCELERATED_INSTANCE.test(t), 'must be a CPU instance type such as ml.c7i.large (the router needs no accelerator)')),
      initialInstanceCount: z.number().check(z.int(), z.positive()),
    }),
    /** The training job on AWS Batch (Fargate): its size and how long one attempt may run. */
    resources: z.strictObject({
      vcpus: z.number().check(z.refine((v) => FARGATE_MEMORY_MIB[String(v)] !== undefined, `must be a Fargate vCPU value: ${Object.keys(FARGATE_MEMORY_MIB).join(', ')}`)),
      memoryMiB: z.number().check(z.int(), z.positive()),
      maxJobHours: z.number().check(z.positive(), z.lte(24)),
    }),
  }).check(z.superRefine((router, ctx) => {
    const names = router.tiers.map((t) => t.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) ctx.addIssue({ code: 'custom', path: ['tiers'], message: `tier "${twice}" is named twice; each tier once` });
    const costs = router.tiers.map((t) => t.costPer1kRequestsUsd);
    if (costs.some((c, i) => i > 0 && c < (costs[i - 1] ?? 0))) {
      ctx.addIssue({ code: 'custom', path: ['tiers'], message: `tiers must be listed cheapest first, received costs ${JSON.stringify(costs)}` });
    }
    const range = FARGATE_MEMORY_MIB[String(router.resources.vcpus)];
    if (range !== undefined) {
      const [min, max, step] = range;
      const memory = router.resources.memoryMiB;
      if (memory < min || memory > max || memory % step !== 0) {
        ctx.addIssue({ code: 'custom', path: ['resources', 'memoryMiB'], message: `Fargate gives ${router.resources.vcpus} vCPU ${min}-${max} MiB in steps of ${step}, received ${memory}` });
      }
    }
  }));
export type RouterTargetModel = z.infer<typeof routerTargetModelSchema>;

/** A model the loop trains: an LLM (the default kind) or the cascade router's classifier. */
export const targetModelSchema = z.discriminatedUnion('kind', [llmTargetModelSchema, routerTargetModelSchema]);
export type TargetModel = z.infer<typeof targetModelSchema>;

/** Whether a target is the router classifier (narrows the type). */
export function isRouterTarget(model: TargetModel): model is RouterTargetModel {
  return model.kind === 'router';
}

/**
 * The key of a target's model package group: an LLM shares its family's group with the family's other
 * targets; a router, being no family, has a group of its own, named by its id.
 */
export function registryKeyOf(model: TargetModel): string {
  return isRouterTarget(model) ? model.id : model.family;
}

/** Canary rollout and alarm rollback (docs/governance.md, "Rollback thresholds"). */
export const canarySchema = z.strictObject({
    /** Candidate traffic per step, in percent, ending at 100; each step after the first needs its own approval. */
    stepsPercent: z.array(z.number().check(z.int(), z.gte(1), z.lte(100))).check(z.minLength(1)),
    /** How long each step is watched before the next approval is requested. */
    bakeSeconds: z.number().check(z.int(), z.gte(60)),
    /** How often the bake loop checks the alarm and the rollback record. */
    checkIntervalSeconds: z.number().check(z.int(), z.gte(1), z.lte(300)),
    alarms: z.strictObject({
      /** Roll back when the candidate's faithfulness is this many points (0.05 = 5) below the current version's. */
      faithfulnessDrop: z.number().check(z.gt(0), z.lte(1)),
      /** Roll back when the candidate's misroute rate is this many points above the current version's. */
      misrouteRise: z.number().check(z.gt(0), z.lte(1)),
      /** Candidate error rate (errors / traces) that rolls back on its own. */
      maxErrorRate: z.number().check(z.gt(0), z.lte(1)),
      /** Candidate mean latency (ms) that rolls back on its own. */
      maxMeanLatencyMs: z.number().check(z.positive()),
      /** Metric period; 10 s or 30 s use the gate's high-resolution metrics, else a multiple of 60. */
      periodSeconds: z.number().check(z.int(), z.positive()),
      evaluationPeriods: z.number().check(z.int(), z.positive()),
      datapointsToAlarm: z.number().check(z.int(), z.positive()),
      /** Fewer candidate traces than this in a period are not enough evidence to judge quality. */
      minTracesPerPeriod: z.number().check(z.int(), z.nonnegative()),
      /**
       * What the faithfulness and misroute alarms compare: `lexical`, the gate's estimate on every trace
       * (immediate, always available), or `judge`, the judge's scores published by the curation (one
       * datapoint per curation run: the stage must run the curation at least once per alarm period).
       * Error rate and latency always come from the gate.
       */
      qualitySignalSource: z.enum(['lexical', 'judge']),
    }),
    gameDay: z.strictObject({
      /** The game-day schedule is created disabled unless this is true. */
      enabled: z.boolean(),
      schedule: z.string().check(z.regex(/^(cron|rate)\(.+\)$/)),
      /** The drill fails if breach -> verified rollback takes longer (5 minutes by default). */
      maxRollbackSeconds: z.number().check(z.int(), z.positive()),
      /** Our own target, reported beside the bound. */
      targetRollbackSeconds: z.number().check(z.int(), z.positive()),
    }),
  }).check(z.superRefine((canary, ctx) => {
    const steps = canary.stepsPercent;
    if (steps[steps.length - 1] !== 100) ctx.addIssue({ code: 'custom', path: ['stepsPercent'], message: `the last step must be 100, received ${JSON.stringify(steps)}` });
    if (steps.some((p, i) => i > 0 && p <= (steps[i - 1] ?? 0))) ctx.addIssue({ code: 'custom', path: ['stepsPercent'], message: `steps must increase, received ${JSON.stringify(steps)}` });
    const { periodSeconds } = canary.alarms;
    if (![10, 30].includes(periodSeconds) && periodSeconds % 60 !== 0) {
      ctx.addIssue({ code: 'custom', path: ['alarms', 'periodSeconds'], message: `CloudWatch periods are 10, 30 or a multiple of 60 seconds, received ${periodSeconds}` });
    }
    if (canary.alarms.datapointsToAlarm > canary.alarms.evaluationPeriods) {
      ctx.addIssue({ code: 'custom', path: ['alarms', 'datapointsToAlarm'], message: 'must not exceed evaluationPeriods' });
    }
  }));
export type CanaryConfig = z.infer<typeof canarySchema>;

export const agentSchema = z.strictObject({
  id: z.string().check(z.minLength(1), z.maxLength(128)),
  /** Latency the agent promises its users; the reward's latency component is measured against it. */
  latencySloMs: z.number().check(z.int(), z.positive()),
  /** The percentile the SLO holds at (`p99` for an IDE agent, `p95` per streamed chunk for a chat client); p95 when absent. */
  latencySloPercentile: z.optional(z.enum(SLO_PERCENTILES)),
});

/**
 * How the dataset build selects, pairs and cleans training data (docs/decisions.md, "Dataset build").
 */
export const datasetSchema = z.strictObject({
  /**
   * Reward-policy versions whose rows a dataset reads. Rows of an accepted older version are re-scored:
   * their stored components are re-weighted under the current policy (with late feedback folded in), so
   * a policy change does not empty the dataset. Must include the stage's `rewardPolicyVersion`.
   */
  acceptedRewardPolicyVersions: z.array(z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]*$/))).check(z.minLength(1)),
  /** Smallest reward difference between the chosen and the rejected answer of a DPO pair. */
  dpoMinRewardMargin: z.number().check(z.gt(0), z.lte(1)),
  /** Decontamination against the target's golden set: word n-grams of the prompt's user text. */
  decontamination: z.strictObject({
    /** Words per n-gram (a prompt shorter than this is compared whole). */
    ngramWords: z.number().check(z.int(), z.gte(3), z.lte(50)),
    /** A trace is excluded when at least this share of its prompt's n-grams occur in the golden set. */
    maxOverlap: z.number().check(z.gt(0), z.lte(1)),
  }),
});

/** Iceberg maintenance by Glue table optimizers, for every lake table. */
/**
 * Erasure: how many days a request may take until its deletion is verified; past it the deadline
 * alarm fires. At most 30: the law's month, and the table maintenance's own bound.
 */
export const erasureSchema = z.strictObject({
  deadlineDays: z.number().check(z.int(), z.gte(1), z.lte(30)),
});

export const tableMaintenanceSchema = z.strictObject({
  /** Compaction: small files rewritten into larger ones. */
  compaction: z.boolean(),
  /** Snapshot retention: older snapshots expire (erasure needs them gone: keep this well under 30 days). */
  snapshotRetention: z.strictObject({
    enabled: z.boolean(),
    retentionDays: z.number().check(z.int(), z.gte(1), z.lte(30)),
    /** Snapshots kept whatever their age. */
    minSnapshotsToKeep: z.number().check(z.int(), z.gte(1)),
    /** Delete data files no longer referenced by a kept snapshot when snapshots expire. */
    cleanExpiredFiles: z.boolean(),
  }),
  /** Orphan-file deletion: files no snapshot references (failed writes), older than this many days. */
  orphanFileDeletion: z.strictObject({
    enabled: z.boolean(),
    orphanFileRetentionDays: z.number().check(z.int(), z.gte(1), z.lte(30)),
  }),
});

const retentionDays = z.number().check(z.int(), z.gte(1));
export const rowRetentionDaysSchema = z.strictObject({
  traces: z.optional(retentionDays),
  gate_audit: z.optional(retentionDays),
  feedback: z.optional(retentionDays),
  judgments: z.optional(retentionDays),
  reviews: z.optional(retentionDays),
  confidence_scores: z.optional(retentionDays),
});

export const lakeSchema = z.strictObject({
  /** Glue database name (a logical name; Glue requires lower case). */
  databaseName: z.string().check(z.regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be lower-case letters, digits and underscores')),
  /** Days Firehose error output (raw, unmasked records that failed processing) is kept before expiry. */
  errorOutputRetentionDays: z.number().check(z.int(), z.gte(1), z.lte(90)),
  /** Days S3 access logs are kept. */
  accessLogRetentionDays: z.number().check(z.int(), z.gte(1)),
  /** Firehose -> Iceberg buffering (see docs/decisions.md for why these values). */
  delivery: z.strictObject({
    bufferIntervalSeconds: z.number().check(z.int(), z.gte(0), z.lte(900)),
    bufferSizeMiB: z.number().check(z.int(), z.gte(1), z.lte(128)),
  }),
  /** Buffering in front of the gate/score Lambda processor. */
  processor: z.strictObject({
    bufferIntervalSeconds: z.number().check(z.int(), z.gte(0), z.lte(900)),
    bufferSizeMiB: z.number().check(z.gte(0.2), z.lte(3)),
  }),
  /** Glue table optimizers on every lake table (compaction, snapshot expiry, orphan files). */
  tableMaintenance: tableMaintenanceSchema,
  /**
   * Days each table keeps its rows (by the table's time column, lambdas/shared/lake-tables.ts); older
   * rows are deleted by the scheduled row expiry and then physically removed by the table maintenance.
   * A table left out (or the whole key absent) keeps its rows until they are erased.
   */
  rowRetentionDays: z.optional(rowRetentionDaysSchema),
  /**
   * Store agent ids in the lake as keyed pseudonyms (HMAC-SHA-256 under the stage's pseudonymisation
   * key, kind `agent`: lambdas/shared/agent-pseudonyms.ts) instead of as the producers send them. Off
   * when absent, and existing stages leave it off.
   *
   * Turning it on for a stage whose lake already holds rows splits each agent's history in two (raw ids
   * before, pseudonyms after): nothing rewrites old rows. So `true` is accepted only beside
   * `acceptAgentHistorySplit: true` (checkHashAgentIds below; docs/decisions.md, "Agent ids as
   * pseudonyms"). Readers compute the declared agents' pseudonyms and show their configured names.
   */
  hashAgentIds: z.optional(z.boolean()),
  /**
   * Required beside `hashAgentIds: true`: the operator's acknowledgement that rows written before the
   * change keep the raw id, so eligibility windows and the operating reports count the two halves as
   * two agents until the older rows expire (`rowRetentionDays`). Means nothing without `hashAgentIds`.
   */
  acceptAgentHistorySplit: z.optional(z.literal(true)),
});

const cronExpression = z.string().check(z.regex(/^(cron|rate)\(.+\)$/, 'must be an EventBridge Scheduler expression such as cron(0 3 ? * MON *)'));
const email = z.string().check(z.regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'must be an e-mail address'));

/** Dataset eligibility before a training run is even proposed. */
export const eligibilitySchema = z.strictObject({
  /** Positive feedback events (outcome success) needed in the window. */
  minPositiveFeedback: z.number().check(z.int(), z.nonnegative()),
  positiveFeedbackWindowDays: z.number().check(z.int(), z.positive()),
  /** Kept traces with a reward at or above `highQualityReward` needed in the window. */
  minHighQualityTraces: z.number().check(z.int(), z.nonnegative()),
  highQualityReward: z.number().check(z.gte(0), z.lte(1)),
  /** No training of the same model within this many days. */
  cooldownDays: z.number().check(z.int(), z.nonnegative()),
});

/** The monthly GPU-hour guardrail. */
export const gpuBudgetSchema = z.strictObject({
  /** GPU-hours per stage and calendar month (UTC) before a FinOps approval is required. */
  monthlyCeilingGpuHours: z.number().check(z.positive()),
  /** Alarm when the month's usage passes this share of the ceiling. */
  alarmAtFraction: z.number().check(z.gt(0), z.lt(1)),
});

/** Training capacity and the job (per stage: GPU availability differs by region and data boundary). */
export const trainingSchema = z.strictObject({
  /** Batch instance types; one node, all its GPUs (multi-node jobs cannot use Spot). */
  instanceTypes: z.array(z.string().check(z.regex(/^[a-z0-9]+\.[a-z0-9]+$/))).check(z.minLength(1)),
  gpusPerJob: z.number().check(z.int(), z.gte(1), z.lte(8)),
  vcpusPerJob: z.number().check(z.int(), z.positive()),
  memoryMiBPerJob: z.number().check(z.int(), z.positive()),
  /** Largest spot capacity the Spot compute environment may scale to, in vCPUs. */
  maxSpotVcpus: z.number().check(z.int(), z.positive()),
  /** An on-demand environment after Spot in the queue order; 0 vCPUs means none. */
  onDemandFallbackMaxVcpus: z.number().check(z.int(), z.nonnegative()),
  /** Hours one training job may run; the estimate for the budget is this x gpusPerJob. */
  maxJobHours: z.number().check(z.positive(), z.lte(168)),
  /**
   * Hours one eval attempt may run: the eval job definition's timeout, and (x gpusPerJob) the eval job's
   * part of the budget estimate. One value for both, so the budget cannot assume less than Batch allows.
   */
  maxEvalJobHours: z.number().check(z.positive(), z.lte(168)),
  /** Batch attempts: Spot reclaims (`Host EC2*`) are retried, application errors are not. */
  attempts: z.number().check(z.int(), z.gte(1), z.lte(10)),
  /**
   * Most wall-clock hours of training a Spot reclaim can lose: the time between two checkpoints plus
   * the restart (loading weights). Each retry the job definition allows adds this much x gpusPerJob to
   * the budget estimate. Default 0.5 (lambdas/pipeline/budget/check-budget.ts).
   */
  checkpointIntervalHours: z.optional(z.number().check(z.positive(), z.lte(24))),
  algorithm: z.enum(['grpo', 'dpo']),
  hyperparameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  /** The training image: built from training/ (an image asset) or an existing image URI. */
  image: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('asset') }),
    z.strictObject({ kind: z.literal('uri'), uri: z.string().check(z.minLength(1)) }),
  ]),
  /**
   * The serving container registered with every model package (SageMaker serves packages from ECR).
   * Pin the image and tag your team validated for the target families; bumping it is a reviewed change.
   */
  servingImageUri: z.string().check(z.regex(/^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$/, 'must be an ECR image URI (account.dkr.ecr.region.amazonaws.com/repository:tag)')),
  /** Where the base weights of each target model live (S3 URI), by target model id. */
  baseModelUris: z.record(z.string(), z.string().check(z.regex(/^s3:\/\/[a-z0-9.-]+\/.+/, 'must be an s3:// URI'))),
  /** Existing network for the compute environments; without it the stack creates an isolated VPC. */
  network: z.optional(z.strictObject({
      vpcId: z.string().check(z.regex(/^vpc-[0-9a-f]+$/)),
      availabilityZones: z.array(z.string()).check(z.minLength(1)),
      privateSubnetIds: z.array(z.string().check(z.regex(/^subnet-[0-9a-f]+$/))).check(z.minLength(1)),
    })),
});

/** The eval gate (defaults: faithfulness >= 0.85, no metric worse than production by > 1 point). */
export const evalGateSchema = z.strictObject({
  minFaithfulness: z.number().check(z.gte(0), z.lte(1)),
  /** Largest drop of any metric against production, in points (0.01 = 1 point). */
  maxRegression: z.number().check(z.gte(0), z.lte(1)),
  /**
   * Largest candidate / production ratio of the mean answer length on the golden set. Longer answers are
   * the cheapest way for GRPO to raise a reward, so a candidate much wordier than production is refused.
   */
  maxAnswerLengthRatio: z.number().check(z.gt(1), z.lte(10)),
});

/** Who may decide one kind of approval. */
export const approverListSchema = z.strictObject({
  principals: z.optional(z.array(z.string().check(z.regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/-]+$/, 'must be an IAM role, user or assumed-role ARN')))),
  /** Individual mailboxes: a link sent to a distribution list lets everyone on it decide as the list. */
  emails: z.optional(z.array(email)),
}).check(
  // The page knows only the addresses: a kind that names principals but no addresses would send its
  // links to every subscriber of the topic and let each of them decide.
  z.refine((list) => (list.principals ?? []).length === 0 || (list.emails ?? []).length > 0, {
    message: 'names principals but no emails: name the people who may decide on the approval page too (their individual addresses), or the page would be open to everyone its links reach',
    path: ['emails'],
  }),
);

export const approvalsSchema = z.strictObject({
  /** How long an approval link and its task token stay valid. */
  expiryHours: z.number().check(z.positive(), z.lte(24 * 14)),
  /** Who receives training and deploy approval e-mails. */
  approverEmails: z.array(email),
  /** Who receives FinOps approval e-mails (budget ceiling). */
  finopsEmails: z.array(email),
  /** Who receives pipeline notifications (not eligible, failures, registered). */
  notificationEmails: z.array(email),
  /**
   * Who may decide each kind of approval (separation of duties): IAM principals for `sial approvals`
   * (the caller's ARN; an assumed-role session matches its role's ARN) and e-mail addresses for the
   * page. Empty or absent: anyone who can reach the approval may decide, except the run's requester
   * (allowed for non-production stages only; a production stage refuses to synthesize without lists).
   */
  approvers: z.optional(
    z.strictObject({
      train: z.optional(approverListSchema),
      'deploy-stage': z.optional(approverListSchema),
      finops: z.optional(approverListSchema),
    }),
  ),
});

export const schedulesSchema = z.strictObject({
  /** Daily dataset build (mode dataset-only: builds the dataset and stops; never requests approval). */
  datasetBuild: cronExpression,
  /** Weekly training request: only *requests* approval (training is always a person's decision). */
  trainingRequest: cronExpression,
  /** Daily row expiry of the lake (`lake.rowRetentionDays`); absent: a default of 04:30 every day. */
  rowExpiry: z.optional(cronExpression),
  /** Schedules are created disabled when false (e.g. a fresh dev stage). */
  enabled: z.boolean(),
  timezone: z.string().check(z.minLength(1)),
});

/**
 * Weekly human calibration of the LLM judge: what share of the week's judgments people review, how
 * the review sample is stratified, and when the agreement alarm fires.
 */
// The jobs' schema is zod/mini (it runs in the Lambdas); its fields join this classic one as they are.
export const judgeCalibrationSchema = z.strictObject({
    ...calibrationSettingsSchema.shape,
    /** When the sample is drawn and the report written (EventBridge Scheduler expression, schedules.timezone; off unless schedules.enabled). */
    schedule: cronExpression,
    /** Who receives the weekly e-mail with the review links (the links are bearer credentials). */
    reviewerEmails: z.array(email),
  }).check(z.superRefine((value, ctx) => {
    const bounds = value.bandUpperBounds;
    if (bounds.some((b, i) => i > 0 && b <= (bounds[i - 1] as number))) ctx.addIssue({ code: 'custom', path: ['bandUpperBounds'], message: 'must be strictly ascending' });
    if (bounds[bounds.length - 1] !== 1) ctx.addIssue({ code: 'custom', path: ['bandUpperBounds'], message: 'must end with 1, so every score falls in a band' });
  }));

export const stageConfigSchema = z.strictObject({
  stage: z.string().check(z.regex(/^[a-z][a-z0-9-]{1,30}$/)),
  /** Optional: pin the account; without it the stacks are environment-agnostic in the account, not the region. */
  account: z.optional(z.string().check(z.regex(/^\d{12}$/))),
  region: awsRegion,
  dataBoundary: z.enum(DATA_BOUNDARIES),
  /** Production stages retain stateful resources and turn on termination protection. */
  production: z.boolean(),
  /** Version of the reward policy in config/reward-policies/ stamped on every lake row. */
  rewardPolicyVersion: z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]*$/)),
  metricsNamespace: z.string().check(z.minLength(1), z.maxLength(255)),
  targetModels: z.array(targetModelSchema).check(z.minLength(1)),
  agents: z.array(agentSchema),
  /** Used for agents that are not listed above. */
  defaultLatencySloMs: z.number().check(z.int(), z.positive()),
  pii: piiSchema,
  lake: lakeSchema,
  eligibility: eligibilitySchema,
  dataset: datasetSchema,
  gpuBudget: gpuBudgetSchema,
  training: trainingSchema,
  evalGate: evalGateSchema,
  approvals: approvalsSchema,
  schedules: schedulesSchema,
  canary: canarySchema,
  /** Approved model versions per family the registry keeps deployable (3 by default). */
  retainApprovedModelVersions: z.number().check(z.int(), z.gte(3)),
  /** Approved versions per router the registry keeps deployable (10 by default: a router is small and rolls back further). */
  retainApprovedRouterVersions: z.number().check(z.int(), z.gte(10)),
  /** The LLM judge of the stage's traces (config/judge.ts); absent: nothing is judged. */
  judge: z.optional(judgeStageSchema),
  /** Weekly human review of the judge's verdicts and the agreement alarm. */
  judgeCalibration: judgeCalibrationSchema,
  /** Erasure requests; absent: the defaults ({@link DEFAULT_ERASURE_DEADLINE_DAYS} days to verified). */
  erasure: z.optional(erasureSchema),
  /** Operating per agent: prices, cost alarm, regression report and confidence scores (config/operations.ts). */
  operations: operationsSchema,
});

/** The days an erasure request may take from request to verified deletion when the stage says nothing. */
export const DEFAULT_ERASURE_DEADLINE_DAYS = 30;

/** The erasure deadline of a stage, in days. */
export function erasureDeadlineDays(stage: Pick<StageConfig, 'erasure'>): number {
  return stage.erasure?.deadlineDays ?? DEFAULT_ERASURE_DEADLINE_DAYS;
}

export type StageConfig = z.infer<typeof stageConfigSchema>;
export type LakeConfig = z.infer<typeof lakeSchema>;
export type EligibilityConfig = z.infer<typeof eligibilitySchema>;
export type DatasetConfig = z.infer<typeof datasetSchema>;
export type TableMaintenanceConfig = z.infer<typeof tableMaintenanceSchema>;
export type GpuBudgetConfig = z.infer<typeof gpuBudgetSchema>;
export type TrainingConfig = z.infer<typeof trainingSchema>;
export type EvalGateConfig = z.infer<typeof evalGateSchema>;
export type ApprovalsConfig = z.infer<typeof approvalsSchema>;
export type SchedulesConfig = z.infer<typeof schedulesSchema>;
export type RowRetentionDaysConfig = z.infer<typeof rowRetentionDaysSchema>;
export type JudgeCalibrationConfig = z.infer<typeof judgeCalibrationSchema>;

/** Raised when a stage file does not validate; the message lists every offending field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Describes the value at `path` in `root`, for error messages that say what was received. */
export function describeReceived(root: unknown, path: readonly PropertyKey[]): string {
  let cursor: unknown = root;
  for (const key of path) {
    if (cursor === null || typeof cursor !== 'object') return 'nothing';
    cursor = (cursor as Record<PropertyKey, unknown>)[key];
  }
  if (cursor === undefined) return 'nothing (the field is missing)';
  const json = JSON.stringify(cursor);
  return json === undefined ? String(cursor) : json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** Validates a stage object; throws ConfigError naming each field, the value received and what is allowed. */
export function parseStageConfig(raw: unknown, source: string): StageConfig {
  const result = stageConfigSchema.safeParse(raw);
  if (result.success) {
    checkBoundaryRegion(result.data, source);
    checkBaseModels(result.data, source);
    checkTargetIds(result.data, source);
    checkCanaryEvidence(result.data, source);
    checkHashAgentIds(result.data, source);
    checkEntityDetectorEndpoints(result.data, source);
    checkApproverLists(result.data, source);
    const judgeProblems = judgeBoundaryProblems(result.data.judge, result.data.dataBoundary);
    if (judgeProblems.length > 0) throw new ConfigError(`Invalid stage configuration in ${source}:\n${judgeProblems.map((p) => `  - ${p}`).join('\n')}`);
    return result.data;
  }
  const lines = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `  - ${field}: received ${describeReceived(raw, issue.path)}; ${issue.message}`;
  });
  throw new ConfigError(`Invalid stage configuration in ${source}:\n${lines.join('\n')}`);
}

/**
 * A production stage names who may decide every kind of approval, by principal (CLI) and by e-mail
 * (page): without lists anyone who can reach an approval could decide it.
 */
function checkApproverLists(config: StageConfig, source: string): void {
  if (!config.production) return;
  const missing = (['train', 'deploy-stage', 'finops'] as const).flatMap((kind) => {
    const list = config.approvals.approvers?.[kind];
    return [
      ...((list?.principals ?? []).length === 0 ? [`approvals.approvers.${kind}.principals`] : []),
      ...((list?.emails ?? []).length === 0 ? [`approvals.approvers.${kind}.emails`] : []),
    ];
  });
  if (missing.length > 0) {
    throw new ConfigError(`Invalid stage configuration in ${source}:\n${missing.map((field) => `  - ${field}: received nothing; a production stage must name who may decide this kind of approval`).join('\n')}`);
  }
}

/** A stage must be deployed inside its own data boundary, or the regional gate would be meaningless. */
function checkBoundaryRegion(config: StageConfig, source: string): void {
  const allowed = BOUNDARY_REGIONS[config.dataBoundary];
  if (!allowed.includes(config.region)) {
    throw new ConfigError(
      `Invalid stage configuration in ${source}:\n  - region: received "${config.region}"; a stage with dataBoundary ${config.dataBoundary} must deploy to one of ${allowed.join(', ')}`,
    );
  }
}

/** Every target model needs base weights to start training from. */
function checkBaseModels(config: StageConfig, source: string): void {
  // A router trains from scratch on CPU: it has no base weights.
  const missing = config.targetModels.filter((m) => !isRouterTarget(m) && config.training.baseModelUris[m.id] === undefined).map((m) => m.id);
  if (missing.length > 0) {
    throw new ConfigError(
      `Invalid stage configuration in ${source}:\n  - training.baseModelUris: received no entry for ${missing.join(', ')}; every target model id needs an s3:// URI of its base weights`,
    );
  }
}

/**
 * Target ids are metric dimensions and registry keys: each must be unique, and a router's id names its
 * own package group, so it must not be a family's (the two would share a group and its retention).
 */
function checkTargetIds(config: StageConfig, source: string): void {
  const problems: string[] = [];
  const ids = config.targetModels.map((m) => m.id);
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) problems.push(`targetModels.${i}.id: received "${id}"; target model ids must be unique`);
  });
  const families = new Set(config.targetModels.flatMap((m) => (isRouterTarget(m) ? [] : [m.family.toLowerCase()])));
  config.targetModels.forEach((m, i) => {
    if (isRouterTarget(m) && ((SELF_HOSTED_MODEL_FAMILIES as readonly string[]).includes(m.id) || families.has(m.id))) {
      problems.push(`targetModels.${i}.id: received "${m.id}"; a router's id names its model package group and must not be a model family's`);
    }
  });
  if (problems.length > 0) throw new ConfigError(`Invalid stage configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

/**
 * The gate publishes per-variant metrics once per Firehose processor buffer; with a buffer longer than
 * the alarm period most periods hold no data, count as not breaching, and the canary alarm can never
 * reach M of N (local/rollout/rollback-simulation.ts shows it).
 */
function checkCanaryEvidence(config: StageConfig, source: string): void {
  const buffer = config.lake.processor.bufferIntervalSeconds;
  const period = config.canary.alarms.periodSeconds;
  if (buffer > period) {
    throw new ConfigError(
      `Invalid stage configuration in ${source}:\n  - lake.processor.bufferIntervalSeconds: received ${buffer}; it must not exceed canary.alarms.periodSeconds (${period}), or most alarm periods hold no metrics and the canary alarm cannot fire`,
    );
  }
  if (config.canary.alarms.qualitySignalSource !== 'judge') return;
  // The judge's figures arrive once per curation run: an alarm period shorter than the run's window would
  // mostly see no datapoint, and a canary judged by it could never roll back.
  const windowSeconds = (config.judge?.curation.windowHours ?? 0) * 3600;
  if (config.judge === undefined || period < windowSeconds) {
    throw new ConfigError(
      `Invalid stage configuration in ${source}:\n  - canary.alarms.qualitySignalSource: received "judge"; ${
        config.judge === undefined
          ? 'the stage configures no judge, so there are no judged figures to compare'
          : `canary.alarms.periodSeconds (${period}) must be at least the judge's curation window (${windowSeconds} s): run the curation hourly (judge.curation.windowHours 1) and give the alarms a period of 3600 s`
      }`,
    );
  }
}

/**
 * `lake.hashAgentIds: true` is accepted only with `lake.acceptAgentHistorySplit: true`: in a lake that
 * already holds rows, the rows before the change keep the raw id and nothing rewrites them, so every
 * reader counts each agent's history as two agents until the older rows expire. A stage turns it on
 * knowingly or not at all.
 */
export const HASH_AGENT_IDS_SPLITS_HISTORY =
  'rows already in the lake keep the raw agent id and nothing rewrites them, so each agent\'s history splits in two (eligibility windows and operating reports count the halves as two agents until the older rows expire, lake.rowRetentionDays); set lake.acceptAgentHistorySplit: true beside it to say the stage accepts that (docs/decisions.md, "Agent ids as pseudonyms")';

function checkHashAgentIds(config: StageConfig, source: string): void {
  if (config.lake.hashAgentIds === true && config.lake.acceptAgentHistorySplit !== true) {
    throw new ConfigError(`Invalid stage configuration in ${source}:\n  - lake.hashAgentIds: received true without lake.acceptAgentHistorySplit; ${HASH_AGENT_IDS_SPLITS_HISTORY}`);
  }
}

/**
 * An entity detector's endpoint is invoked by the gate in the stage's own region and account, so that
 * trace text never leaves the boundary the stage serves: an ARN naming another region or account is
 * refused, and an ARN in a stage without a pinned account cannot be checked (give the name instead).
 */
function checkEntityDetectorEndpoints(config: StageConfig, source: string): void {
  const problems: string[] = [];
  for (const [language, detector] of Object.entries(config.pii.entityDetectors)) {
    const ref = parseSageMakerEndpoint(detector.endpoint);
    const field = `pii.entityDetectors.${language}.endpoint`;
    if (ref.region !== undefined && ref.region !== config.region) {
      problems.push(`${field}: received "${detector.endpoint}"; the endpoint must be in the stage's region ${config.region}`);
    } else if (ref.account !== undefined && config.account === undefined) {
      problems.push(`${field}: received "${detector.endpoint}"; the stage pins no account, so an ARN's account cannot be checked: give the endpoint name`);
    } else if (ref.account !== undefined && ref.account !== config.account) {
      problems.push(`${field}: received "${detector.endpoint}"; the endpoint must be in the stage's account ${config.account ?? ''}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid stage configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
