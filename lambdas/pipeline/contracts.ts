/**
 * The training pipeline's data contracts: the execution input and what each Task state reads and
 * writes. The state machine (stepfunctions/training-pipeline.ts) places each result at the ResultPath
 * named in its comment; the Lambdas validate their input with these schemas, and the local engine
 * and the tests use the same types. JSONPath only, no variables: the local engine ignores JSONata and variables.
 */
import * as z from '../shared/zod-mini';
import { DATA_BOUNDARIES } from '../../config/boundaries';

const isoInstant = z.iso.datetime({ offset: true });
const s3Uri = z.string().check(z.regex(/^s3:\/\/[a-z0-9.-]+\/.*/, 'must be an s3:// URI'));
const id = z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/));

/** StartExecution input (schedules, the CLI, the console). */
export const pipelineInputSchema = z.strictObject({
  /** `dataset-only` builds the dataset and stops (the daily schedule); `train` goes on to approvals. */
  mode: z._default(z.enum(['train', 'dataset-only']), 'train'),
  targetModelId: z.string().check(z.minLength(1), z.maxLength(64)),
  /** Optional cross-check: when given it must be the target model's family. */
  modelFamily: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  algorithm: z.optional(z.enum(['grpo', 'dpo'])),
  /** Who or what asked: `scheduler:weekly`, an e-mail, an IAM principal. */
  requestedBy: z.string().check(z.minLength(1), z.maxLength(256)),
  reason: z.optional(z.string().check(z.maxLength(1000))),
});
export type PipelineInput = z.infer<typeof pipelineInputSchema>;

/** Where a run keeps its artifacts (all under the stage's artifact bucket, prefix `runs/<runId>/`). */
export const runUrisSchema = z.strictObject({
  datasetPrefix: s3Uri,
  output: s3Uri,
  checkpoints: s3Uri,
  evalOutput: s3Uri,
  /** metrics.json written by the eval job. */
  metrics: s3Uri,
});

/**
 * What a run trains: an LLM with GRPO or DPO on GPUs, or the router classifier (`router`: scikit-learn on
 * CPU, training/sial_training/router). The execution input may name only the LLM algorithms.
 */
export const TRAINING_ALGORITHMS = ['grpo', 'dpo', 'router'] as const;
export type TrainingAlgorithm = (typeof TRAINING_ALGORITHMS)[number];

/** The kinds of target model (config/schema.ts targetModelSchema); the state machine branches on it. */
export const TARGET_KINDS = ['llm', 'router'] as const;

/** `Validate request` -> `$.request`. Input: `{ input: $, executionName: $$.Execution.Name }`. */
export const validatedRequestSchema = z.strictObject({
  runId: id,
  mode: z.enum(['train', 'dataset-only']),
  stage: z.string(),
  boundary: z.enum(DATA_BOUNDARIES),
  targetModelId: z.string(),
  /** `router` takes the router's CPU path (no GPU budget, no GPU job); absent means an LLM. */
  targetKind: z.optional(z.enum(TARGET_KINDS)),
  /** The model family, or a router's id: the key of settings.modelPackageGroups (config/schema.ts registryKeyOf). */
  modelFamily: z.string(),
  /** Whether the target may learn from internal-only / customer-confidential rows. */
  internalOnly: z.boolean(),
  algorithm: z.enum(TRAINING_ALGORITHMS),
  /** The LLM's base weights; a router trains from scratch and has none. */
  baseModelUri: z.optional(s3Uri),
  requestedBy: z.string(),
  reason: z.optional(z.string()),
  requestedAt: isoInstant,
  uris: runUrisSchema,
});
export type ValidatedRequest = z.infer<typeof validatedRequestSchema>;

