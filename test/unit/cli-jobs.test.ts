/**
 * `sial jobs list | show`: over a local run's lake directory (the records file the local engine writes)
 * and, in AWS, over the stage's jobs table behind aws-sdk-client-mock (Scan paged, GetItem).
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { loadStageConfig } from '../../config';
import { createJobsCommand, JOBS_STAGE_ENV, JOBS_TABLE_ENV } from '../../bin/cli/jobs';
import { awsJobsBackend, type AwsJobsBackendOptions } from '../../bin/cli/jobs-backend';
import { runCli } from '../../bin/cli/main';
import type { JobRecord } from '../../lambdas/pipeline/jobs/job-record';
import { prepareLakeDir } from '../../local/lake-dir';
import { localJobRecordsFile } from '../../local/pipeline/local-job-records';

const NOW = new Date('2026-11-21T12:00:00.000Z');

const TRAIN: JobRecord = {
  jobId: 'train-run-2',
  jobKind: 'train',
  runId: 'run-2',
  executionName: 'run-2',
  targetModelId: 'qwen3-4b',
  datasetId: 'ds-2',
  modelOutputUri: 's3://art/runs/run-2/output/',
  status: 'succeeded',
  updatedAt: '2026-11-21T11:30:00.000Z',
  submittedAt: '2026-11-21T09:00:00.000Z',
  endedAt: '2026-11-21T11:30:00.000Z',
  attempts: 2,
  batchJobId: 'batch-7',
  history: [
    { status: 'submitted', at: '2026-11-21T09:00:00.000Z' },
    { status: 'succeeded', at: '2026-11-21T11:30:00.000Z', attempts: 2, batchJobId: 'batch-7' },
  ],
};
const EVAL: JobRecord = {
  ...TRAIN,
  jobId: 'eval-run-2',
  jobKind: 'eval',
  status: 'failed',
  updatedAt: '2026-11-21T11:50:00.000Z',
  submittedAt: '2026-11-21T11:31:00.000Z',
  endedAt: '2026-11-21T11:50:00.000Z',
  attempts: 1,
  batchJobId: undefined,
  error: 'States.TaskFailed',
  history: [
    { status: 'submitted', at: '2026-11-21T11:31:00.000Z' },
    { status: 'failed', at: '2026-11-21T11:50:00.000Z', attempts: 1, error: 'States.TaskFailed' },
  ],
};
const OLDER: JobRecord = {
  ...TRAIN,
  jobId: 'train-run-1',
  runId: 'run-1',
  executionName: 'run-1',
  datasetId: 'ds-1',
  status: 'submitted',
  updatedAt: '2026-11-14T09:00:00.000Z',
  submittedAt: '2026-11-14T09:00:00.000Z',
  endedAt: undefined,
  attempts: undefined,
  batchJobId: undefined,
  history: [{ status: 'submitted', at: '2026-11-14T09:00:00.000Z' }],
};
const RECORDS = [OLDER, TRAIN, EVAL];

/** A record as the DynamoDB document client returns it: no undefined attributes. */
const stored = (record: JobRecord): Record<string, unknown> => JSON.parse(JSON.stringify(record)) as Record<string, unknown>;

/** The same record as DynamoDB's API spells it (what the local engine keeps in jobs.json). */
function attributeValue(value: unknown): unknown {
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (Array.isArray(value)) return { L: value.map(attributeValue) };
  return { M: Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, attributeValue(v)])) };
}

function cli(env: NodeJS.ProcessEnv = {}, aws?: (options: AwsJobsBackendOptions) => ReturnType<typeof awsJobsBackend>) {
  const out: string[] = [];
  const err: string[] = [];
  const context = { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, env, clock: () => NOW };
  const commands = aws === undefined ? undefined : [createJobsCommand(aws)];
  return { out, err, run: (...argv: string[]) => (commands === undefined ? runCli(argv, context) : runCli(argv, context, commands)) };
}

