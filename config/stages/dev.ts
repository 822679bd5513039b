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
    { id: 'qwen3-4b', family: 'qwen3', internalOnly: false },
    { id: 'qwen3-4b-internal', family: 'qwen3', internalOnly: true },
  ],
  agents: [
    { id: 'rag-qa-agent', latencySloMs: 2000 },
    { id: 'code-reviewer', latencySloMs: 5000 },
  ],
  defaultLatencySloMs: 3000,
  pii: {
    comprehendLanguages: ['en', 'es'],
    patternOnlyLanguages: [],
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
  },
};
