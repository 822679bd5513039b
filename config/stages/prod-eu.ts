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
    { id: 'qwen3-4b', family: 'qwen3', internalOnly: false },
    { id: 'llama4-scout', family: 'llama4', internalOnly: true },
  ],
  agents: [{ id: 'rag-qa-agent', latencySloMs: 2000 }],
  defaultLatencySloMs: 3000,
  pii: {
    comprehendLanguages: ['en', 'es'],
    // German and French traces are discarded: patterns alone cannot find names and addresses.
    patternOnlyLanguages: [],
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
  },
};
