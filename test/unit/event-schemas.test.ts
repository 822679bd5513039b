/** The published event schemas reject what a subscriber could not rely on. */
import { validateEventDetail } from '../helpers/event-schemas';

const READY = {
  runId: 'run-1',
  executionName: 'exec-1',
  datasetId: 'ds-1',
  targetModelId: 'qwen3-4b',
  mode: 'train',
  manifestUri: 's3://artifacts/runs/run-1/dataset/manifest.json',
  counts: { tracesUsed: 10, grpoGroups: 2, grpoCompletions: 8, dpoPairs: 3, rowsInWindow: 12 },
};

describe('sial.dataset.ready schema', () => {
  it('accepts a complete detail', () => {
    expect(validateEventDetail('sial.dataset.ready', READY)).toEqual([]);
  });

  it('rejects a detail without a dataset id, with an unknown mode, or with negative counts', () => {
    const { datasetId: _omitted, ...withoutId } = READY;
    expect(validateEventDetail('sial.dataset.ready', withoutId).join()).toMatch(/datasetId/);
    expect(validateEventDetail('sial.dataset.ready', { ...READY, mode: 'deploy' })).not.toEqual([]);
    expect(validateEventDetail('sial.dataset.ready', { ...READY, counts: { ...READY.counts, dpoPairs: -1 } })).not.toEqual([]);
    expect(validateEventDetail('sial.dataset.ready', { ...READY, traceText: 'hello' })).not.toEqual([]);
  });
});

const REPORTS = {
  stage: 'dev',
  reportDate: '2026-12-04',
  executionName: 'reports-1',
  reportPrefix: 's3://artifacts/reports/2026-12-04/',
  costs: { csv: 's3://artifacts/reports/2026-12-04/costs.csv', parquetPrefix: 's3://artifacts/reports/2026-12-04/costs.parquet/run=20261204T050001.250Z/' },
  confidence: { json: 's3://artifacts/reports/2026-12-04/confidence.json', table: 'sial_dev.confidence_scores' },
  regressionReports: ['s3://artifacts/reports/2026-12-04/regressions-chat-assistant.json'],
  agents: 1,
  regressions: 2,
  regressedAgents: ['chat-assistant'],
};

describe('sial.reports.ready schema', () => {
  it('accepts a complete detail', () => {
    expect(validateEventDetail('sial.reports.ready', REPORTS)).toEqual([]);
  });

  it('rejects a detail without the confidence table, with a day that is not a date, negative counts, or extra fields', () => {
    expect(validateEventDetail('sial.reports.ready', { ...REPORTS, confidence: { json: REPORTS.confidence.json } }).join()).toMatch(/table/);
    expect(validateEventDetail('sial.reports.ready', { ...REPORTS, reportDate: '04.12.2026' })).not.toEqual([]);
    expect(validateEventDetail('sial.reports.ready', { ...REPORTS, agents: -1 })).not.toEqual([]);
    expect(validateEventDetail('sial.reports.ready', { ...REPORTS, scores: [] })).not.toEqual([]);
  });
});
