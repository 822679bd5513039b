import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { dev } from '../../config/stages/dev';
import type * as CheckHandlerModule from '../../lambdas/pipeline/budget/check-handler';
import type * as RecordHandlerModule from '../../lambdas/pipeline/budget/record-handler';
import { BUDGET_METRIC } from '../../lambdas/pipeline/budget/budget-metrics';
import { assessBudget } from '../../lambdas/pipeline/budget/check-budget';
import { pipelineSettingsFromStage } from '../../lambdas/pipeline/settings';
import { validateRequest } from '../../lambdas/pipeline/validate-request/validate-request';
import { lambdaContext } from '../helpers/lambda-context';

const ddb = mockClient(DynamoDBDocumentClient);
const settings = pipelineSettingsFromStage(dev, { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' });
process.env.PIPELINE_SETTINGS = JSON.stringify(settings);
process.env.LEDGER_TABLE = 'ledger-table';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'SialTest';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.POWERTOOLS_DEV = 'true';
// Dev mode turns metrics off unless this says otherwise; the test reads the EMF the handlers print.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

// Imported after the environment is set: the modules read it at load, as in Lambda.
/* eslint-disable @typescript-eslint/no-require-imports */
const check = (require('../../lambdas/pipeline/budget/check-handler') as typeof CheckHandlerModule).handler;
const record = (require('../../lambdas/pipeline/budget/record-handler') as typeof RecordHandlerModule).handler;
/* eslint-enable @typescript-eslint/no-require-imports */

const request = validateRequest({ input: { targetModelId: 'qwen3-4b', requestedBy: 'test' }, executionName: 'run-7' }, { settings, artifactBucket: 'sial-dev-artifacts', now: new Date() });
const printed: string[] = [];

/** The EMF documents printed during a test. */
function emfDocuments(): Array<Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } }> {
  return printed.flatMap((line) => {
    try {
      const doc = JSON.parse(line) as Record<string, unknown>;
      return '_aws' in doc ? [doc as never] : [];
    } catch {
      return [];
    }
  });
}

beforeEach(() => {
  ddb.reset();
  printed.length = 0;
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
  jest.spyOn(console, 'info').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  jest.spyOn(console, 'debug').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('Check GPU budget handler', () => {
  it('reads the current month, estimates both GPU jobs and publishes the usage with the Stage dimension alone', async () => {
    ddb.on(GetCommand).resolves({ Item: { usedGpuHours: 40, reservedGpuHours: 12 } });
    const result = await check({ request }, lambdaContext('check-gpu-budget'));
    // dev, 3 attempts: training 8 x (2 h + 2 retries x 0.5 h) = 24, eval 8 x 1 h x 3 attempts = 24;
    // 40 used + 12 reserved + 48 lands exactly on the 100 GPU-h ceiling.
    expect(result).toEqual(
      expect.objectContaining({ usedGpuHours: 40, reservedGpuHours: 12, estimateGpuHours: 48, trainEstimateGpuHours: 24, evalEstimateGpuHours: 24, ceilingGpuHours: 100, withinBudget: true, remainingGpuHours: 48 }),
    );
    const key = ddb.commandCalls(GetCommand)[0]!.args[0].input.Key;
    expect(key).toEqual({ pk: 'STAGE#dev', sk: `MONTH#${new Date().toISOString().slice(0, 7)}` });

    const budgetDocs = emfDocuments().filter((d) => d._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === BUDGET_METRIC.usedFraction));
    expect(budgetDocs).toHaveLength(1);
    const doc = budgetDocs[0]!;
    expect(doc._aws.CloudWatchMetrics[0]!.Namespace).toBe('SialTest');
    expect(doc._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['Stage']]);
    expect(doc.Stage).toBe('dev');
    expect(doc[BUDGET_METRIC.usedFraction]).toBeCloseTo(0.4);
    const hoursDoc = emfDocuments().find((d) => d._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === BUDGET_METRIC.usedGpuHours));
    expect(hoursDoc?.[BUDGET_METRIC.usedGpuHours]).toBe(40);
  });

  it('rejects an event without a valid request', async () => {
    await expect(check({ request: { runId: 'x' } }, lambdaContext('check-gpu-budget'))).rejects.toThrow();
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });
});

/** The month item holds `used` hours; the run reserved nothing (its reservation item is absent). */
function monthWithoutReservations(used: number): void {
  ddb.on(GetCommand).callsFake((input: { Key: { sk: string } }) => (input.Key.sk.startsWith('RESERVATION#') ? {} : { Item: { usedGpuHours: used } }));
}

