import { Metrics } from '@aws-lambda-powertools/metrics';
import { dev } from '../../../config/stages/dev';
import { readRewardPolicy } from '../../../config/reward-policies/read';
import { countOperating, newBatchReport } from '../../../lambdas/gate-score/batch-report';
import { gateConfigFromStage } from '../../../lambdas/gate-score/gate-config';
import { processBatch } from '../../../lambdas/gate-score/process-batch';
import { METRIC, publishBatchMetrics, UNLISTED_AGENT } from '../../../lambdas/gate-score/publish-metrics';
import { SimulatedComprehendDetector } from '../../../local/simulated-comprehend';
import { makeTrace } from '../../helpers/trace-factory';
import { testPseudonymiser } from '../../helpers/pseudonymiser';

const config = gateConfigFromStage(dev, readRewardPolicy('v1'), { databaseName: 'db', tracesTable: 'traces', auditTable: 'gate_audit' });
const now = () => new Date('2026-11-21T12:00:00.000Z');

async function gatedRow(usage: { input_tokens?: number; output_tokens?: number; cost_usd?: number }, model = 'qwen3-4b'): Promise<Record<string, unknown>> {
  const trace = makeTrace({ data_region: 'us-east-1', usage, model: { family: 'qwen3', name: model, version: '1', variant: 'current' } });
  const outcome = await processBatch([{ recordId: 'r1', data: Buffer.from(JSON.stringify(trace)).toString('base64') }], { config, detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now });
  const record = outcome.records[0];
  expect(record?.result).toBe('Ok');
  return JSON.parse(Buffer.from(record?.data ?? '', 'base64').toString('utf8')) as Record<string, unknown>;
}

describe('the gate prices traces and publishes per-agent latency values', () => {
  it('adds cost_usd from the stage price table when the producer sent none, keeps the producer\'s otherwise', async () => {
    // dev prices qwen3-4b at 0.0002 / 0.0006 per 1k tokens plus 0.0004 per request.
    expect((await gatedRow({ input_tokens: 1000, output_tokens: 500 })).cost_usd).toBe(0.0009);
    expect((await gatedRow({ input_tokens: 1000, output_tokens: 500, cost_usd: 0.5 })).cost_usd).toBe(0.5);
    expect((await gatedRow({ input_tokens: 1000, output_tokens: 500 }, 'unpriced-model')).cost_usd).toBeNull();
  });

  it('emits every latency as an EMF value under the Agent dimension, at most 99 values per document (Powertools flushes on its own at 100), and the cost sum', () => {
    const report = newBatchReport(150);
    for (let i = 0; i < 150; i++) countOperating(report, 'chat-assistant', i, 0.001);
    countOperating(report, 'someone-else', 5, null);
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    process.env.POWERTOOLS_DEV = 'true';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    publishBatchMetrics(new Metrics({ namespace: 'Test', serviceName: 'gate' }), report, { agents: new Set(['chat-assistant']), targetModels: new Set(['qwen3-4b']) }, 'dev');
    spy.mockRestore();
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((d) => d[METRIC.latencyMs] !== undefined);
    const chat = docs.filter((d) => d.Agent === 'chat-assistant');
    expect(chat.map((d) => (Array.isArray(d[METRIC.latencyMs]) ? (d[METRIC.latencyMs] as number[]).length : 1))).toEqual([99, 51]);
    expect(chat[0]?.[METRIC.costUsd]).toBeCloseTo(0.15, 9);
    expect(chat[1]?.[METRIC.costUsd]).toBeUndefined();
    expect(docs.find((d) => d.Agent === UNLISTED_AGENT)?.[METRIC.latencyMs]).toBe(5);
  });
});
