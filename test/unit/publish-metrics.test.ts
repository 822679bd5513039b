import { Metrics } from '@aws-lambda-powertools/metrics';
import { countKept, countTraceIn, newBatchReport, countDiscard, countFailure } from '../../lambdas/gate-score/batch-report';
import { agentTotals, CANARY_VARIANTS, OTHER_VARIANT, publishBatchMetrics, UNLISTED_AGENT, UNLISTED_MODEL, variantGateDrops, variantTotals } from '../../lambdas/gate-score/publish-metrics';
import type { Reward } from '../../lambdas/gate-score/reward/score';
import { makeTrace } from '../helpers/trace-factory';

const reward = (value: number, groundedness: number | null): Reward => ({
  reward: value,
  policyVersion: 'v1',
  components: { feedback: null, errors: 1, latency: 1, groundedness, judge: null },
});

function sampleReport() {
  const report = newBatchReport(5);
  const current = makeTrace({ agent_id: 'rag-qa-agent', route: { tier: 'm', misrouted: true } });
  const candidate = makeTrace({ agent_id: 'made-up-agent-1', model: { family: 'qwen3', name: 'qwen3-4b', version: '2', variant: 'candidate' } });
  const other = makeTrace({ agent_id: 'made-up-agent-2' });
  for (const t of [current, candidate, other]) countTraceIn(report, t);
  countKept(report, current, reward(0.8, 0.9));
  countKept(report, candidate, reward(0.4, null));
  countDiscard(report, other, { gate: 'consent', reason: 'missing_consent: none' });
  countFailure(report, 'invalid_json: the record is not valid JSON');
  return report;
}

describe('metrics of a batch', () => {
  it('folds models the stage does not train and variants other than current and candidate into shared series', () => {
    const report = newBatchReport(3);
    const foreign = makeTrace({ model: { family: 'qwen3', name: 'someone-elses-model', version: '1', variant: 'current' } });
    const shadow = makeTrace({ model: { family: 'qwen3', name: 'qwen3-4b', version: '1', variant: 'shadow-7' } });
    const own = makeTrace({ model: { family: 'qwen3', name: 'qwen3-4b', version: '1', variant: 'candidate' } });
    for (const t of [foreign, shadow, own]) countTraceIn(report, t);
    countDiscard(report, foreign, { gate: 'region', reason: 'outside_boundary: eu' });
    countDiscard(report, shadow, { gate: 'consent', reason: 'missing_consent: none' });
    countKept(report, own, reward(0.5, 0.5));
    const targetModels = new Set(['qwen3-4b']);
    expect([...variantTotals(report, targetModels).keys()].sort()).toEqual([`qwen3-4b/${CANARY_VARIANTS.candidate}`, `qwen3-4b/${OTHER_VARIANT}`, `${UNLISTED_MODEL}/${CANARY_VARIANTS.current}`].sort());
    expect([...variantGateDrops(report, targetModels)].sort()).toEqual([[`qwen3-4b\n${OTHER_VARIANT}\nconsent`, 1], [`${UNLISTED_MODEL}\n${CANARY_VARIANTS.current}\nregion`, 1]].sort());
  });

  it('folds agents the stage does not list into one series', () => {
    const totals = agentTotals(sampleReport(), new Set(['rag-qa-agent']));
    expect([...totals.keys()].sort()).toEqual(['rag-qa-agent', UNLISTED_AGENT]);
    expect(totals.get(UNLISTED_AGENT)).toEqual(expect.objectContaining({ tracesIn: 2, kept: 1, discarded: 1, rewardSum: 0.4 }));
  });

  it('emits per-variant sums at high resolution and per-gate drops, as EMF', () => {
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    // Dev mode writes EMF through the global console (spied here); it disables metrics unless told not to.
    process.env.POWERTOOLS_DEV = 'true';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'gate' });
    publishBatchMetrics(metrics, sampleReport(), { agents: new Set(['rag-qa-agent']), targetModels: new Set(['qwen3-4b']) }, 'dev');
    metrics.publishStoredMetrics();
    spy.mockRestore();
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string; StorageResolution?: number }> }> } });
    const current = docs.find((d) => d.Variant === 'current');
    expect(current).toEqual(expect.objectContaining({ Model: 'qwen3-4b', TracesKept: 1, RewardSum: 0.8, GroundednessSum: 0.9, MisroutedTraces: 1, RoutedTraces: 1, LatencyMsSum: 800, LatencyMeasured: 1 }));
    expect(current?._aws.CloudWatchMetrics[0]?.Metrics.every((m) => m.StorageResolution === 1)).toBe(true);
    expect(docs.find((d) => d.Gate === 'consent')).toEqual(expect.objectContaining({ Reason: 'missing_consent', GateDrops: 1 }));
    expect(docs.find((d) => d.Gate === 'schema')).toEqual(expect.objectContaining({ Reason: 'invalid_json', GateDrops: 1 }));
    // Which gate drops whose traces: per variant and per agent (the unlisted agent folded).
    expect(docs.find((d) => d.Gate === 'consent' && d.Variant === 'current')).toEqual(expect.objectContaining({ Model: 'qwen3-4b', GateDrops: 1 }));
    expect(docs.find((d) => d.Gate === 'consent' && d.Agent === UNLISTED_AGENT)).toEqual(expect.objectContaining({ GateDrops: 1 }));
    expect(docs.filter((d) => d.Gate === 'consent' && 'Agent' in d).map((d) => d.Agent)).toEqual([UNLISTED_AGENT]);
    expect(current).toEqual(expect.objectContaining({ TracesDiscarded: 1 }));
    expect(docs.find((d) => 'RecordsIn' in d)).toEqual(expect.objectContaining({ Stage: 'dev', RecordsIn: 5, TracesDelivered: 2, TracesDiscarded: 1, RecordsFailed: 1 }));
    expect(docs.some((d) => d.Agent === 'made-up-agent-1')).toBe(false);
    // Exactly the dimension sets the canary alarms and the dashboard read: no default `service`.
    const dimensionSets = new Set(docs.flatMap((d) => d._aws.CloudWatchMetrics.flatMap((m) => m.Dimensions.map((set) => set.join(' x ')))));
    expect([...dimensionSets].sort()).toEqual(['Stage', 'Agent', 'Agent x Gate', 'Gate x Reason', 'Model x Variant', 'Model x Variant x Gate'].sort());
  });
});