describe('sial jobs --local', () => {
  let root: string;
  let lakeDir: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sial-jobs-cli-'));
    lakeDir = prepareLakeDir(join(root, 'lake'), { keep: false, now: NOW }).lakeDir;
    const file = localJobRecordsFile(lakeDir);
    mkdirSync(dirname(file), { recursive: true });
    const items = Object.fromEntries(RECORDS.map((r) => [r.jobId, (attributeValue(stored(r)) as { M: unknown }).M]));
    writeFileSync(file, JSON.stringify({ local: 'local job records: not DynamoDB', items }));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('list: a table of every job, newest submission first', async () => {
    const c = cli();
    expect(await c.run('jobs', 'list', '--local', lakeDir)).toBe(0);
    expect(c.out[0]).toMatch(/^JOB\s+KIND\s+STATUS\s+ATTEMPTS\s+MODEL\s+DATASET\s+SUBMITTED\s+ENDED\s+ERROR$/);
    expect(c.out.slice(2).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
      ['eval-run-2', 'eval', 'failed', '1'],
      ['train-run-2', 'train', 'succeeded', '2'],
      ['train-run-1', 'train', 'submitted', 'qwen3-4b'],
    ]);
    expect(c.out[2]).toMatch(/2026-11-21 11:31:00Z\s+2026-11-21 11:50:00Z\s+States\.TaskFailed$/);
  });

  test('list --run and --status filter; nothing matching says so', async () => {
    const byRun = cli();
    expect(await byRun.run('jobs', 'list', '--run', 'run-2', '--local', lakeDir)).toBe(0);
    expect(byRun.out.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(['eval-run-2', 'train-run-2']);
    const byStatus = cli();
    expect(await byStatus.run('jobs', 'list', '--status', 'failed', '--local', lakeDir)).toBe(0);
    expect(byStatus.out.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(['eval-run-2']);
    const none = cli();
    expect(await none.run('jobs', 'list', '--run', 'run-9', '--status', 'failed', '--local', lakeDir)).toBe(0);
    expect(none.out).toEqual([`No jobs of run run-9 with status failed are recorded (local run ${lakeDir}).`]);
  });

  test('list --json: the records themselves', async () => {
    const c = cli();
    expect(await c.run('jobs', 'list', '--run', 'run-2', '--json', '--local', lakeDir)).toBe(0);
    expect(JSON.parse(c.out.join('\n'))).toEqual([stored(EVAL), stored(TRAIN)]);
  });

  test('show: the record and its status history', async () => {
    const c = cli();
    expect(await c.run('jobs', 'show', 'eval-run-2', '--local', lakeDir)).toBe(0);
    expect(c.out).toEqual([
      'job        eval-run-2',
      'kind       eval',
      'status     failed',
      'run        run-2',
      'execution  run-2',
      'model      qwen3-4b',
      'dataset    ds-2',
      'output     s3://art/runs/run-2/output/',
      'attempts   1',
      'error      States.TaskFailed',
      'submitted  2026-11-21 11:31:00Z',
      'ended      2026-11-21 11:50:00Z',
      'history:',
      '  2026-11-21 11:31:00Z  submitted',
      '  2026-11-21 11:50:00Z  failed     attempts 1, error States.TaskFailed',
    ]);
  });

  test('show of an unknown job is an error that says how to list them (exit 1)', async () => {
    const c = cli();
    expect(await c.run('jobs', 'show', 'train-run-9', '--local', lakeDir)).toBe(1);
    expect(c.out).toEqual([]);
    expect(c.err.join('\n')).toBe(`sial jobs: there is no job "train-run-9" (local run ${lakeDir}). A job's id is <kind>-<runId>; list them with: sial jobs list`);
  });

  test('a lake directory whose runs trained nothing has no jobs', async () => {
    const empty = prepareLakeDir(join(root, 'empty'), { keep: false, now: NOW }).lakeDir;
    const c = cli();
    expect(await c.run('jobs', 'list', '--local', empty)).toBe(0);
    expect(c.out).toEqual([`No jobs are recorded (local run ${empty}).`]);
  });

  test('a directory that is not a lake directory is refused (exit 1)', async () => {
    const c = cli();
    expect(await c.run('jobs', 'list', '--local', join(root, 'nowhere'))).toBe(1);
    expect(c.err.join('\n')).toMatch(/--local .*nowhere does not exist/);
  });

  test.each<[string, string[], RegExp]>([
    ['no action', ['jobs', '--local', '.'], /say what to do: list or show JOB_ID/],
    ['an unknown action', ['jobs', 'delete', 'x', '--local', '.'], /unknown action "delete"/],
    ['show without an id', ['jobs', 'show', '--local', '.'], /show needs the JOB_ID/],
    ['list with an id', ['jobs', 'list', 'train-run-2', '--local', '.'], /list takes no JOB_ID/],
    ['an unknown status', ['jobs', 'list', '--status', 'running', '--local', '.'], /--status must be one of submitted, succeeded, failed; received "running"/],
    ['--local with --stage', ['jobs', 'list', '--local', '.', '--stage', 'dev'], /--local cannot be combined with --stage/],
    ['neither --local nor a stage', ['jobs', 'list'], /name a deployed stage with --stage NAME/],
    ['an unknown option', ['jobs', 'list', '--colour'], /Unknown option '--colour'/],
  ])('%s is a usage error (exit 2) with the usage', async (_what, argv, message) => {
    const c = cli();
    expect(await c.run(...argv)).toBe(2);
    expect(c.err[0]).toMatch(message);
    expect(c.err.join('\n')).toContain('usage:\n  sial jobs list');
  });

  test('--help prints the usage (exit 0)', async () => {
    const c = cli();
    expect(await c.run('jobs', '--help')).toBe(0);
    expect(c.out.join('\n')).toMatch(/stack output JobsTableName of\s+sial-<stage>-data/);
  });
});

describe('sial jobs in AWS', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  let seen: AwsJobsBackendOptions[];
  const aws = (options: AwsJobsBackendOptions) => {
    seen.push(options);
    return awsJobsBackend({ ...options, dynamoDb: new DynamoDBClient({ region: options.region, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }) });
  };
  const TABLE = 'sial-prod-eu-data-JobsTable-ABC';
  const env = { [JOBS_TABLE_ENV]: TABLE };

  beforeEach(() => {
    ddb.reset();
    seen = [];
    // Two pages: the list reads the whole table.
    ddb.on(ScanCommand, { TableName: TABLE }).resolves({ Items: [stored(OLDER), stored(TRAIN)], LastEvaluatedKey: { jobId: 'train-run-2' } });
    ddb.on(ScanCommand, { TableName: TABLE, ExclusiveStartKey: { jobId: 'train-run-2' } }).resolves({ Items: [stored(EVAL)] });
    ddb.on(GetCommand).resolves({});
    ddb.on(GetCommand, { TableName: TABLE, Key: { jobId: 'train-run-2' } }).resolves({ Item: stored(TRAIN) });
  });

  test("list --stage: the stage's region, the table from $SIAL_JOBS_TABLE, every page of the Scan", async () => {
    const c = cli(env, aws);
    expect(await c.run('jobs', 'list', '--stage', 'prod-eu')).toBe(0);
    expect(seen).toEqual([{ tableName: TABLE, region: loadStageConfig('prod-eu').region }]);
    expect(c.out.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(['eval-run-2', 'train-run-2', 'train-run-1']);
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(2);
  });

  test('show: a consistent GetItem of the one job; an unknown job is an error naming the table (exit 1)', async () => {
    const c = cli({ [JOBS_STAGE_ENV]: 'prod-eu' }, aws);
    expect(await c.run('jobs', 'show', 'train-run-2', '--table', TABLE, '--region', 'eu-west-1')).toBe(0);
    expect(seen).toEqual([{ tableName: TABLE, region: 'eu-west-1' }]);
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toEqual({ TableName: TABLE, Key: { jobId: 'train-run-2' }, ConsistentRead: true });
    expect(c.out.slice(-3)).toEqual(['history:', '  2026-11-21 09:00:00Z  submitted', '  2026-11-21 11:30:00Z  succeeded  attempts 2, batch job batch-7']);
    const unknown = cli(env, aws);
    expect(await unknown.run('jobs', 'show', 'eval-run-9', '--stage', 'prod-eu')).toBe(1);
    expect(unknown.err.join('\n')).toContain(`there is no job "eval-run-9" (table ${TABLE} in ${loadStageConfig('prod-eu').region})`);
  });

  test('a stage without a table named is a usage error that names the stack output (exit 2)', async () => {
    const c = cli({}, aws);
    expect(await c.run('jobs', 'list', '--stage', 'prod-eu')).toBe(2);
    expect(c.err[0]).toContain(`with --table NAME or $${JOBS_TABLE_ENV} (stack output JobsTableName of sial-prod-eu-data)`);
    expect(seen).toEqual([]);
  });

  test('an item that is not a job record fails the command, naming the item (exit 1)', async () => {
    ddb.on(ScanCommand, { TableName: TABLE }).resolves({ Items: [{ jobId: 'train-run-3', status: 'running' }] });
    const c = cli(env, aws);
    expect(await c.run('jobs', 'list', '--stage', 'prod-eu')).toBe(1);
    expect(c.err[0]).toMatch(/^sial jobs: job record train-run-3 is malformed: /);
  });
});
