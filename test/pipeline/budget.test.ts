import { dev } from '../../config/stages/dev';
import type { BudgetCheck, ValidatedRequest } from '../../lambdas/pipeline/contracts';
import { gpuUsageSchema } from '../../lambdas/pipeline/contracts';
import { attemptSpans, batchJobDescriptionSchema, batchJobOutcome } from '../../lambdas/pipeline/budget/batch-job';
import { assessBudget, checkGpuBudget, MIN_JOB_TIMEOUT_SECONDS } from '../../lambdas/pipeline/budget/check-budget';
import { gpuHoursByMonth } from '../../lambdas/pipeline/budget/gpu-hours';
import { InMemoryLedger } from '../../lambdas/pipeline/budget/in-memory-ledger';
import { utcMonth } from '../../lambdas/pipeline/budget/ledger';
import { recordGpuHours, recordGpuHoursEventSchema, type RecordGpuHoursEvent } from '../../lambdas/pipeline/budget/record-gpu-hours';
import { pipelineSettingsFromStage } from '../../lambdas/pipeline/settings';
import { validateRequest } from '../../lambdas/pipeline/validate-request/validate-request';

const settings = pipelineSettingsFromStage(dev, { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' });
// One attempt (no Spot retry) unless a test says otherwise: the estimate is then the jobs' bounds alone.
const rules = (ceiling: number, maxJobHours = 12, gpusPerJob = 8, maxEvalJobHours = 2, attempts = 1, checkpointIntervalHours?: number) => ({
  gpuBudget: { monthlyCeilingGpuHours: ceiling, alarmAtFraction: 0.8 },
  training: { maxJobHours, maxEvalJobHours, gpusPerJob, attempts, ...(checkpointIntervalHours === undefined ? {} : { checkpointIntervalHours }) },
});
const used = (usedGpuHours: number, reservedGpuHours = 0) => ({ usedGpuHours, reservedGpuHours });
const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);

/** A Batch job description as Step Functions returns it from submitJob.sync (PascalCase, epoch ms). */
function jobDescription(status: 'SUCCEEDED' | 'FAILED', attempts: Array<{ start: string; stop?: string; reason: string; exitCode?: number }>) {
  const last = attempts[attempts.length - 1];
  return {
    Attempts: attempts.map((a) => ({
      Container: {
        ContainerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/abc',
        ...(a.exitCode === undefined ? { Reason: 'Host terminated' } : { ExitCode: a.exitCode }),
        LogStreamName: 'sial-train/default/abc',
        NetworkInterfaces: [],
        TaskArn: 'arn:aws:ecs:us-east-1:123456789012:task/abc',
      },
      StartedAt: at(a.start),
      ...(a.stop === undefined ? {} : { StoppedAt: at(a.stop) }),
      StatusReason: a.reason,
    })),
    Container: { Command: [], Environment: [{ Name: 'SIAL_MODE', Value: 'train' }], ExitCode: last?.exitCode, Image: 'train:latest', Vcpus: 192, ResourceRequirements: [{ Type: 'GPU', Value: '8' }] },
    CreatedAt: at(attempts[0]!.start) - 60_000,
    DependsOn: [],
    JobArn: 'arn:aws:batch:us-east-1:123456789012:job/4f1c',
    JobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/sial-train:3',
    JobId: '4f1c',
    JobName: 'run-1',
    JobQueue: 'arn:aws:batch:us-east-1:123456789012:job-queue/sial-train',
    Parameters: {},
    RetryStrategy: { Attempts: 3, EvaluateOnExit: [{ Action: 'RETRY', OnStatusReason: 'Host EC2*' }, { Action: 'EXIT', OnReason: '*' }] },
    StartedAt: last === undefined ? undefined : at(last.start),
    Status: status,
    StatusReason: last?.reason,
    StoppedAt: last?.stop === undefined ? undefined : at(last.stop),
    Tags: {},
    Timeout: { AttemptDurationSeconds: 43200 },
  };
}

const SPOT = 'Host EC2 (instance i-0abc1234) terminated.';
const EXITED = 'Essential container in task exited';

function request(runId = 'run-1'): ValidatedRequest {
  return validateRequest({ input: { targetModelId: 'qwen3-4b', requestedBy: 'test' }, executionName: runId }, { settings, artifactBucket: 'sial-dev-artifacts', now: new Date('2026-05-01T00:00:00Z') });
}
const budget: BudgetCheck = assessBudget('2026-05', used(0), settings);

describe('assessBudget', () => {
  it('estimates both GPU jobs, (maxJobHours + maxEvalJobHours) x gpusPerJob, and is within budget when used + estimate stays under the ceiling', () => {
    expect(assessBudget('2026-05', used(500), rules(1000))).toEqual({
      month: '2026-05',
      usedGpuHours: 500,
      reservedGpuHours: 0,
      estimateGpuHours: 112,
      trainEstimateGpuHours: 96,
      evalEstimateGpuHours: 16,
      ceilingGpuHours: 1000,
      withinBudget: true,
      remainingGpuHours: 500,
      jobTimeoutSeconds: 12 * 3600,
    });
  });

  it('is over budget when the training job would fit but the eval job would cross the ceiling', () => {
    const check = assessBudget('2026-05', used(900), rules(1000));
    expect(900 + check.trainEstimateGpuHours).toBeLessThanOrEqual(1000);
    expect(check).toEqual(expect.objectContaining({ withinBudget: false, estimateGpuHours: 112 }));
  });

  it('takes the eval bound from its own setting, not from the training maximum', () => {
    expect(assessBudget('2026-05', used(0), rules(1000, 12, 8, 0.5))).toEqual(expect.objectContaining({ trainEstimateGpuHours: 96, evalEstimateGpuHours: 4, estimateGpuHours: 100 }));
    expect(assessBudget('2026-05', used(0), rules(1000, 12, 4, 3))).toEqual(expect.objectContaining({ trainEstimateGpuHours: 48, evalEstimateGpuHours: 12, estimateGpuHours: 60 }));
  });

  it('is within budget exactly at the ceiling, and not one GPU-second above it', () => {
    expect(assessBudget('2026-05', used(888), rules(1000)).withinBudget).toBe(true);
    expect(assessBudget('2026-05', used(888.0003), rules(1000)).withinBudget).toBe(false);
  });

  it('is not fooled by floating-point sums of booked hours', () => {
    // 0.1 + 0.2 style noise must not push a run that fits exactly over the ceiling.
    const sum = [887.7, 0.1, 0.2].reduce((a, b) => a + b, 0);
    expect(sum + 112).toBeGreaterThan(1000);
    expect(assessBudget('2026-05', used(sum), rules(1000)).withinBudget).toBe(true);
  });

  it('keeps the full timeout over budget (a FinOps approval approves the full estimate) and reports the deficit', () => {
    const check = assessBudget('2026-05', used(990), rules(1000));
    expect(check).toEqual(expect.objectContaining({ withinBudget: false, remainingGpuHours: 10, jobTimeoutSeconds: 12 * 3600 }));
    expect(assessBudget('2026-05', used(1200), rules(1000)).remainingGpuHours).toBe(-200);
  });

  it('never hands out a training timeout above what the remaining hours pay for, after the eval job\'s bound, when within budget', () => {
    for (const hours of [0, 250, 887.5, 888]) {
      const check = assessBudget('2026-05', used(hours), rules(1000));
      expect(check.withinBudget).toBe(true);
      expect(check.jobTimeoutSeconds).toBeLessThanOrEqual(Math.floor(((check.remainingGpuHours - check.evalEstimateGpuHours) / 8) * 3600));
      expect(check.jobTimeoutSeconds).toBeGreaterThanOrEqual(MIN_JOB_TIMEOUT_SECONDS);
    }
  });

  it('adds the work Spot reclaims can lose: each retry the stage allows costs a checkpoint interval of training and a whole eval attempt', () => {
    // 3 attempts = 2 retries; training resumes from a checkpoint (default interval 0.5 h), eval starts over.
    expect(assessBudget('2026-05', used(0), rules(1000, 12, 8, 2, 3))).toEqual(
      expect.objectContaining({ trainEstimateGpuHours: 8 * (12 + 2 * 0.5), evalEstimateGpuHours: 8 * 2 * 3, estimateGpuHours: 104 + 48 }),
    );
    expect(assessBudget('2026-05', used(0), rules(1000, 2, 8, 1, 2, 0.25)).trainEstimateGpuHours).toBe(18);
  });

  it('covers the booked run with one reclaim that the bare job bound did not (16 GPU-h estimated, 18 booked)', () => {
    // 2 h x 8 GPUs of training; one reclaim lost 15 minutes since the last checkpoint: 18 GPU-h were booked.
    const bare = assessBudget('2026-05', used(0), rules(1000, 2, 8, 1, 1));
    const withRetry = assessBudget('2026-05', used(0), rules(1000, 2, 8, 1, 2, 0.25));
    expect(bare.trainEstimateGpuHours).toBe(16);
    expect(withRetry.trainEstimateGpuHours).toBeGreaterThanOrEqual(18);
  });

  it('counts the hours other runs hold in reservations like used hours', () => {
    expect(assessBudget('2026-05', used(500, 388), rules(1000))).toEqual(expect.objectContaining({ withinBudget: true, reservedGpuHours: 388, remainingGpuHours: 112 }));
    expect(assessBudget('2026-05', used(500, 389), rules(1000))).toEqual(expect.objectContaining({ withinBudget: false, remainingGpuHours: 111 }));
  });

  it('floors at the configured maximum when that is shorter than the minimum', () => {
    expect(assessBudget('2026-05', used(0), rules(1000, 0.25)).jobTimeoutSeconds).toBe(900);
  });
});

describe('checkGpuBudget', () => {
  it('reads the current UTC month only: last month\'s usage does not count after midnight UTC on the 1st', async () => {
    const ledger = new InMemoryLedger();
    ledger.seedMonth('dev', '2026-04', 99);
    const lastMinuteOfApril = await checkGpuBudget(ledger, 'dev', settings, new Date('2026-04-30T23:59:59.999Z'));
    const firstMinuteOfMay = await checkGpuBudget(ledger, 'dev', settings, new Date('2026-05-01T00:00:00.000Z'));
    expect(lastMinuteOfApril).toEqual(expect.objectContaining({ month: '2026-04', usedGpuHours: 99, withinBudget: false }));
    expect(firstMinuteOfMay).toEqual(expect.objectContaining({ month: '2026-05', usedGpuHours: 0, withinBudget: true }));
  });

  it('uses UTC, not the local time zone, for the month', () => {
    expect(utcMonth(new Date('2026-05-31T23:30:00-02:00'))).toBe('2026-06');
  });
});

describe('batchJobOutcome', () => {
  it('reads a succeeded job from the Train result', () => {
    const job = jobDescription('SUCCEEDED', [{ start: '2026-05-04T10:00:00Z', stop: '2026-05-04T11:30:00Z', reason: EXITED, exitCode: 0 }]);
    const outcome = batchJobOutcome({ job }, Date.now());
    expect(outcome).toEqual({
      kind: 'job',
      status: 'SUCCEEDED',
      jobId: '4f1c',
      attempts: 1,
      spans: [{ startedAt: at('2026-05-04T10:00:00Z'), stoppedAt: at('2026-05-04T11:30:00Z'), spotReclaimed: false, statusReason: EXITED, exitCode: 0 }],
      statusReason: EXITED,
    });
  });

  it('parses a failed job from the caught error, whose Cause is the job description as a JSON string', () => {
    const job = jobDescription('FAILED', [
      { start: '2026-05-04T10:00:00Z', stop: '2026-05-04T12:00:00Z', reason: SPOT },
      { start: '2026-05-04T12:10:00Z', stop: '2026-05-04T12:20:00Z', reason: EXITED, exitCode: 1 },
    ]);
    const outcome = batchJobOutcome({ error: { Error: 'States.TaskFailed', Cause: JSON.stringify(job) } }, Date.now());
    expect(outcome.kind).toBe('job');
    if (outcome.kind !== 'job') return;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.attempts).toBe(2);
    expect(outcome.spans.map((s) => s.spotReclaimed)).toEqual([true, false]);
    expect(outcome.spans[1]).toEqual(expect.objectContaining({ exitCode: 1 }));
  });

  it('knows a refused SubmitJob (Batch.* error, plain-text cause) started nothing', () => {
    expect(batchJobOutcome({ error: { Error: 'Batch.ClientException', Cause: 'JobQueue sial-train not found (Service: Batch; Status Code: 400)' } }, 0)).toEqual({
      kind: 'not-started',
      error: 'Batch.ClientException',
      cause: 'JobQueue sial-train not found (Service: Batch; Status Code: 400)',
    });
  });

  it('calls a timeout without a job description unknown', () => {
    expect(batchJobOutcome({ error: { Error: 'States.Timeout' } }, 0)).toEqual({ kind: 'unknown', error: 'States.Timeout' });
    expect(batchJobOutcome({ error: { Error: 'States.TaskFailed', Cause: '{"not":"a job"}' } }, 0).kind).toBe('unknown');
  });

  it('refuses a Train result that is not a job description', () => {
    expect(() => batchJobOutcome({ job: { Payload: {} } }, 0)).toThrow(/not a Batch job description: Status/);
  });

  it('skips attempts that never started and charges an unfinished attempt up to the job stop, else now', () => {
    const job = batchJobDescriptionSchema.parse({
      Status: 'FAILED',
      StoppedAt: at('2026-05-04T12:00:00Z'),
      Attempts: [{ StatusReason: 'CannotPullContainerError' }, { StartedAt: at('2026-05-04T11:00:00Z') }],
    });
    expect(attemptSpans(job, 0)).toEqual([{ startedAt: at('2026-05-04T11:00:00Z'), stoppedAt: at('2026-05-04T12:00:00Z'), spotReclaimed: false }]);
    const noStop = batchJobDescriptionSchema.parse({ Status: 'FAILED', Attempts: [{ StartedAt: 1000 }] });
    expect(attemptSpans(noStop, 1000 + HOUR)).toEqual([{ startedAt: 1000, stoppedAt: 1000 + HOUR, spotReclaimed: false }]);
  });
});

