/**
 * The governance rules' numbers (docs/governance.md), as defaults each stage file spreads and may
 * override. Changing one here changes every stage that does not override it.
 */
import type { OperationsConfig } from './operations';
import type { ApprovalsConfig, CanaryConfig, DatasetConfig, EligibilityConfig, EvalGateConfig, GpuBudgetConfig, JudgeCalibrationConfig, RouterTargetModel, RowRetentionDaysConfig, TableMaintenanceConfig, TrainingConfig } from './schema';

/**
 * The dataset build's defaults: only the v1 reward policy so far; DPO pairs need a reward margin of 0.2
 * (below it a difference is mostly latency jitter and groundedness-estimator noise); a trace whose prompt
 * shares half or more of its 8-word n-grams with the golden set is excluded.
 */
export const DEFAULT_DATASET: DatasetConfig = {
  acceptedRewardPolicyVersions: ['v1'],
  dpoMinRewardMargin: 0.2,
  decontamination: { ngramWords: 8, maxOverlap: 0.5 },
};

/**
 * Iceberg maintenance: compaction on; snapshots older than 5 days expire (at least 10 kept) and take
 * their unreferenced files with them, so an erased row is physically gone well inside 30 days; files no
 * snapshot references are deleted after 3 days.
 */
export const DEFAULT_TABLE_MAINTENANCE: TableMaintenanceConfig = {
  compaction: true,
  snapshotRetention: { enabled: true, retentionDays: 5, minSnapshotsToKeep: 10, cleanExpiredFiles: true },
  orphanFileDeletion: { enabled: true, orphanFileRetentionDays: 3 },
};

/**
 * Row retention: traces (and their judgments) 90 days in the lake, long enough for the dataset windows
 * and a quarter's comparisons; feedback, human reviews and the gate audit a year, the evidence of how
 * the loop was fed, calibrated and gated. Older rows are deleted daily (`schedules.rowExpiry`).
 */
export const DEFAULT_ROW_RETENTION_DAYS: RowRetentionDaysConfig = { traces: 90, judgments: 90, feedback: 365, reviews: 365, gate_audit: 365, confidence_scores: 730 };

/** Eligibility: >= 100 positive feedback in 30 days, >= 50 high-quality traces, no training in 7 days. */
export const DEFAULT_ELIGIBILITY: EligibilityConfig = {
  minPositiveFeedback: 100,
  positiveFeedbackWindowDays: 30,
  minHighQualityTraces: 50,
  highQualityReward: 0.8,
  cooldownDays: 7,
};

/** The GPU budget: 1,000 GPU-hours a month on p5en Spot; alarm at 80 %. */
export const DEFAULT_GPU_BUDGET: GpuBudgetConfig = { monthlyCeilingGpuHours: 1000, alarmAtFraction: 0.8 };

/** The eval gate: faithfulness >= 0.85 and no metric worse than production by more than 1 point. */
export const DEFAULT_EVAL_GATE: EvalGateConfig = { minFaithfulness: 0.85, maxRegression: 0.01, maxAnswerLengthRatio: 1.3 };

/** Retention: the last 3 approved model versions stay deployable. */
export const DEFAULT_RETAIN_APPROVED_MODEL_VERSIONS = 3;

/**
 * Router retention: the last 10 approved router versions stay deployable. A router artifact is a few
 * hundred KB, and a routing regression may show only after days of traffic, so it can roll back further.
 */
export const DEFAULT_RETAIN_APPROVED_ROUTER_VERSIONS = 10;

/**
 * The router's gate: a reward of 0.7 or more is a good outcome; a candidate may misroute at most 10 points
 * more than the current version (the canary's misroute rollback threshold too) and must route at least
 * 85 % of requests to the tier they needed or above.
 */
export const DEFAULT_ROUTER_GATE: Pick<RouterTargetModel, 'qualityFloor' | 'maxMisrouteRise' | 'minRoutingQuality'> = {
  qualityFloor: 0.7,
  maxMisrouteRise: 0.1,
  minRoutingQuality: 0.85,
};

/** The router's training job: 2 vCPU and 4 GiB on Fargate, at most an hour (it trains in minutes). */
export const DEFAULT_ROUTER_RESOURCES: RouterTargetModel['resources'] = { vcpus: 2, memoryMiB: 4096, maxJobHours: 1 };

