import { buildFields, QUIET_COUNTS } from '../helpers/manifest-fields';
import { loadStageConfig } from '../../config';
import type { DatasetManifest, ValidatedRequest } from '../../lambdas/pipeline/contracts';
import { checkEligibility } from '../../lambdas/pipeline/eligibility/check-eligibility';
import type { TrainingHistory } from '../../lambdas/pipeline/eligibility/training-history';
import { pipelineSettingsFromStage, type PipelineSettings } from '../../lambdas/pipeline/settings';

const NOW = new Date('2026-11-20T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

// dev uses the default rules: >= 100 positive feedback in 30 days, >= 50 traces with reward >= 0.8, 7-day cooldown.
const settings: PipelineSettings = pipelineSettingsFromStage(loadStageConfig('dev'), {
  databaseName: 'sial_dev',
  tracesTable: 'traces',
  auditTable: 'gate_audit',
  feedbackTable: 'feedback',
  judgmentsTable: 'judgments',
});

const request: ValidatedRequest = {
  runId: 'run-1',
  mode: 'train',
  stage: 'dev',
  boundary: 'US',
  targetModelId: 'qwen3-4b',
  modelFamily: 'qwen3',
  internalOnly: false,
  algorithm: 'grpo',
  baseModelUri: 's3://sial-dev-models-us-east-1/base/qwen3-4b/',
  requestedBy: 'test',
  requestedAt: NOW.toISOString(),
  uris: {
    datasetPrefix: 's3://artifacts/runs/run-1/dataset/',
    output: 's3://artifacts/runs/run-1/output/',
    checkpoints: 's3://artifacts/runs/run-1/checkpoints/',
    evalOutput: 's3://artifacts/runs/run-1/eval/',
    metrics: 's3://artifacts/runs/run-1/eval/metrics.json',
  },
};

function dataset(figures: { positiveFeedback?: number; highQualityTraces?: number; grpoGroups?: number; dpoPairs?: number } = {}): DatasetManifest {
  return {
    datasetId: 'ds-run-1',
    boundary: 'US',
    targetModelId: 'qwen3-4b',
    rewardPolicyVersion: 'v1',
    createdAt: NOW.toISOString(),
    window: { from: new Date(NOW.getTime() - 30 * DAY).toISOString(), to: NOW.toISOString() },
    manifestUri: 's3://artifacts/runs/run-1/dataset/manifest.json',
    grpoUri: 's3://artifacts/runs/run-1/dataset/grpo.jsonl',
    dpoUri: 's3://artifacts/runs/run-1/dataset/dpo.jsonl',
    traceIdsUri: 's3://artifacts/runs/run-1/dataset/trace-ids.txt',
    contentSha256: 'a'.repeat(64),
    ...buildFields('s3://artifacts/runs/run-1/dataset/'),
    counts: { ...QUIET_COUNTS, tracesUsed: 300, grpoGroups: figures.grpoGroups ?? 80, grpoCompletions: 300, dpoPairs: figures.dpoPairs ?? 40, discardedByGate: { pii: 3 } },
    eligibility: {
      positiveFeedback: figures.positiveFeedback ?? 100,
      positiveFeedbackWindowDays: 30,
      highQualityTraces: figures.highQualityTraces ?? 50,
      highQualityReward: 0.8, agents: [{ agentId: 'rag-qa-agent', positiveFeedback: 0, highQualityTraces: 0, eligible: true }] },
  };
}

class FixedHistory implements TrainingHistory {
  readonly asked: string[] = [];
  constructor(private readonly last: Date | undefined) {}
  async lastTrainedAt(targetModelId: string): Promise<Date | undefined> {
    this.asked.push(targetModelId);
    return this.last;
  }
}

function check(options: { dataset?: DatasetManifest; request?: ValidatedRequest; lastTrainedAt?: Date; settings?: PipelineSettings } = {}) {
  const history = new FixedHistory(options.lastTrainedAt);
  const result = checkEligibility(
    { request: options.request ?? request, dataset: options.dataset ?? dataset() },
    { history, settings: options.settings ?? settings, clock: () => NOW },
  );
  return { result, history };
}

describe('checkEligibility', () => {
  it('is eligible exactly at every threshold: 100 positive feedback, 50 high-quality traces, trained exactly 7 days ago', async () => {
    const lastTrainedAt = new Date(NOW.getTime() - 7 * DAY);
    const { result, history } = check({ lastTrainedAt });
    expect(await result).toEqual({
      eligible: true,
      reasons: [],
      figures: {
        positiveFeedback: 100,
        minPositiveFeedback: 100,
        highQualityTraces: 50,
        minHighQualityTraces: 50,
        lastTrainedAt: lastTrainedAt.toISOString(),
        cooldownDays: 7,
      },
    });
    expect(history.asked).toEqual(['qwen3-4b']);
  });

  it('is not eligible one positive feedback short', async () => {
    const result = await check({ dataset: dataset({ positiveFeedback: 99 }) }).result;
    expect(result.eligible).toBe(false);
    expect(result.reasons).toEqual(['Only 99 positive feedback events in the last 30 days; at least 100 are needed.']);
    expect(result.figures.positiveFeedback).toBe(99);
  });

  it('is not eligible one high-quality trace short', async () => {
    const result = await check({ dataset: dataset({ highQualityTraces: 49 }) }).result;
    expect(result.eligible).toBe(false);
    expect(result.reasons).toEqual(['Only 49 high-quality traces (reward >= 0.8) in the last 30 days; at least 50 are needed.']);
  });

  it('is not eligible one millisecond inside the cooldown, and says when the next run is possible', async () => {
    const lastTrainedAt = new Date(NOW.getTime() - 7 * DAY + 1);
    const result = await check({ lastTrainedAt }).result;
    expect(result.eligible).toBe(false);
    expect(result.reasons).toEqual([
      'qwen3-4b was last trained at 2026-11-13T12:00:00.001Z (6.9 days ago); models are trained at most once every 7 days, so the next run is possible from 2026-11-20T12:00:00.001Z.',
    ]);
    expect(result.figures.lastTrainedAt).toBe('2026-11-13T12:00:00.001Z');
  });

  it('treats a training time in the future (clock skew) as inside the cooldown', async () => {
    const result = await check({ lastTrainedAt: new Date(NOW.getTime() + 60_000) }).result;
    expect(result.eligible).toBe(false);
    expect(result.reasons[0]).toContain('in the future by this clock');
  });

  it('is eligible for a model never trained, with lastTrainedAt null', async () => {
    const result = await check({ lastTrainedAt: undefined }).result;
    expect(result).toEqual(expect.objectContaining({ eligible: true, reasons: [] }));
    expect(result.figures.lastTrainedAt).toBeNull();
  });

  it('has no cooldown when cooldownDays is 0', async () => {
    const noCooldown: PipelineSettings = { ...settings, eligibility: { ...settings.eligibility, cooldownDays: 0 } };
    const result = await check({ settings: noCooldown, lastTrainedAt: new Date(NOW.getTime() - 1000) }).result;
    expect(result.eligible).toBe(true);
    expect(result.figures.cooldownDays).toBe(0);
  });

  it('gives one sentence per unmet rule', async () => {
    const result = await check({ dataset: dataset({ positiveFeedback: 12, highQualityTraces: 3 }), lastTrainedAt: new Date(NOW.getTime() - DAY) }).result;
    expect(result.eligible).toBe(false);
    expect(result.reasons).toHaveLength(3);
    expect(result.reasons[0]).toMatch(/^Only 12 positive feedback/);
    expect(result.reasons[1]).toMatch(/^Only 3 high-quality traces/);
    expect(result.reasons[2]).toMatch(/^qwen3-4b was last trained .* \(1\.0 days ago\)/);
  });

  it('is not eligible when the totals pass but no single agent does (eligibility is per agent)', async () => {
    const split = dataset();
    const agents = [
      { agentId: 'rag-qa-agent', positiveFeedback: 60, highQualityTraces: 30, eligible: false },
      { agentId: 'code-reviewer', positiveFeedback: 40, highQualityTraces: 20, eligible: false },
    ];
    const result = await check({ dataset: { ...split, eligibility: { ...split.eligibility, positiveFeedback: 100, highQualityTraces: 50, agents } } }).result;
    expect(result.eligible).toBe(false);
    expect(result.reasons).toEqual([
      'No agent is eligible on its own figures (at least 100 positive feedback and 50 high-quality traces each in the last 30 days); closest: rag-qa-agent: 60 positive feedback, 30 high-quality traces; code-reviewer: 40 positive feedback, 20 high-quality traces.',
    ]);
  });

  it('is not eligible when the dataset has nothing to train on with the requested algorithm', async () => {
    const noPairs = await check({ request: { ...request, algorithm: 'dpo' }, dataset: dataset({ dpoPairs: 0 }) }).result;
    expect(noPairs.eligible).toBe(false);
    expect(noPairs.reasons).toEqual(['The dataset has no DPO pairs: no prompt had two completions whose rewards differ enough to prefer one.']);
    // The same dataset is fine for GRPO, which has groups.
    expect((await check({ dataset: dataset({ dpoPairs: 0 }) }).result).eligible).toBe(true);
    const noGroups = await check({ dataset: dataset({ grpoGroups: 0, dpoPairs: 0 }) }).result;
    expect(noGroups.reasons).toEqual(['The dataset has no GRPO groups: no prompt had at least two completions in the window.']);
  });

  it('refuses a dataset built for another model or under other eligibility settings', async () => {
    await expect(check({ dataset: { ...dataset(), targetModelId: 'qwen3-4b-internal' } }).result).rejects.toThrow('was built for qwen3-4b-internal in US');
    const stricter: PipelineSettings = { ...settings, eligibility: { ...settings.eligibility, highQualityReward: 0.9 } };
    await expect(check({ settings: stricter }).result).rejects.toThrow('rebuild the dataset');
  });
});