describe('gpuHoursByMonth', () => {
  it('multiplies wall time by the GPUs held', () => {
    expect(gpuHoursByMonth([{ startedAt: at('2026-05-04T10:00:00Z'), stoppedAt: at('2026-05-04T11:30:00Z'), spotReclaimed: false }], 8)).toEqual({ '2026-05': 12 });
  });

  it('splits a run that crosses a month boundary at midnight UTC', () => {
    const spans = [{ startedAt: at('2026-04-30T22:00:00Z'), stoppedAt: at('2026-05-01T01:00:00Z'), spotReclaimed: false }];
    expect(gpuHoursByMonth(spans, 8)).toEqual({ '2026-04': 16, '2026-05': 8 });
  });

  it('counts a Spot-reclaimed attempt as well as the attempt that finished', () => {
    const spans = [
      { startedAt: at('2026-05-04T10:00:00Z'), stoppedAt: at('2026-05-04T12:00:00Z'), spotReclaimed: true },
      { startedAt: at('2026-05-04T12:30:00Z'), stoppedAt: at('2026-05-04T13:00:00Z'), spotReclaimed: false },
    ];
    expect(gpuHoursByMonth(spans, 8)).toEqual({ '2026-05': 20 });
  });
});

describe('recordGpuHours', () => {
  const deps = (ledger: InMemoryLedger, now = new Date('2026-05-04T14:00:00Z')) => ({ ledger, gpusPerJob: 8, now });
  /** The booking states' input: the training job's (`Record GPU hours*`) unless told otherwise. */
  const event = (fields: { job?: unknown; error?: RecordGpuHoursEvent['error'] }, runId = 'run-1', jobKind: RecordGpuHoursEvent['jobKind'] = 'train'): RecordGpuHoursEvent => ({
    jobKind,
    request: request(runId),
    budget,
    ...fields,
  });

  it('books every attempt of a job that succeeded after a Spot reclaim and marks the model trained', async () => {
    const ledger = new InMemoryLedger();
    ledger.seedMonth('dev', '2026-05', 30);
    const job = jobDescription('SUCCEEDED', [
      { start: '2026-05-04T10:00:00Z', stop: '2026-05-04T11:00:00Z', reason: SPOT },
      { start: '2026-05-04T11:15:00Z', stop: '2026-05-04T12:45:00Z', reason: EXITED, exitCode: 0 },
    ]);
    const result = await recordGpuHours(event({ job }), deps(ledger));
    expect(gpuUsageSchema.parse(result.usage)).toEqual({ runId: 'run-1', jobKind: 'train', month: '2026-05', attempts: 2, gpuHours: 20, monthUsedGpuHours: 50 });
    expect(result.run).toEqual(expect.objectContaining({ jobKind: 'train', spotReclaims: 1, jobStatus: 'SUCCEEDED', source: 'batch-attempts', jobId: '4f1c' }));
    expect(await ledger.lastTrainedAt('qwen3-4b')).toEqual(new Date('2026-05-04T12:45:00Z'));
  });

  it('books a failed job from its error Cause and does not start the cooldown', async () => {
    const ledger = new InMemoryLedger();
    const job = jobDescription('FAILED', [{ start: '2026-05-04T10:00:00Z', stop: '2026-05-04T10:30:00Z', reason: EXITED, exitCode: 69 }]);
    const result = await recordGpuHours(event({ error: { Error: 'States.TaskFailed', Cause: JSON.stringify(job) } }), deps(ledger));
    expect(result.usage).toEqual({ runId: 'run-1', jobKind: 'train', month: '2026-05', attempts: 1, gpuHours: 4, monthUsedGpuHours: 4 });
    expect(result.run.jobStatus).toBe('FAILED');
    expect(await ledger.lastTrainedAt('qwen3-4b')).toBeUndefined();
  });

  it('is idempotent: a retried invocation books nothing more and returns the first booking', async () => {
    const ledger = new InMemoryLedger();
    const job = jobDescription('SUCCEEDED', [{ start: '2026-05-04T10:00:00Z', stop: '2026-05-04T11:00:00Z', reason: EXITED, exitCode: 0 }]);
    const first = await recordGpuHours(event({ job }), deps(ledger));
    const retry = await recordGpuHours(event({ job }), deps(ledger, new Date('2026-05-04T14:05:00Z')));
    expect(first.recorded).toBe(true);
    expect(retry.recorded).toBe(false);
    expect(retry.usage).toEqual(first.usage);
    expect(await ledger.monthUsage('dev', '2026-05')).toBe(8);
    expect(ledger.bookedRuns()).toHaveLength(1);
  });

  it('books each month its share of a run that crossed the month boundary, and reports the month it ended in', async () => {
    const ledger = new InMemoryLedger();
    const job = jobDescription('SUCCEEDED', [{ start: '2026-04-30T23:00:00Z', stop: '2026-05-01T00:30:00Z', reason: EXITED, exitCode: 0 }]);
    const result = await recordGpuHours(event({ job }), deps(ledger, new Date('2026-05-01T00:31:00Z')));
    expect(result.run.gpuHoursByMonth).toEqual({ '2026-04': 8, '2026-05': 4 });
    expect(result.usage).toEqual(expect.objectContaining({ month: '2026-05', gpuHours: 12, monthUsedGpuHours: 4 }));
    expect(await ledger.monthUsage('dev', '2026-04')).toBe(8);
  });

  it("books nothing for a job that was never created, and the training job's share of the estimate when usage is unknown", async () => {
    const ledger = new InMemoryLedger();
    const notStarted = await recordGpuHours(event({ error: { Error: 'Batch.ClientException', Cause: 'queue not found' } }, 'run-a'), deps(ledger));
    expect(notStarted.usage).toEqual(expect.objectContaining({ gpuHours: 0, attempts: 0 }));
    expect(notStarted.run.source).toBe('not-started');
    const unknown = await recordGpuHours(event({ error: { Error: 'States.Timeout' } }, 'run-b'), deps(ledger));
    // The whole estimate also holds the eval job's bound, which is booked (or charged) on its own.
    expect(budget.estimateGpuHours).toBeGreaterThan(budget.trainEstimateGpuHours);
    expect(unknown.run).toEqual(expect.objectContaining({ source: 'estimate', gpuHours: budget.trainEstimateGpuHours, jobStatus: 'UNKNOWN' }));
    expect(await ledger.monthUsage('dev', '2026-05')).toBe(budget.trainEstimateGpuHours);
  });

  it('never moves last-trained backwards when runs are booked out of order', async () => {
    const ledger = new InMemoryLedger();
    const later = jobDescription('SUCCEEDED', [{ start: '2026-05-10T10:00:00Z', stop: '2026-05-10T11:00:00Z', reason: EXITED, exitCode: 0 }]);
    const earlier = jobDescription('SUCCEEDED', [{ start: '2026-05-03T10:00:00Z', stop: '2026-05-03T11:00:00Z', reason: EXITED, exitCode: 0 }]);
    await recordGpuHours(event({ job: later }, 'run-late'), deps(ledger));
    await recordGpuHours(event({ job: earlier }, 'run-early'), deps(ledger));
    expect(await ledger.lastTrainedAt('qwen3-4b')).toEqual(new Date('2026-05-10T11:00:00Z'));
  });

  it('accepts exactly one of job and error', () => {
    const base = { jobKind: 'eval', request: request(), budget };
    expect(recordGpuHoursEventSchema.safeParse({ ...base }).success).toBe(false);
    expect(recordGpuHoursEventSchema.safeParse({ ...base, job: {}, error: { Error: 'x' } }).success).toBe(false);
    expect(recordGpuHoursEventSchema.safeParse({ ...base, error: { Error: 'States.TaskFailed', Cause: '{}' } }).success).toBe(true);
    expect(recordGpuHoursEventSchema.safeParse({ ...base, jobKind: 'serve', error: { Error: 'x' } }).success).toBe(false);
  });

  it('books the training job of an execution started before eval jobs were booked (no jobKind, no split of the estimate)', async () => {
    const ledger = new InMemoryLedger();
    const { trainEstimateGpuHours: _train, evalEstimateGpuHours: _eval, ...olderBudget } = budget;
    const older = recordGpuHoursEventSchema.parse({ request: request(), budget: { ...olderBudget, estimateGpuHours: 16 }, error: { Error: 'States.Timeout' } });
    expect(older.jobKind).toBe('train');
    const result = await recordGpuHours(older, deps(ledger));
    // That definition's estimate was the training job's alone: it is what the job was allowed.
    expect(result.run).toEqual(expect.objectContaining({ jobKind: 'train', source: 'estimate', gpuHours: 16 }));
  });
});

