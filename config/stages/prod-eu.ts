import { DEFAULT_CANARY, DEFAULT_DATASET, DEFAULT_ROW_RETENTION_DAYS, DEFAULT_TABLE_MAINTENANCE, DEFAULT_ELIGIBILITY, DEFAULT_EVAL_GATE, DEFAULT_GPU_BUDGET, DEFAULT_JUDGE_CALIBRATION, DEFAULT_OPERATIONS, DEFAULT_RETAIN_APPROVED_MODEL_VERSIONS, DEFAULT_RETAIN_APPROVED_ROUTER_VERSIONS, P5EN_SPOT_TRAINING, PRODUCTION_APPROVALS } from '../governance-defaults';
import type { StageConfig } from '../schema';

/** Production in the EU data boundary (GDPR): Frankfurt, resources retained. */
export const prodEu: StageConfig = {
  stage: 'prod-eu',
  region: 'eu-central-1',
  dataBoundary: 'EU',
  production: true,
  rewardPolicyVersion: 'v1',
  metricsNamespace: 'SelfImprovingAgentLoop',
  targetModels: [
    { id: 'qwen3-4b', family: 'qwen3', internalOnly: false, rollout: { kind: 'sagemaker', endpointName: 'sial-prod-eu-qwen3-4b', instanceType: 'ml.g6e.2xlarge', initialInstanceCount: 1 } },
    { id: 'llama4-scout', family: 'llama4', internalOnly: true, rollout: { kind: 'eks', clusterName: 'serving-prod-eu', namespace: 'llm-serving', httpRouteName: 'llama4-scout', currentBackend: 'llama4-scout-current', candidateBackend: 'llama4-scout-candidate' } },
  ],
  agents: [{ id: 'rag-qa-agent', latencySloMs: 2000 }],
  defaultLatencySloMs: 3000,
  pii: {
    comprehendLanguages: ['en', 'es'],
    // German and French traces (declared, or recognised by their words) are discarded: patterns alone
    // cannot find names and addresses.
    entityDetectors: {},
    patternOnlyRiskAcceptances: [],
    undeclaredLanguage: 'en',
    minScore: 0.5,
    maxAttempts: 5,
    maxConcurrentCalls: 10,
  },
  lake: {
    databaseName: 'sial_prod_eu',
    errorOutputRetentionDays: 14,
    accessLogRetentionDays: 365,
    delivery: { bufferIntervalSeconds: 300, bufferSizeMiB: 128 },
    processor: { bufferIntervalSeconds: 10, bufferSizeMiB: 3 },
    tableMaintenance: DEFAULT_TABLE_MAINTENANCE,
    rowRetentionDays: DEFAULT_ROW_RETENTION_DAYS,
  },
  eligibility: DEFAULT_ELIGIBILITY,
  dataset: DEFAULT_DATASET,
  gpuBudget: DEFAULT_GPU_BUDGET,
  training: {
    ...P5EN_SPOT_TRAINING,
    // Spot p5en capacity is scarce in this region: fall back to one on-demand node after Spot.
    onDemandFallbackMaxVcpus: 192,
    // SageMaker Large Model Inference (vLLM) container of the region; verify the tag before the first deploy.
    servingImageUri: '763104351884.dkr.ecr.eu-central-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128',
    baseModelUris: {
      'qwen3-4b': 's3://sial-prod-eu-models/base/qwen3-4b/',
      'llama4-scout': 's3://sial-prod-eu-models/base/llama4-scout/',
    },
  },
  evalGate: DEFAULT_EVAL_GATE,
  judgeCalibration: { ...DEFAULT_JUDGE_CALIBRATION, reviewerEmails: ['ml-reviewers-eu@example.com'] },
  approvals: PRODUCTION_APPROVALS,
  schedules: { datasetBuild: 'cron(0 2 * * ? *)', trainingRequest: 'cron(0 3 ? * MON *)', enabled: true, timezone: 'Europe/Berlin' },
  canary: DEFAULT_CANARY,
  retainApprovedModelVersions: DEFAULT_RETAIN_APPROVED_MODEL_VERSIONS,
  retainApprovedRouterVersions: DEFAULT_RETAIN_APPROVED_ROUTER_VERSIONS,
  operations: { ...DEFAULT_OPERATIONS, modelPrices: { 'qwen3-4b': { inputPer1kTokensUsd: 0.0002, outputPer1kTokensUsd: 0.0006, servingPerRequestUsd: 0.0004 } } },
};
