import { buildFields, QUIET_COUNTS } from '../helpers/manifest-fields';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { loadStageConfig } from '../../config';
import { eligibilityResultSchema, type DatasetManifest, type ValidatedRequest } from '../../lambdas/pipeline/contracts';
import type * as EligibilityHandlerModule from '../../lambdas/pipeline/eligibility/handler';
import { pipelineSettingsFromStage } from '../../lambdas/pipeline/settings';
import { lambdaContext } from '../helpers/lambda-context';

const dynamo = mockClient(DynamoDBDocumentClient);
const settings = pipelineSettingsFromStage(loadStageConfig('dev'), { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' });
process.env.PIPELINE_SETTINGS = JSON.stringify(settings);
process.env.LEDGER_TABLE = 'ledger-table';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
process.env.POWERTOOLS_SERVICE_NAME = 'check-eligibility';
process.env.POWERTOOLS_DEV = 'true';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/pipeline/eligibility/handler') as typeof EligibilityHandlerModule;

jest.spyOn(console, 'log').mockImplementation(() => undefined);
jest.spyOn(console, 'info').mockImplementation(() => undefined);
jest.spyOn(console, 'warn').mockImplementation(() => undefined);

const request: ValidatedRequest = {
  runId: 'run-1',
  mode: 'train',
  stage: 'dev',
  boundary: 'US',
  targetModelId: 'qwen3-4b',
  modelFamily: 'qwen3',
  internalOnly: false,
  algorithm: 'grpo',
  baseModelUri: 's3://models/base/',
  requestedBy: 'someone@example.com',
  requestedAt: new Date().toISOString(),
  uris: {
    datasetPrefix: 's3://artifacts/runs/run-1/dataset/',
    output: 's3://artifacts/runs/run-1/output/',
    checkpoints: 's3://artifacts/runs/run-1/checkpoints/',
    evalOutput: 's3://artifacts/runs/run-1/eval/',
    metrics: 's3://artifacts/runs/run-1/eval/metrics.json',
  },
};

const dataset: DatasetManifest = {
  datasetId: 'ds-run-1',
  boundary: 'US',
  targetModelId: 'qwen3-4b',
  rewardPolicyVersion: 'v1',
  createdAt: request.requestedAt,
  window: { from: request.requestedAt, to: request.requestedAt },
  manifestUri: 's3://artifacts/runs/run-1/dataset/manifest.json',
  grpoUri: 's3://artifacts/runs/run-1/dataset/grpo.jsonl',
  dpoUri: 's3://artifacts/runs/run-1/dataset/dpo.jsonl',
  traceIdsUri: 's3://artifacts/runs/run-1/dataset/trace-ids.txt',
  contentSha256: 'b'.repeat(64),
  ...buildFields('s3://artifacts/runs/run-1/dataset/'),
  counts: { ...QUIET_COUNTS, tracesUsed: 400, grpoGroups: 90, grpoCompletions: 400, dpoPairs: 50, discardedByGate: {} },
  eligibility: { positiveFeedback: 150, positiveFeedbackWindowDays: 30, highQualityTraces: 70, highQualityReward: 0.8, agents: [{ agentId: 'rag-qa-agent', positiveFeedback: 0, highQualityTraces: 0, eligible: true }] },
};

beforeEach(() => dynamo.reset());

describe('Check eligibility handler', () => {
  it('reads the last training from the ledger table and returns the result', async () => {
    const lastTrainedAt = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000).toISOString();
    dynamo.on(GetCommand).resolves({ Item: { lastTrainedAt } });
    const result = eligibilityResultSchema.parse(await handler({ request, dataset }, lambdaContext('check-eligibility')));
    expect(result.eligible).toBe(false);
    expect(result.figures.lastTrainedAt).toBe(lastTrainedAt);
    expect(result.reasons).toHaveLength(1);
    const get = dynamo.commandCalls(GetCommand)[0]!.args[0].input;
    expect(get.TableName).toBe('ledger-table');
  });

  it('is eligible for a model the ledger has never seen train', async () => {
    dynamo.on(GetCommand).resolves({});
    const result = eligibilityResultSchema.parse(await handler({ request, dataset }, lambdaContext('check-eligibility')));
    expect(result).toEqual(expect.objectContaining({ eligible: true, reasons: [] }));
  });

  it('refuses input without the dataset manifest', async () => {
    await expect(handler({ request }, lambdaContext('check-eligibility'))).rejects.toThrow(/Check eligibility: invalid input: .*dataset/s);
    expect(dynamo.calls()).toHaveLength(0);
  });
});