describe('recordGpuHours of the eval job', () => {
  const deps = (ledger: InMemoryLedger, now = new Date('2026-05-04T16:00:00Z')) => ({ ledger, gpusPerJob: 8, now });
  const evalEvent = (fields: { job?: unknown; error?: RecordGpuHoursEvent['error'] }): RecordGpuHoursEvent => ({ jobKind: 'eval', request: request(), budget, ...fields });
  const trainEvent = (job: unknown): RecordGpuHoursEvent => ({ jobKind: 'train', request: request(), budget, job });
  const trained = jobDescription('SUCCEEDED', [{ start: '2026-05-04T10:00:00Z', stop: '2026-05-04T12:00:00Z', reason: EXITED, exitCode: 0 }]);
  const evaluated = jobDescription('SUCCEEDED', [{ start: '2026-05-04T12:10:00Z', stop: '2026-05-04T12:40:00Z', reason: EXITED, exitCode: 0 }]);

  it('books a succeeded eval job as its own item next to the training job, and the month holds both', async () => {
    const ledger = new InMemoryLedger();
    await recordGpuHours(trainEvent(trained), deps(ledger));
    const result = await recordGpuHours(evalEvent({ job: evaluated }), deps(ledger));
    expect(gpuUsageSchema.parse(result.usage)).toEqual({ runId: 'run-1', jobKind: 'eval', month: '2026-05', attempts: 1, gpuHours: 4, monthUsedGpuHours: 20 });
    expect(result.recorded).toBe(true);
    expect(ledger.bookedRuns().map((r) => [r.runId, r.jobKind, r.gpuHours])).toEqual([
      ['run-1', 'train', 16],
      ['run-1', 'eval', 4],
    ]);
  });

  it('never marks the model trained: the cooldown runs from the training job, and an eval alone starts none', async () => {
    const evalOnly = new InMemoryLedger();
    await recordGpuHours(evalEvent({ job: evaluated }), deps(evalOnly));
    expect(await evalOnly.lastTrainedAt('qwen3-4b')).toBeUndefined();

    const both = new InMemoryLedger();
    await recordGpuHours(trainEvent(trained), deps(both));
    await recordGpuHours(evalEvent({ job: evaluated }), deps(both));
    expect(await both.lastTrainedAt('qwen3-4b')).toEqual(new Date('2026-05-04T12:00:00Z'));
  });

  it('books every attempt of a failed eval job from the caught error, Spot reclaim included', async () => {
    const ledger = new InMemoryLedger();
    const failed = jobDescription('FAILED', [
      { start: '2026-05-04T12:10:00Z', stop: '2026-05-04T12:25:00Z', reason: SPOT },
      { start: '2026-05-04T12:30:00Z', stop: '2026-05-04T12:45:00Z', reason: EXITED, exitCode: 1 },
    ]);
    const result = await recordGpuHours(evalEvent({ error: { Error: 'States.TaskFailed', Cause: JSON.stringify(failed) } }), deps(ledger));
    expect(result.usage).toEqual({ runId: 'run-1', jobKind: 'eval', month: '2026-05', attempts: 2, gpuHours: 4, monthUsedGpuHours: 4 });
    expect(result.run).toEqual(expect.objectContaining({ jobKind: 'eval', jobStatus: 'FAILED', spotReclaims: 1, source: 'batch-attempts' }));
    expect(await ledger.lastTrainedAt('qwen3-4b')).toBeUndefined();
  });

  it('books 0 h for an eval job that was never created, and the eval share of the estimate when usage is unknown', async () => {
    const ledger = new InMemoryLedger();
    const notStarted = await recordGpuHours(evalEvent({ error: { Error: 'Batch.ClientException', Cause: 'job definition not found' } }), deps(ledger));
    expect(notStarted.run).toEqual(expect.objectContaining({ jobKind: 'eval', gpuHours: 0, attempts: 0, jobStatus: 'NOT_STARTED', source: 'not-started' }));
    expect(await ledger.monthUsage('dev', '2026-05')).toBe(0);

    const other = new InMemoryLedger();
    const unknown = await recordGpuHours(evalEvent({ error: { Error: 'States.Runtime' } }), deps(other));
    expect(unknown.run).toEqual(expect.objectContaining({ jobKind: 'eval', source: 'estimate', gpuHours: budget.evalEstimateGpuHours, jobStatus: 'UNKNOWN' }));
  });

  it('is idempotent per job: retried bookings of both jobs add nothing and return the first figures', async () => {
    const ledger = new InMemoryLedger();
    const train = await recordGpuHours(trainEvent(trained), deps(ledger));
    const evaluation = await recordGpuHours(evalEvent({ job: evaluated }), deps(ledger));
    const trainRetry = await recordGpuHours(trainEvent(trained), deps(ledger, new Date('2026-05-04T16:05:00Z')));
    const evalRetry = await recordGpuHours(evalEvent({ job: evaluated }), deps(ledger, new Date('2026-05-04T16:05:00Z')));
    expect([train.recorded, evaluation.recorded, trainRetry.recorded, evalRetry.recorded]).toEqual([true, true, false, false]);
    expect(evalRetry.usage).toEqual(evaluation.usage);
    expect(trainRetry.usage.jobKind).toBe('train');
    expect(ledger.bookedRuns()).toHaveLength(2);
    expect(await ledger.monthUsage('dev', '2026-05')).toBe(20);
  });
});
