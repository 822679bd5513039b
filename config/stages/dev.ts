import { DEFAULT_CANARY, DEFAULT_DATASET, DEFAULT_ROW_RETENTION_DAYS, DEFAULT_TABLE_MAINTENANCE, DEFAULT_ELIGIBILITY, DEFAULT_EVAL_GATE, DEFAULT_GPU_BUDGET, DEFAULT_JUDGE_CALIBRATION, DEFAULT_OPERATIONS, DEFAULT_RETAIN_APPROVED_MODEL_VERSIONS, DEFAULT_RETAIN_APPROVED_ROUTER_VERSIONS, DEFAULT_ROUTER_GATE, DEFAULT_ROUTER_RESOURCES, P5EN_SPOT_TRAINING } from '../governance-defaults';
import type { StageConfig } from '../schema';

/** Development stage: US boundary, resources destroyed with the stack, small buffers for fast feedback. */
export const dev: StageConfig = {
  stage: 'dev',
  region: 'us-east-1',
  dataBoundary: 'US',
  production: false,
  rewardPolicyVersion: 'v1',
  metricsNamespace: 'SelfImprovingAgentLoop',
  targetModels: [
    { id: 'qwen3-4b', family: 'qwen3', internalOnly: false, rollout: { kind: 'sagemaker', endpointName: 'sial-dev-qwen3-4b', instanceType: 'ml.g6e.2xlarge', initialInstanceCount: 1 } },
    { id: 'qwen3-4b-internal', family: 'qwen3', internalOnly: true, rollout: { kind: 'eks', clusterName: 'serving-dev', namespace: 'llm-serving', httpRouteName: 'qwen3-4b-internal', currentBackend: 'qwen3-4b-internal-current', candidateBackend: 'qwen3-4b-internal-candidate' } },
    // The cascade router (Phase 1): picks the tier that answers each support request; tiers match the demo traffic.
    {
      kind: 'router',
      id: 'support-router',
      internalOnly: false,
      tiers: [
        { name: 'small', costPer1kRequestsUsd: 0.4 },
        { name: 'medium', costPer1kRequestsUsd: 1.5 },
        { name: 'large', costPer1kRequestsUsd: 6 },
      ],
      ...DEFAULT_ROUTER_GATE,
      rollout: { kind: 'sagemaker', endpointName: 'sial-dev-support-router', instanceType: 'ml.c7i.large', initialInstanceCount: 1 },
      resources: DEFAULT_ROUTER_RESOURCES,
    },
  ],
  agents: [
    { id: 'rag-qa-agent', latencySloMs: 2000 },
    { id: 'code-reviewer', latencySloMs: 5000 },
    // The operating demo's agents: an IDE completion agent (p99 <= 100 ms) and a chat client (p95 <= 500 ms per streamed chunk).
    { id: 'ide-assistant', latencySloMs: 100, latencySloPercentile: 'p99' },
    { id: 'chat-assistant', latencySloMs: 500, latencySloPercentile: 'p95' },
  ],
  defaultLatencySloMs: 3000,
  pii: {
    comprehendLanguages: ['en', 'es'],
    entityDetectors: {},
    patternOnlyRiskAcceptances: [],
    undeclaredLanguage: 'en',
    minScore: 0.5,
    maxAttempts: 5,
    maxConcurrentCalls: 10,
  },
  lake: {
    databaseName: 'sial_dev',
    errorOutputRetentionDays: 7,
    accessLogRetentionDays: 30,
    delivery: { bufferIntervalSeconds: 60, bufferSizeMiB: 64 },
    processor: { bufferIntervalSeconds: 10, bufferSizeMiB: 3 },
    tableMaintenance: DEFAULT_TABLE_MAINTENANCE,
    rowRetentionDays: DEFAULT_ROW_RETENTION_DAYS,
  },
  eligibility: DEFAULT_ELIGIBILITY,
  dataset: DEFAULT_DATASET,
  gpuBudget: { ...DEFAULT_GPU_BUDGET, monthlyCeilingGpuHours: 100 },
  training: {
    ...P5EN_SPOT_TRAINING,
    // Dev trains on Spot only, and smaller runs: a dev stage should never spend real GPU budget by accident.
    maxJobHours: 2,
    maxEvalJobHours: 1,
    // SageMaker Large Model Inference (vLLM) container of the region; verify the tag before the first deploy.
    servingImageUri: '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128',
    baseModelUris: {
      'qwen3-4b': 's3://sial-dev-models-us-east-1/base/qwen3-4b/',
      'qwen3-4b-internal': 's3://sial-dev-models-us-east-1/base/qwen3-4b-internal/',
    },
  },
  evalGate: DEFAULT_EVAL_GATE,
  judgeCalibration: { ...DEFAULT_JUDGE_CALIBRATION, reviewerEmails: ['ml-reviewers@example.com'] },
  approvals: { expiryHours: 72, approverEmails: ['ml-approvers@example.com'], finopsEmails: ['finops@example.com'], notificationEmails: ['ml-platform@example.com'] },
  schedules: { datasetBuild: 'cron(0 2 * * ? *)', trainingRequest: 'cron(0 3 ? * MON *)', enabled: false, timezone: 'UTC' },
  canary: DEFAULT_CANARY,
  retainApprovedModelVersions: DEFAULT_RETAIN_APPROVED_MODEL_VERSIONS,
  retainApprovedRouterVersions: DEFAULT_RETAIN_APPROVED_ROUTER_VERSIONS,
  // List prices of the self-hosted models' serving (tokens at the serving team's internal rate plus the
  // endpoint's compute per request); the demo traffic is priced with them.
  operations: { ...DEFAULT_OPERATIONS, modelPrices: { 'qwen3-4b': { inputPer1kTokensUsd: 0.0002, outputPer1kTokensUsd: 0.0006, servingPerRequestUsd: 0.0004 } } },
};