/** `Build dataset` -> `$.dataset` (also written as manifest.json next to the data). Input: `{ request: $.request }`. */
export const datasetManifestSchema = z.strictObject({
  datasetId: id,
  boundary: z.enum(DATA_BOUNDARIES),
  targetModelId: z.string(),
  /** The policy the rewards are under (rows of older accepted versions are re-scored under it). */
  rewardPolicyVersion: z.string(),
  /** Policy versions whose rows were read (re-scored); rows of any other version are counted, not read. */
  acceptedRewardPolicyVersions: z.array(z.string()).check(z.minLength(1)),
  createdAt: isoInstant,
  /** Inclusive window of trace timestamps the dataset was built from. */
  window: z.strictObject({ from: isoInstant, to: isoInstant }),
  manifestUri: s3Uri,
  /** Folders (ending in /) the engine wrote each file set into; `files` lists the files. */
  grpoUri: s3Uri,
  dpoUri: s3Uri,
  /** One trace id per line: every trace whose content is in the dataset (erasure lineage). */
  traceIdsUri: s3Uri,
  /**
   * A router target's training set (folder): one JSON line per trace in the line contract of
   * training/sial_training/router/dataset.py. Only router runs have it; their grpo/ and dpo/ stay empty.
   */
  routerUri: z.optional(s3Uri),
  /**
   * The files in each folder, in the order they are read. Athena writes gzip-compressed parts (several,
   * named by Athena), local mode one plain file; a reader tells them apart by the gzip magic bytes.
   */
  files: z.strictObject({ grpo: z.array(s3Uri), dpo: z.array(s3Uri), traceIds: z.array(s3Uri), router: z.optional(z.array(s3Uri)) }),
  /**
   * sha256 over the bytes of the GRPO files, then the DPO files, then the trace-id files, as stored, hex;
   * a router dataset: the router files, then the trace-id files.
   */
  contentSha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  /** Smallest chosen-over-rejected reward margin of a DPO pair. */
  dpoMinRewardMargin: z.number(),
  counts: z.strictObject({
    tracesUsed: z.number().check(z.int(), z.nonnegative()),
    grpoGroups: z.number().check(z.int(), z.nonnegative()),
    grpoCompletions: z.number().check(z.int(), z.nonnegative()),
    dpoPairs: z.number().check(z.int(), z.nonnegative()),
    /** Router runs: lines of the router file (usable traces of eligible agents, one per trace). */
    routerRows: z.optional(z.number().check(z.int(), z.nonnegative())),
    /** Lake rows of the boundary in the window, re-delivered copies included. */
    rowsInWindow: z.number().check(z.int(), z.nonnegative()),
    /** Re-delivered copies dropped (the latest gated copy of a trace id is read). */
    duplicateCopies: z.number().check(z.int(), z.nonnegative()),
    /** Rows of a reward-policy version the stage does not accept: never silently gone. */
    excludedPolicyVersion: z.number().check(z.int(), z.nonnegative()),
    excludedNoUserTurn: z.number().check(z.int(), z.nonnegative()),
    /** Traces whose prompt overlaps the golden set. */
    excludedGoldenOverlap: z.number().check(z.int(), z.nonnegative()),
    /** Usable traces of agents that are not eligible on their own. */
    excludedIneligibleAgent: z.number().check(z.int(), z.nonnegative()),
    /** Usable traces whose feedback came from a feedback event (late feedback). */
    lateFeedbackApplied: z.number().check(z.int(), z.nonnegative()),
    /** Usable traces of an older accepted policy version, re-scored under the current one. */
    rescoredOlderPolicy: z.number().check(z.int(), z.nonnegative()),
    /** Discarded traces in the window, per gate, each trace once (re-deliveries are not counted again). */
    discardedByGate: z.record(z.string(), z.number().check(z.int(), z.nonnegative())),
  }),
  decontamination: z.strictObject({
    goldenSet: z.nullable(z.strictObject({ uri: s3Uri, version: z.string(), sha256: z.string(), examples: z.number().check(z.int(), z.nonnegative()) })),
    ngramWords: z.number().check(z.int(), z.positive()),
    maxOverlap: z.number(),
  }),
  /**
   * Figures the eligibility check reads: totals over every agent of the target's selection, and
   * each agent's own figures; only eligible agents' traces are in the files.
   */
  eligibility: z.strictObject({
    positiveFeedback: z.number().check(z.int(), z.nonnegative()),
    positiveFeedbackWindowDays: z.number().check(z.int(), z.positive()),
    highQualityTraces: z.number().check(z.int(), z.nonnegative()),
    highQualityReward: z.number(),
    agents: z.array(
      z.strictObject({
        agentId: z.string(),
        positiveFeedback: z.number().check(z.int(), z.nonnegative()),
        highQualityTraces: z.number().check(z.int(), z.nonnegative()),
        eligible: z.boolean(),
      }),
    ),
  }),
});
export type DatasetManifest = z.infer<typeof datasetManifestSchema>;

/** `Check eligibility` -> `$.eligibility`. Input: `{ request: $.request, dataset: $.dataset }`. */
export const eligibilityResultSchema = z.strictObject({
  eligible: z.boolean(),
  /** Empty when eligible; otherwise each unmet rule in words (for the notification). */
  reasons: z.array(z.string()),
  figures: z.strictObject({
    positiveFeedback: z.number().check(z.int()),
    minPositiveFeedback: z.number().check(z.int()),
    highQualityTraces: z.number().check(z.int()),
    minHighQualityTraces: z.number().check(z.int()),
    lastTrainedAt: z.nullable(isoInstant),
    cooldownDays: z.number().check(z.int()),
  }),
});
export type EligibilityResult = z.infer<typeof eligibilityResultSchema>;

/** `Check GPU budget` -> `$.budget`. Input: `{ request: $.request }`. */
export const budgetCheckSchema = z.strictObject({
  /** Calendar month (UTC) of the ledger entry, `YYYY-MM`. */
  month: z.string().check(z.regex(/^\d{4}-\d{2}$/)),
  usedGpuHours: z.number().check(z.nonnegative()),
  /** Hours held by runs approved and still under way (absent in checks made before reservations existed). */
  reservedGpuHours: z.optional(z.number().check(z.nonnegative())),
  /** The whole run's upper bound: the training job's plus the eval job's, Spot retries included (what `withinBudget` compares). */
  estimateGpuHours: z.number().check(z.nonnegative()),
  /** The training job's share of the estimate: gpusPerJob x (maxJobHours + retries x checkpointIntervalHours). */
  trainEstimateGpuHours: z.number().check(z.nonnegative()),
  /** The eval job's share of the estimate: gpusPerJob x maxEvalJobHours x attempts. */
  evalEstimateGpuHours: z.number().check(z.nonnegative()),
  ceilingGpuHours: z.number().check(z.positive()),
  withinBudget: z.boolean(),
  remainingGpuHours: z.number(),
  /** Batch attempt timeout: the configured maximum, shortened so a run within budget cannot cross the ceiling. */
  jobTimeoutSeconds: z.number().check(z.int(), z.positive()),
});
export type BudgetCheck = z.infer<typeof budgetCheckSchema>;

