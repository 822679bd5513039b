import { DEFAULT_CANARY, DEFAULT_DATASET, DEFAULT_ROW_RETENTION_DAYS, DEFAULT_TABLE_MAINTENANCE, DEFAULT_ELIGIBILITY, DEFAULT_EVAL_GATE, DEFAULT_GPU_BUDGET, DEFAULT_JUDGE_CALIBRATION, DEFAULT_OPERATIONS, DEFAULT_RETAIN_APPROVED_MODEL_VERSIONS, DEFAULT_RETAIN_APPROVED_ROUTER_VERSIONS, P5EN_SPOT_TRAINING, PRODUCTION_APPROVALS } from '../governance-defaults';
import type { StageConfig } from '../schema';

/** Production in the KR data boundary (PIPA): Seoul, resources retained. */
export const prodKr: StageConfig = {
  stage: 'prod-kr',
  region: 'ap-northeast-2',
  dataBoundary: 'KR',
  production: true,
  rewardPolicyVersion: 'v1',
  metricsNamespace: 'SelfImprovingAgentLoop',
  targetModels: [{ id: 'qwen3-4b-ko', family: 'qwen3', internalOnly: false, rollout: { kind: 'sagemaker', endpointName: 'sial-prod-kr-qwen3-4b-ko', instanceType: 'ml.g6e.2xlarge', initialInstanceCount: 1 } }],
  agents: [{ id: 'rag-qa-agent', latencySloMs: 2000 }],
  defaultLatencySloMs: 3000,
  pii: {
    comprehendLanguages: ['en', 'es'],
    // Comprehend does not read Korean: a self-hosted Korean named-entity model finds names and
    // addresses, the pattern detector the structured numbers, Comprehend the Latin-script passages.
    // The endpoint is deployed by the serving team in this account and region; until it answers,
    // Korean traces are discarded (pii_scan_failed), never kept on patterns alone.
    entityDetectors: {
      ko: {
        kind: 'sagemaker-endpoint',
        endpoint: 'sial-prod-kr-pii-ner-ko',
        minScore: 0.5,
        // About 500 Hangul syllables: inside a 512-token window for Korean prose; `stride` covers
        // inputs that tokenise denser (digits, symbols) instead of letting the pipeline cut them.
        maxTextBytes: 1_500,
        stride: 32,
        maxBatchTexts: 32,
        maxBatchBytes: 48_000,
      },
    },
    patternOnlyRiskAcceptances: [],
    undeclaredLanguage: 'en',
    minScore: 0.5,
    maxAttempts: 5,
    maxConcurrentCalls: 10,
  },
  lake: {
    databaseName: 'sial_prod_kr',
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
    servingImageUri: '763104351884.dkr.ecr.ap-northeast-2.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128',
    baseModelUris: {
      'qwen3-4b-ko': 's3://sial-prod-kr-models/base/qwen3-4b-ko/',
    },
  },
  evalGate: DEFAULT_EVAL_GATE,
  judgeCalibration: { ...DEFAULT_JUDGE_CALIBRATION, reviewerEmails: ['ml-reviewers-kr@example.com'] },
  approvals: PRODUCTION_APPROVALS,
  schedules: { datasetBuild: 'cron(0 2 * * ? *)', trainingRequest: 'cron(0 3 ? * MON *)', enabled: true, timezone: 'Asia/Seoul' },
  canary: DEFAULT_CANARY,
  retainApprovedModelVersions: DEFAULT_RETAIN_APPROVED_MODEL_VERSIONS,
  retainApprovedRouterVersions: DEFAULT_RETAIN_APPROVED_ROUTER_VERSIONS,
  operations: { ...DEFAULT_OPERATIONS, modelPrices: { 'qwen3-4b': { inputPer1kTokensUsd: 0.0002, outputPer1kTokensUsd: 0.0006, servingPerRequestUsd: 0.0004 } } },
};