/** One p5en.48xlarge (8 x H200) on Spot, single node: multi-node Batch jobs cannot use Spot. */
export const P5EN_SPOT_TRAINING: Omit<TrainingConfig, 'baseModelUris' | 'servingImageUri'> = {
  instanceTypes: ['p5en.48xlarge'],
  gpusPerJob: 8,
  vcpusPerJob: 192,
  memoryMiBPerJob: 1_900_000,
  maxSpotVcpus: 192,
  onDemandFallbackMaxVcpus: 0,
  maxJobHours: 12,
  // Golden-set inference and scoring on the same node shape; bounded so its GPU-hours fit the estimate.
  maxEvalJobHours: 2,
  attempts: 3,
  algorithm: 'grpo',
  hyperparameters: { learning_rate: 1e-6, num_generations: 8, max_steps: 500 },
  image: { kind: 'asset' },
};

/**
 * The canary: 10 % -> 50 % -> 100 %, roll back on faithfulness -5 points or misroute +10 points;
 * the drill's bound is 5 minutes, our target 90 s. High-resolution 10 s periods, 2 of 3 breaching.
 */
export const DEFAULT_CANARY: CanaryConfig = {
  stepsPercent: [10, 50, 100],
  bakeSeconds: 1800,
  checkIntervalSeconds: 10,
  alarms: {
    faithfulnessDrop: 0.05,
    misrouteRise: 0.1,
    maxErrorRate: 0.05,
    maxMeanLatencyMs: 5000,
    periodSeconds: 10,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    minTracesPerPeriod: 5,
    qualitySignalSource: 'lexical',
  },
  gameDay: { enabled: false, schedule: 'cron(0 10 ? * WED#1 *)', maxRollbackSeconds: 300, targetRollbackSeconds: 90 },
};

/**
 * Judge calibration: 2 % of each stratum of the week's judgments (at least one item each), three
 * faithfulness bands; a score of 0.7 or more passes; the alarm fires when kappa falls below 0.6 (the
 * lower edge of "substantial" agreement) or fewer than 100 items were reviewed in 30 days, too few for
 * a kappa interval narrower than about +-0.15. Sampled on Mondays at 06:00, links valid for a week.
 */
export const DEFAULT_JUDGE_CALIBRATION: Omit<JudgeCalibrationConfig, 'reviewerEmails'> = {
  samplingRate: 0.02,
  bandUpperBounds: [0.5, 0.8, 1],
  minPerStratum: 1,
  passAt: 0.7,
  minKappa: 0.6,
  minReviewed: 100,
  windowDays: 30,
  linkExpiryHours: 168,
  schedule: 'cron(0 6 ? * MON *)',
};

/**
 * The production stages' approvals: 72 h links, and who may decide each kind (separation of duties).
 * The roles and addresses are PLACEHOLDERS: set your approvers' IAM roles and e-mail addresses.
 */
export const PRODUCTION_APPROVALS: ApprovalsConfig = {
  expiryHours: 72,
  approverEmails: ['ml-approvers@example.com'],
  finopsEmails: ['finops@example.com'],
  notificationEmails: ['ml-platform@example.com'],
  approvers: {
    train: { principals: ['arn:aws:iam::111111111111:role/sial-ml-approver'], emails: ['ml-approvers@example.com'] },
    'deploy-stage': { principals: ['arn:aws:iam::111111111111:role/sial-ml-approver'], emails: ['ml-approvers@example.com'] },
    finops: { principals: ['arn:aws:iam::111111111111:role/sial-finops-approver'], emails: ['finops@example.com'] },
  },
};

/**
 * Operating per agent: a regression is 5 points below the baseline; the current week against the four
 * weeks before it; at least 20 requests in each window; cost alarm at the expected daily cost + 2 sigma;
 * confidence decays 10 % per idle day and stands on its own after 50 feedback events. The daily report
 * runs at 05:00. Prices are per stage (none here: an unpriced model's cost stays what the producer sent).
 */
export const DEFAULT_OPERATIONS: OperationsConfig = {
  modelPrices: {},
  costAnomalyStdDevs: 2,
  regression: { thresholdPoints: 5, currentWindowDays: 7, baselineWindowDays: 28, minRequests: 20, maxAffectedTraceIds: 20 },
  confidence: { decayPerIdleDay: 0.1, fullWeightFeedback: 50, divergenceReviewPoints: 20 },
  reportSchedule: 'cron(0 5 * * ? *)',
};
