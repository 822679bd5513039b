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
