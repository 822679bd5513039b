import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type GetQueryResultsOutput,
} from '@aws-sdk/client-athena';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { loadStageConfig } from '../../config';
import { datasetManifestSchema, type ValidatedRequest } from '../../lambdas/pipeline/contracts';
import type * as DatasetHandlerModule from '../../lambdas/pipeline/dataset/handler';
import { pipelineSettingsFromStage, rewardScoringOf } from '../../lambdas/pipeline/settings';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { lambdaContext } from '../helpers/lambda-context';

const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
const settings = pipelineSettingsFromStage(loadStageConfig('prod-eu'), {
  databaseName: 'sial_prod_eu',
  tracesTable: 'traces',
  auditTable: 'gate_audit',
  feedbackTable: 'feedback',
  judgmentsTable: 'judgments',
}, rewardScoringOf(readRewardPolicy('v1')));
process.env.GOLDEN_SETS_URI = 's3://artifacts-eu/golden-sets/';
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

// The build attempt's folder (named by the function's clock), learnt from the UNLOADs' targets.
let attempt = '';

beforeEach(() => {
  athena.reset();
  s3.reset();
  // Which query is which: UNLOADs by their target folder, the summaries by their columns.
  const idOf = (text: string): string => {
    const target = /\) TO 's3:\/\/([^']*)\/(grpo|dpo|trace-ids)\/'/.exec(text);
    if (target !== null) {
      attempt = target[1]!;
      return `qe-unload-${target[2]}`;
    }
    if (text.startsWith('CREATE TABLE')) return 'qe-ctas';
    if (text.startsWith('DROP TABLE')) return 'qe-drop';
    if (text.includes('AS rows_in_window')) return 'qe-summary';
    if (text.includes('FROM agent_figures')) return 'qe-agents';
    return 'qe-discards';
  };
  athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => ({ QueryExecutionId: idOf(input.QueryString) }));
  athena.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => ({
    QueryExecution: {
      Status: { State: 'SUCCEEDED' },
      Statistics: input.QueryExecutionId.startsWith('qe-unload-') ? { DataManifestLocation: `s3://artifacts-eu/query-results/${input.QueryExecutionId}-manifest.csv` } : {},
    },
  }));
  const count = (name: string): [string, string] => [name, 'bigint'];
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'qe-summary' }).resolves(
    results(
      ['rows_in_window', 'duplicate_copies', 'excluded_policy_version', 'excluded_no_user_turn', 'excluded_golden_overlap', 'excluded_ineligible_agent', 'late_feedback_applied', 'rescored_older_policy', 'traces_used', 'grpo_groups', 'grpo_completions', 'dpo_pairs'].map(count),
      [['10', '1', '2', '0', '1', '0', '3', '0', '2', '1', '2', '1']],
    ),
  );
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'qe-agents' }).resolves(
    results(
      [['agent_id', 'varchar'], count('positive_events'), count('positive_traces'), count('positive_feedback'), count('high_quality'), ['eligible', 'boolean']],
      [['rag-qa-agent', '120', '8', '128', '61', 'true']],
    ),
  );
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'qe-discards' }).resolves(results([['gate', 'varchar'], ['discarded', 'bigint']], [['pii', '17']]));
  // The data manifests list the files each UNLOAD wrote; the files themselves are only hashed.
  s3.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }): object => {
    const manifest = /^query-results\/qe-unload-(.+)-manifest\.csv$/.exec(input.Key);
    if (manifest !== null) return { Body: sdkStream(`s3://${attempt}/${manifest[1]}/part-b.gz\ns3://${attempt}/${manifest[1]}/part-a.gz\n`) };
    if (input.Key.startsWith('runs/')) return { Body: sdkStream(`bytes of ${input.Key}`) };
    const missing = new Error('no such key');
    missing.name = 'NoSuchKey';
    throw missing;
  });
  s3.on(PutObjectCommand).resolves({});
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({ Contents: [{ Key: `${input.Prefix}part-0.parquet` }] }));
  s3.on(DeleteObjectsCommand).resolves({});
});

/** A GetObject body: a stream (what the hash reads) with the SDK's transformToString (what getText reads). */
function sdkStream(text: string): Readable & { transformToString: () => Promise<string> } {
  return Object.assign(Readable.from([Buffer.from(text)]), { transformToString: () => Promise.resolve(text) });
}

