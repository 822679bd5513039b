import type { StageConfig } from '../schema';

/** Production in the KR data boundary (PIPA): Seoul, resources retained. */
export const prodKr: StageConfig = {
  stage: 'prod-kr',
  region: 'ap-northeast-2',
  dataBoundary: 'KR',
  production: true,
  rewardPolicyVersion: 'v1',
  metricsNamespace: 'SelfImprovingAgentLoop',
  targetModels: [{ id: 'qwen3-4b-ko', family: 'qwen3', internalOnly: false }],
  agents: [{ id: 'rag-qa-agent', latencySloMs: 2000 }],
  defaultLatencySloMs: 3000,
  pii: {
    comprehendLanguages: ['en', 'es'],
    // Korean is not scanned by Comprehend. This stage accepts the structured-PII pattern detector
    // (RRN, phones, cards, emails) for Korean traces, a decision recorded in docs/decisions.md.
    patternOnlyLanguages: ['ko'],
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
  },
};
