import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type GetQueryResultsOutput,
} from '@aws-sdk/client-athena';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { loadStageConfig } from '../../config';
import { datasetManifestSchema, type ValidatedRequest } from '../../lambdas/pipeline/contracts';
import type * as DatasetHandlerModule from '../../lambdas/pipeline/dataset/handler';
import { pipelineSettingsFromStage } from '../../lambdas/pipeline/settings';
import { lambdaContext } from '../helpers/lambda-context';

const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
const settings = pipelineSettingsFromStage(loadStageConfig('prod-eu'), {
  databaseName: 'sial_prod_eu',
  tracesTable: 'traces',
  auditTable: 'gate_audit',
  feedbackTable: 'feedback',
});
process.env.PIPELINE_SETTINGS = JSON.stringify(settings);
process.env.ATHENA_WORKGROUP = 'sial-prod-eu-pipeline';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
process.env.POWERTOOLS_SERVICE_NAME = 'build-dataset';
process.env.POWERTOOLS_DEV = 'true';

// Imported after the environment is set: the module reads it at load, as in Lambda.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/pipeline/dataset/handler') as typeof DatasetHandlerModule;

jest.spyOn(console, 'log').mockImplementation(() => undefined);
jest.spyOn(console, 'info').mockImplementation(() => undefined);
jest.spyOn(console, 'warn').mockImplementation(() => undefined);

const target = settings.targetModels[0]!;
const request: ValidatedRequest = {
  runId: 'run-eu-1',
  mode: 'dataset-only',
  stage: settings.stage,
  boundary: 'EU',
  targetModelId: target.id,
  modelFamily: target.family,
  internalOnly: target.internalOnly,
  algorithm: 'dpo',
  baseModelUri: 's3://models/base/',
  requestedBy: 'scheduler:daily',
  requestedAt: '2026-11-20T03:00:00.000Z',
  uris: {
    datasetPrefix: 's3://artifacts-eu/runs/run-eu-1/dataset',
    output: 's3://artifacts-eu/runs/run-eu-1/output/',
    checkpoints: 's3://artifacts-eu/runs/run-eu-1/checkpoints/',
    evalOutput: 's3://artifacts-eu/runs/run-eu-1/eval/',
    metrics: 's3://artifacts-eu/runs/run-eu-1/eval/metrics.json',
  },
};

function results(columns: Array<[string, string]>, rows: string[][]): GetQueryResultsOutput {
  return {
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: columns.map(([Name, Type]) => ({ Name, Type })) },
      Rows: [{ Data: columns.map(([name]) => ({ VarCharValue: name })) }, ...rows.map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) }))],
    },
  };
}

beforeEach(() => {
  athena.reset();
  s3.reset();
  athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => ({
    QueryExecutionId: input.QueryString.includes('prompt_json') ? 'qe-completions' : input.QueryString.includes('positive_feedback_events') ? 'qe-figures' : 'qe-discards',
  }));
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  const completion: Array<[string, string]> = [
    ['agent_id', 'varchar'],
    ['prompt_json', 'varchar'],
    ['contexts_json', 'varchar'],
    ['trace_id', 'varchar'],
    ['output', 'varchar'],
    ['reward', 'double'],
    ['group_size', 'bigint'],
    ['dpo_role', 'varchar'],
  ];
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'qe-completions' }).resolves(
    results(completion, [
      ['rag-qa-agent', '[["user","Wie kündige ich?"]]', '["Kündigung im Kundenportal."]', 't-2', 'Bitte im Portal.', '0.9', '2', 'chosen'],
      ['rag-qa-agent', '[["user","Wie kündige ich?"]]', '["Kündigung im Kundenportal."]', 't-1', 'Keine Ahnung.', '0.2', '2', 'rejected'],
    ]),
  );
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'qe-figures' }).resolves(
    results(
      [
        ['positive_feedback_events', 'bigint'],
        ['positive_trace_feedback', 'bigint'],
        ['high_quality_traces', 'bigint'],
      ],
      [['120', '8', '61']],
    ),
  );
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'qe-discards' }).resolves(results([['gate', 'varchar'], ['discarded', 'bigint']], [['pii', '17']]));
  s3.on(PutObjectCommand).resolves({});
});

describe('Build dataset handler', () => {
  it('queries Athena in the stage workgroup and database, writes the files and returns the manifest', async () => {
    const manifest = datasetManifestSchema.parse(await handler({ request }, lambdaContext('build-dataset')));
    expect(manifest.counts).toEqual({ tracesUsed: 2, grpoGroups: 1, grpoCompletions: 2, dpoPairs: 1, discardedByGate: { pii: 17 } });
    expect(manifest.eligibility).toEqual({ positiveFeedback: 128, positiveFeedbackWindowDays: 30, highQualityTraces: 61, highQualityReward: 0.8 });

    const starts = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(starts).toHaveLength(3);
    expect(starts.every((s) => s.WorkGroup === 'sial-prod-eu-pipeline' && s.QueryExecutionContext?.Database === 'sial_prod_eu')).toBe(true);
    const completions = starts.find((s) => s.QueryString?.includes('prompt_json'))!;
    // A general target: all-models twice; the window is the 30 days before the request.
    expect(completions.ExecutionParameters).toEqual(["'EU'", "'v1'", "'all-models'", "'all-models'", "'2026-10-21 03:00:00.000'", "'2026-11-20 03:00:00.000'", '0.199999999']);

    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => `${p.Bucket}/${p.Key}`)).toEqual([
      'artifacts-eu/runs/run-eu-1/dataset/grpo.jsonl',
      'artifacts-eu/runs/run-eu-1/dataset/dpo.jsonl',
      'artifacts-eu/runs/run-eu-1/dataset/trace-ids.txt',
      'artifacts-eu/runs/run-eu-1/dataset/manifest.json',
    ]);
    expect(puts[2]!.Body).toBe('t-1\nt-2\n');
    expect(JSON.parse(String(puts[1]!.Body))).toEqual(expect.objectContaining({ chosen_trace_id: 't-2', rejected_trace_id: 't-1', prompt: [{ role: 'user', content: 'Wie kündige ich?' }] }));
    expect(JSON.parse(String(puts[3]!.Body))).toEqual(manifest);
  });

  it('refuses input that is not { request } with the field that is wrong', async () => {
    await expect(handler({ request: { ...request, boundary: 'MARS' } }, lambdaContext('build-dataset'))).rejects.toThrow(/Build dataset: invalid input: .*request\.boundary/s);
    expect(athena.calls()).toHaveLength(0);
  });
});