describe('Build dataset handler', () => {
  it('has Athena materialise the selection, UNLOAD the files under the run prefix, read two small summaries, release its tables and write only the manifest', async () => {
    const manifest = datasetManifestSchema.parse(await handler({ request }, lambdaContext('build-dataset')));
    expect(manifest.counts).toEqual(expect.objectContaining({ tracesUsed: 2, grpoGroups: 1, grpoCompletions: 2, dpoPairs: 1, duplicateCopies: 1, excludedGoldenOverlap: 1, discardedByGate: { pii: 17 } }));
    expect(manifest.eligibility).toEqual({
      positiveFeedback: 128,
      positiveFeedbackWindowDays: 30,
      highQualityTraces: 61,
      highQualityReward: 0.8,
      agents: [{ agentId: 'rag-qa-agent', positiveFeedback: 128, highQualityTraces: 61, eligible: true }],
    });
    // Athena names the parts; the manifest lists them sorted, and the hash covers them in that order.
    expect(manifest.files.grpo).toEqual([`s3://${attempt}/grpo/part-a.gz`, `s3://${attempt}/grpo/part-b.gz`]);
    const expectedHash = createHash('sha256');
    for (const kind of ['grpo', 'dpo', 'trace-ids']) for (const part of ['part-a.gz', 'part-b.gz']) expectedHash.update(`bytes of ${attempt.replace('artifacts-eu/', '')}/${kind}/${part}`);
    expect(attempt).toMatch(/^artifacts-eu\/runs\/run-eu-1\/dataset\/build-\d{8}T\d{9}Z$/);
    expect(manifest.contentSha256).toBe(expectedHash.digest('hex'));
    expect(manifest.decontamination.goldenSet).toBeNull();

    const starts = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(starts).toHaveLength(10);
    expect(starts.every((s) => s.WorkGroup === 'sial-prod-eu-pipeline' && s.QueryExecutionContext?.Database === 'sial_prod_eu')).toBe(true);
    // The heavy selection runs once, as Parquet tables inside the build's own folder.
    const ctas = starts.filter((s) => s.QueryString?.startsWith('CREATE TABLE'));
    expect(ctas.map((c) => /^CREATE TABLE "(sial_build_\w+?)_[0-9a-f]{16}" WITH \(format = 'PARQUET', external_location = '([^']+)'\) AS/.exec(c.QueryString!)?.slice(1))).toEqual([
      ['sial_build_candidates', `s3://${attempt}/work/candidates/`],
      ['sial_build_members', `s3://${attempt}/work/members/`],
    ]);
    // A general target: all-models twice; boundary and the 30-day window are bound where partitions prune.
    expect(ctas[0]!.ExecutionParameters?.slice(0, 4)).toEqual(["'all-models'", "'all-models'", "'|v1|'", "'v1'"]);
    // v1 defines no judge: its judge prompt hash is '' and no judgment is read.
    expect(ctas[0]!.ExecutionParameters?.slice(-8)).toEqual([
      "'EU'",
      "'2026-10-21 03:00:00.000'",
      "'2026-11-20 03:00:00.000'",
      "'2026-10-21 03:00:00.000'",
      "'2026-11-20 03:00:00.000'",
      "''",
      "'2026-10-21 03:00:00.000'",
      "'2026-11-20 03:00:00.000'",
    ]);
    const unloads = starts.filter((s) => s.QueryString?.startsWith('UNLOAD ('));
    expect(unloads.map((u) => /TO '([^']+)' WITH \(format = '(\w+)'\)$/.exec(u.QueryString!)?.slice(1))).toEqual([
      [`s3://${attempt}/grpo/`, 'JSON'],
      [`s3://${attempt}/dpo/`, 'JSON'],
      [`s3://${attempt}/trace-ids/`, 'TEXTFILE'],
    ]);
    expect(unloads.every((u) => u.QueryString!.includes('FROM "sial_build_members_'))).toBe(true);
    // Released: both tables dropped and their files (rows that are not in the dataset) deleted.
    expect(starts.filter((s) => s.QueryString?.startsWith('DROP TABLE IF EXISTS "sial_build_'))).toHaveLength(2);
    const deleted = s3.commandCalls(DeleteObjectsCommand).flatMap((c) => c.args[0].input.Delete?.Objects?.map((o) => o.Key) ?? []);
    expect(deleted.sort()).toEqual([`${attempt.replace('artifacts-eu/', '')}/work/candidates/part-0.parquet`, `${attempt.replace('artifacts-eu/', '')}/work/members/part-0.parquet`]);

    // No dataset row passes through the function: the only object it writes is the manifest.
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => `${p.Bucket}/${p.Key}`)).toEqual(['artifacts-eu/runs/run-eu-1/dataset/manifest.json']);
    expect(JSON.parse(String(puts[0]!.Body))).toEqual(manifest);
  });

  it('refuses input that is not { request } with the field that is wrong', async () => {
    await expect(handler({ request: { ...request, boundary: 'MARS' } }, lambdaContext('build-dataset'))).rejects.toThrow(/Build dataset: invalid input: .*request\.boundary/s);
    expect(athena.calls()).toHaveLength(0);
  });
});