describe('Record GPU hours handler', () => {
  const budget = assessBudget('2026-05', { usedGpuHours: 10, reservedGpuHours: 0 }, settings);

  it('books a failed job from the caught error and returns GpuUsage', async () => {
    const cause = JSON.stringify({
      Attempts: [
        { Container: { Reason: 'Host terminated' }, StartedAt: Date.parse('2026-05-04T10:00:00Z'), StatusReason: 'Host EC2 (instance i-0abc) terminated.', StoppedAt: Date.parse('2026-05-04T10:45:00Z') },
        { Container: { ExitCode: 69 }, StartedAt: Date.parse('2026-05-04T11:00:00Z'), StatusReason: 'Essential container in task exited', StoppedAt: Date.parse('2026-05-04T11:15:00Z') },
      ],
      JobId: 'job-9',
      JobName: 'run-7',
      Status: 'FAILED',
      StatusReason: 'Essential container in task exited',
    });
    ddb.on(TransactWriteCommand).resolves({});
    monthWithoutReservations(18);
    const usage = await record({ jobKind: 'train', request, budget, error: { Error: 'States.TaskFailed', Cause: cause } }, lambdaContext('record-gpu-hours'));
    expect(usage).toEqual({ runId: 'run-7', jobKind: 'train', month: '2026-05', attempts: 2, gpuHours: 8, monthUsedGpuHours: 18 });
    // A failed job trained no model: the cooldown is not started.
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    const runDoc = emfDocuments().find((d) => d._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === BUDGET_METRIC.runGpuHours));
    expect(runDoc?.[BUDGET_METRIC.runGpuHours]).toBe(8);
  });

  it('marks the model trained after a succeeded job', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    monthWithoutReservations(4);
    ddb.on(UpdateCommand).resolves({});
    const job = { JobId: 'job-10', Status: 'SUCCEEDED', Attempts: [{ StartedAt: Date.parse('2026-05-05T10:00:00Z'), StoppedAt: Date.parse('2026-05-05T10:30:00Z'), StatusReason: 'Essential container in task exited', Container: { ExitCode: 0 } }] };
    const usage = await record({ jobKind: 'train', request, budget, job }, lambdaContext('record-gpu-hours'));
    expect(usage).toEqual(expect.objectContaining({ gpuHours: 4, attempts: 1 }));
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues).toEqual(expect.objectContaining({ ':at': '2026-05-05T10:30:00.000Z', ':model': 'qwen3-4b' }));
  });

  it("books a succeeded eval job under the run's eval key and leaves last trained alone", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    monthWithoutReservations(12);
    const job = { JobId: 'job-11', Status: 'SUCCEEDED', Attempts: [{ StartedAt: Date.parse('2026-05-05T11:00:00Z'), StoppedAt: Date.parse('2026-05-05T11:15:00Z'), StatusReason: 'Essential container in task exited', Container: { ExitCode: 0 } }] };
    const usage = await record({ jobKind: 'eval', request, budget, job }, lambdaContext('record-gpu-hours'));
    expect(usage).toEqual({ runId: 'run-7', jobKind: 'eval', month: '2026-05', attempts: 1, gpuHours: 2, monthUsedGpuHours: 12 });
    const put = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Put!;
    expect(put.Item).toEqual(expect.objectContaining({ pk: 'STAGE#dev', sk: 'RUN#run-7#EVAL', jobKind: 'eval', jobId: 'job-11' }));
    // An eval job trains nothing: no last-trained update, so the cooldown is the training job's.
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    const runDoc = emfDocuments().find((d) => d._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === BUDGET_METRIC.runGpuHours));
    expect(runDoc?.[BUDGET_METRIC.runGpuHours]).toBe(2);
  });

  it('refuses an event with both a job and an error', async () => {
    await expect(record({ request, budget, job: {}, error: { Error: 'x' } }, lambdaContext('record-gpu-hours'))).rejects.toThrow(/exactly one of/);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});

describe('Release of an execution that ended without a release state (the EventBridge rule)', () => {
  const reservationKey = { pk: 'STAGE#dev', sk: 'RESERVATION#run-7' };
  const held = { ...reservationKey, type: 'reservation', stage: 'dev', runId: 'run-7', month: '2026-05', reservedGpuHours: 48, remainingGpuHours: 30, convertedJobs: ['train'], status: 'held', overCeilingApproved: false, reservedAt: '2026-05-03T10:00:00.000Z' };

  it('gives back what a stopped run still holds and leaves its booked hours alone; a second release changes nothing', async () => {
    ddb.on(GetCommand, { Key: reservationKey }).resolvesOnce({ Item: held }).resolves({ Item: { ...held, remainingGpuHours: 0, status: 'released' } });
    ddb.on(TransactWriteCommand).resolves({});
    // The input the rule builds from an ABORTED status change (see the construct test).
    await expect(record({ operation: 'release', executionName: 'run-7', endedAs: 'ABORTED' }, lambdaContext('record-gpu-hours'))).resolves.toEqual({ runId: 'run-7', releasedGpuHours: 30 });
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items[0]!.Put).toMatchObject({ Item: { ...reservationKey, status: 'released', remainingGpuHours: 0, reservedGpuHours: 48, convertedJobs: ['train'] } });
    // Only the month's reserved hours go down, by what was still held: usedGpuHours is not touched.
    expect(items[1]!.Update).toMatchObject({ Key: { pk: 'STAGE#dev', sk: 'MONTH#2026-05' }, UpdateExpression: 'ADD reservedGpuHours :hours SET updatedAt = :now', ExpressionAttributeValues: { ':hours': -30 } });
    expect(items).toHaveLength(2);
    // The same run also failed through the failure path (or the event came twice): nothing more.
    await expect(record({ operation: 'release', executionName: 'run-7', endedAs: 'FAILED' }, lambdaContext('record-gpu-hours'))).resolves.toEqual({ runId: 'run-7', releasedGpuHours: 0 });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('derives the run id from the execution name as Validate request does', async () => {
    ddb.on(GetCommand).resolves({});
    const result = await record({ operation: 'release', executionName: 'run 7', endedAs: 'TIMED_OUT' }, lambdaContext('record-gpu-hours'));
    expect(result).toEqual({ runId: expect.stringMatching(/^run-7-[0-9a-f]{8}$/), releasedGpuHours: 0 });
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input.Key).toEqual({ pk: 'STAGE#dev', sk: `RESERVATION#${(result as { runId: string }).runId}` });
  });

  it('refuses an end status that is not a string', async () => {
    await expect(record({ operation: 'release', executionName: 'run-7', endedAs: 3 }, lambdaContext('record-gpu-hours'))).rejects.toThrow(/endedAs/);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });
});