export const APPROVAL_KINDS = ['train', 'finops', 'deploy-stage'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

/**
 * `Prepare training approval` -> `$.approval` (and `Prepare FinOps approval` -> `$.finopsApproval`).
 * Input: `{ kind, request: $.request, summary: {...}, executionArn: $$.Execution.Id }`.
 * The page URL sits in the next state's input, so an operator finds it in the console.
 */
export const approvalRefSchema = z.strictObject({
  approvalId: id,
  kind: z.enum(APPROVAL_KINDS),
  /** The approval page; carries a signature and expiry, never the task token. */
  approvalUrl: z.url(),
  expiresAt: isoInstant,
});
export type ApprovalRef = z.infer<typeof approvalRefSchema>;

/**
 * What SendTaskSuccess returns to `Request ... approval` (ResultPath `$.trainingApproval` /
 * `$.finopsDecision`). A rejection is SendTaskFailure with error `ApprovalRejected` and this shape,
 * with `decision: 'rejected'`, as JSON in the cause.
 */
export const approvalDecisionSchema = z.strictObject({
  approvalId: id,
  decision: z.enum(['approved', 'rejected']),
  approver: z.string().check(z.minLength(1)),
  comment: z.optional(z.string().check(z.maxLength(2000))),
  decidedAt: isoInstant,
  via: z.enum(['page', 'cli']),
});
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;

/** The Batch jobs of a run that hold GPUs, each booked in the GPU ledger as its own item. */
export const GPU_JOB_KINDS = ['train', 'eval'] as const;
export type GpuJobKind = (typeof GPU_JOB_KINDS)[number];

/**
 * `Record GPU hours` -> `$.gpuUsage` and `Record eval GPU hours` -> `$.evalGpuUsage`. Input:
 * `{ jobKind, request, budget, job: $.trainJob | $.evalJob }`, or `{ jobKind, request, budget, error: $.error }`
 * from the failure states (every caught failure lands at `$.error`).
 */
export const gpuUsageSchema = z.strictObject({
  runId: id,
  /** Which of the run's jobs these hours are. */
  jobKind: z.enum(GPU_JOB_KINDS),
  month: z.string().check(z.regex(/^\d{4}-\d{2}$/)),
  attempts: z.number().check(z.int(), z.nonnegative()),
  /** Sum over the job's attempts of (stoppedAt - startedAt) x GPUs, in hours. */
  gpuHours: z.number().check(z.nonnegative()),
  /** The month's total after this job was added. */
  monthUsedGpuHours: z.number().check(z.nonnegative()),
});
export type GpuUsage = z.infer<typeof gpuUsageSchema>;

const metricValues = {
  faithfulness: z.number().check(z.gte(0), z.lte(1)),
  metrics: z.record(z.string(), z.number().check(z.gte(0), z.lte(1))),
  /** Mean answer length on the golden set, in characters (code points): the length-inflation rule. */
  meanAnswerChars: z.optional(z.number().check(z.nonnegative())),
};

/** The eval job's metrics.json (training job contract): every metric in [0, 1], higher is better. */
export const evalMetricsSchema = z.strictObject({
  ...metricValues,
  goldenSetVersion: z.string().check(z.minLength(1)),
  examples: z.number().check(z.int(), z.positive()),
  /** The production version's answers to the same golden set in the same eval run, when the job had one. */
  production: z.optional(z.strictObject({ ...metricValues, modelUri: z.string() })),
});
export type EvalMetrics = z.infer<typeof evalMetricsSchema>;

/** `Check eval gate` -> `$.evalGate`. Input: `{ request: $.request }`. A failure throws `EvalGateFailed`. */
export const evalGateResultSchema = z.strictObject({
  passed: z.literal(true),
  candidate: evalMetricsSchema,
  /** The production model's metrics, or null for the first model of a family. */
  production: z.nullable(evalMetricsSchema),
  productionModelPackageArn: z.nullable(z.string()),
});
export type EvalGateResult = z.infer<typeof evalGateResultSchema>;

/** `Register model` -> `$.registration`. Input: `{ request, dataset, evalGate, trainingApproval }`. */
export const registrationSchema = z.strictObject({
  modelPackageGroupName: z.string(),
  modelPackageArn: z.string(),
  modelPackageVersion: z.number().check(z.int(), z.positive()),
  approvalStatus: z.literal('PendingManualApproval'),
  /** Approved versions the retention rule protects (the newest N, never deleted). */
  protectedApprovedVersions: z.array(z.string()),
});
export type Registration = z.infer<typeof registrationSchema>;
