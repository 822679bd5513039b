import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbLedger, LEDGER_KEYS } from '../../lambdas/pipeline/budget/dynamodb-ledger';
import type { GpuRunRecord } from '../../lambdas/pipeline/budget/ledger';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(DynamoDBDocumentClient);
const sleeps: number[] = [];
const ledger = new DynamoDbLedger(documentClient, 'ledger-table', { sleep: async (ms) => void sleeps.push(ms) });

const run: GpuRunRecord = {
  stage: 'dev',
  runId: 'run-1',
  jobKind: 'train',
  targetModelId: 'qwen3-4b',
  month: '2026-05',
  gpuHours: 24,
  gpuHoursByMonth: { '2026-04': 16, '2026-05': 8 },
  attempts: 2,
  spotReclaims: 1,
  jobStatus: 'SUCCEEDED',
  source: 'batch-attempts',
  gpusPerJob: 8,
  jobId: '4f1c',
  recordedAt: '2026-05-01T00:31:00.000Z',
};

function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({ message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`, $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
}

beforeEach(() => {
  ddb.reset();
  sleeps.length = 0;
});

describe('DynamoDbLedger.recordRun', () => {
  it('writes the run item with a not-exists condition and ADDs each month in one transaction', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand, { Key: LEDGER_KEYS.month('dev', '2026-05') }).resolves({ Item: { usedGpuHours: 58 } });
    const outcome = await ledger.recordRun(run);
    expect(outcome).toEqual({ recorded: true, run, monthUsedGpuHours: 58 });

    const [call] = ddb.commandCalls(TransactWriteCommand);
    const items = call!.args[0].input.TransactItems!;
    expect(items).toHaveLength(3);
    expect(items[0]!.Put).toEqual({
      TableName: 'ledger-table',
      Item: { pk: 'STAGE#dev', sk: 'RUN#run-1', type: 'run', ...run },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(items.slice(1).map((i) => i.Update)).toEqual([
      {
        TableName: 'ledger-table',
        Key: { pk: 'STAGE#dev', sk: 'MONTH#2026-04' },
        UpdateExpression: 'ADD usedGpuHours :hours, runCount :one, ledgerRevision :one SET updatedAt = :now',
        ExpressionAttributeValues: { ':hours': 16, ':one': 1, ':now': '2026-05-01T00:31:00.000Z' },
      },
      {
        TableName: 'ledger-table',
        Key: { pk: 'STAGE#dev', sk: 'MONTH#2026-05' },
        UpdateExpression: 'ADD usedGpuHours :hours, runCount :one, ledgerRevision :one SET updatedAt = :now',
        ExpressionAttributeValues: { ':hours': 8, ':one': 1, ':now': '2026-05-01T00:31:00.000Z' },
      },
    ]);
    // The month total is read strongly consistent, so it includes the hours just added.
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toEqual({ TableName: 'ledger-table', Key: { pk: 'STAGE#dev', sk: 'MONTH#2026-05' }, ConsistentRead: true });
  });

  it('leaves an absent optional field out of the item (DynamoDB cannot store undefined)', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({});
    const { jobId: _jobId, ...withoutJob } = run;
    await ledger.recordRun({ ...withoutJob, gpuHours: 0, gpuHoursByMonth: {}, jobStatus: 'NOT_STARTED', source: 'not-started', attempts: 0, spotReclaims: 0 });
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items).toHaveLength(1);
    expect(Object.keys(items[0]!.Put!.Item!)).not.toContain('jobId');
  });

  it('adds nothing for a run already booked (a retried Lambda) and returns the stored booking', async () => {
    const stored = { ...run, gpuHours: 20, gpuHoursByMonth: { '2026-05': 20 }, recordedAt: '2026-05-01T00:30:00.000Z' };
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));
    ddb.on(GetCommand, { Key: LEDGER_KEYS.run('dev', 'run-1', 'train') }).resolves({ Item: { pk: 'STAGE#dev', sk: 'RUN#run-1', type: 'run', ...stored } });
    ddb.on(GetCommand, { Key: LEDGER_KEYS.month('dev', '2026-05') }).resolves({ Item: { usedGpuHours: 70 } });
    const outcome = await ledger.recordRun(run);
    expect(outcome).toEqual({ recorded: false, run: stored, monthUsedGpuHours: 70 });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("books a run's eval job as its own item, adding its hours but not another run to the months", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({ Item: { usedGpuHours: 62 } });
    const evalJob: GpuRunRecord = { ...run, jobKind: 'eval', gpuHours: 4, gpuHoursByMonth: { '2026-05': 4 }, attempts: 1, spotReclaims: 0, jobId: 'e7a2' };
    await ledger.recordRun(evalJob);
    const [put, ...months] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    // Its own key next to the training job's RUN#run-1, under the same not-exists condition.
    expect(put!.Put).toMatchObject({ Item: { pk: 'STAGE#dev', sk: 'RUN#run-1#EVAL', jobKind: 'eval' }, ConditionExpression: 'attribute_not_exists(pk)' });
    expect(months.map((m) => [m.Update!.Key, m.Update!.UpdateExpression, m.Update!.ExpressionAttributeValues])).toEqual([
      [{ pk: 'STAGE#dev', sk: 'MONTH#2026-05' }, 'ADD usedGpuHours :hours, ledgerRevision :one SET updatedAt = :now', { ':hours': 4, ':now': '2026-05-01T00:31:00.000Z', ':one': 1 }],
    ]);
  });

  it('returns the stored eval booking on a retry, read from the eval key, not the training one', async () => {
    const evalJob: GpuRunRecord = { ...run, jobKind: 'eval', gpuHours: 4, gpuHoursByMonth: { '2026-05': 4 } };
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    ddb.on(GetCommand, { Key: LEDGER_KEYS.run('dev', 'run-1', 'eval') }).resolves({ Item: { pk: 'STAGE#dev', sk: 'RUN#run-1#EVAL', type: 'run', ...evalJob } });
    ddb.on(GetCommand, { Key: LEDGER_KEYS.month('dev', '2026-05') }).resolves({ Item: { usedGpuHours: 70 } });
    expect(await ledger.recordRun(evalJob)).toEqual({ recorded: false, run: evalJob, monthUsedGpuHours: 70 });
  });

  it('reads a training item booked before eval jobs were booked (no jobKind) as a training job', async () => {
    const { jobKind: _kind, ...olderItem } = run;
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));
    ddb.on(GetCommand, { Key: LEDGER_KEYS.run('dev', 'run-1', 'train') }).resolves({ Item: { pk: 'STAGE#dev', sk: 'RUN#run-1', type: 'run', ...olderItem } });
    ddb.on(GetCommand, { Key: LEDGER_KEYS.month('dev', '2026-05') }).resolves({ Item: { usedGpuHours: 70 } });
    expect((await ledger.recordRun(run)).run).toEqual(run);
  });

  it('retries a transaction cancelled by a conflicting write, then books once', async () => {
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'TransactionConflict', 'None')).resolves({});
    ddb.on(GetCommand).resolves({ Item: { usedGpuHours: 8 } });
    const outcome = await ledger.recordRun(run);
    expect(outcome.recorded).toBe(true);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('surfaces other failures instead of reporting the run as booked', async () => {
    ddb.on(TransactWriteCommand).rejects(new Error('AccessDeniedException'));
    await expect(ledger.recordRun(run)).rejects.toThrow('AccessDeniedException');
  });

  it('refuses a malformed run before writing anything', async () => {
    await expect(ledger.recordRun({ ...run, gpuHours: -1 })).rejects.toThrow();
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});

describe('DynamoDbLedger reservations', () => {
  const request = { stage: 'dev', runId: 'run-2', month: '2026-05', gpuHours: 48, ceilingGpuHours: 100, overCeilingApproved: false, at: '2026-05-03T08:00:00.000Z' };
  const monthKey = LEDGER_KEYS.month('dev', '2026-05');
  const reservationKey = LEDGER_KEYS.reservation('dev', 'run-2');
  const held = { ...reservationKey, type: 'reservation', stage: 'dev', runId: 'run-2', month: '2026-05', reservedGpuHours: 48, remainingGpuHours: 48, convertedJobs: [], status: 'held', overCeilingApproved: false, reservedAt: request.at };

  it('holds the estimate in one transaction conditioned on the month revision it judged', async () => {
    ddb.on(GetCommand, { Key: reservationKey }).resolves({});
    ddb.on(GetCommand, { Key: monthKey }).resolves({ Item: { usedGpuHours: 40, reservedGpuHours: 12, ledgerRevision: 7 } });
    ddb.on(TransactWriteCommand).resolves({});
    const outcome = await ledger.reserve(request);
    expect(outcome).toMatchObject({ reserved: true, commitment: { usedGpuHours: 40, reservedGpuHours: 60 }, reservation: { remainingGpuHours: 48, status: 'held' } });
    const [put, month] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(put!.Put).toMatchObject({ Item: { ...reservationKey, type: 'reservation', reservedGpuHours: 48 }, ConditionExpression: 'attribute_not_exists(pk)' });
    expect(month!.Update).toMatchObject({
      Key: monthKey,
      UpdateExpression: 'ADD reservedGpuHours :hours, ledgerRevision :one SET updatedAt = :now',
      ConditionExpression: 'ledgerRevision = :revision',
      ExpressionAttributeValues: { ':hours': 48, ':revision': 7 },
    });
  });

  it('holds nothing when used + reserved + the estimate would pass the ceiling', async () => {
    ddb.on(GetCommand, { Key: reservationKey }).resolves({});
    ddb.on(GetCommand, { Key: monthKey }).resolves({ Item: { usedGpuHours: 40, reservedGpuHours: 12.5, ledgerRevision: 7 } });
    expect(await ledger.reserve(request)).toEqual({ reserved: false, commitment: { usedGpuHours: 40, reservedGpuHours: 12.5 } });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    // With a FinOps approval it holds past the ceiling.
    ddb.on(TransactWriteCommand).resolves({});
    expect(await ledger.reserve({ ...request, overCeilingApproved: true })).toMatchObject({ reserved: true, reservation: { overCeilingApproved: true } });
  });

  it('judges again on fresh figures when another run reserved between its read and its write, and then refuses', async () => {
    ddb.on(GetCommand, { Key: reservationKey }).resolves({});
    ddb.on(GetCommand, { Key: monthKey })
      .resolvesOnce({ Item: { usedGpuHours: 40, ledgerRevision: 7 } })
      .resolves({ Item: { usedGpuHours: 40, reservedGpuHours: 48, ledgerRevision: 8 } });
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    expect(await ledger.reserve(request)).toEqual({ reserved: false, commitment: { usedGpuHours: 40, reservedGpuHours: 48 } });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('a month never written before is conditioned on having no revision yet', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    await ledger.reserve(request);
    expect(ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![1]!.Update!.ConditionExpression).toBe('attribute_not_exists(ledgerRevision)');
  });

  it('returns the stored reservation for a run that already reserved (a retried Lambda), writing nothing', async () => {
    ddb.on(GetCommand, { Key: reservationKey }).resolves({ Item: held });
    ddb.on(GetCommand, { Key: monthKey }).resolves({ Item: { usedGpuHours: 40, reservedGpuHours: 48 } });
    expect(await ledger.reserve(request)).toMatchObject({ reserved: true, reservation: { runId: 'run-2', remainingGpuHours: 48 } });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('converts a booked job once, at most what is held, conditioned on the remaining hours it read', async () => {
    ddb.on(GetCommand, { Key: reservationKey }).resolvesOnce({ Item: held }).resolves({ Item: { ...held, remainingGpuHours: 30, convertedJobs: ['train'] } });
    ddb.on(TransactWriteCommand).resolves({});
    expect(await ledger.convertReservation('dev', 'run-2', 'train', 18, '2026-05-03T12:00:00.000Z')).toEqual({ gpuHours: 18 });
    const [put, month] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(put!.Put).toMatchObject({ Item: { remainingGpuHours: 30, convertedJobs: ['train'] }, ExpressionAttributeValues: { ':held': 'held', ':remaining': 48, ':converted': 0 } });
    expect(month!.Update).toMatchObject({ Key: monthKey, UpdateExpression: 'ADD reservedGpuHours :hours SET updatedAt = :now', ExpressionAttributeValues: { ':hours': -18 } });
    // The same job again (a retried booking): nothing.
    expect(await ledger.convertReservation('dev', 'run-2', 'train', 18, '2026-05-03T12:00:01.000Z')).toEqual({ gpuHours: 0 });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('releases what is left once; a second release and a run without reservation change nothing', async () => {
    ddb.on(GetCommand, { Key: reservationKey }).resolvesOnce({ Item: { ...held, remainingGpuHours: 30, convertedJobs: ['train'] } }).resolves({ Item: { ...held, remainingGpuHours: 0, status: 'released' } });
    ddb.on(GetCommand, { Key: LEDGER_KEYS.reservation('dev', 'never') }).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    expect(await ledger.releaseReservation('dev', 'run-2', '2026-05-03T13:00:00.000Z')).toEqual({ gpuHours: 30 });
    expect(ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Put).toMatchObject({ Item: { status: 'released', remainingGpuHours: 0, releasedAt: '2026-05-03T13:00:00.000Z' } });
    expect(await ledger.releaseReservation('dev', 'run-2', '2026-05-03T13:00:01.000Z')).toEqual({ gpuHours: 0 });
    expect(await ledger.releaseReservation('dev', 'never', '2026-05-03T13:00:01.000Z')).toEqual({ gpuHours: 0 });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });
});

describe('DynamoDbLedger reads', () => {
  it('reads a month total strongly consistent, 0 when there is none', async () => {
    ddb.on(GetCommand, { Key: LEDGER_KEYS.month('dev', '2026-05') }).resolves({ Item: { pk: 'STAGE#dev', sk: 'MONTH#2026-05', usedGpuHours: 123.4567891 } });
    ddb.on(GetCommand, { Key: LEDGER_KEYS.month('dev', '2026-06') }).resolves({});
    expect(await ledger.monthUsage('dev', '2026-05')).toBe(123.456789);
    expect(await ledger.monthUsage('dev', '2026-06')).toBe(0);
    expect(ddb.commandCalls(GetCommand).every((c) => c.args[0].input.ConsistentRead === true)).toBe(true);
  });

  it('answers TrainingHistory.lastTrainedAt from the model item', async () => {
    ddb.on(GetCommand, { Key: { pk: 'MODELS', sk: 'MODEL#qwen3-4b' } }).resolves({ Item: { lastTrainedAt: '2026-05-04T12:45:00.000Z', lastRunId: 'run-1' } });
    ddb.on(GetCommand, { Key: { pk: 'MODELS', sk: 'MODEL#never' } }).resolves({});
    expect(await ledger.lastTrainedAt('qwen3-4b')).toEqual(new Date('2026-05-04T12:45:00.000Z'));
    expect(await ledger.lastTrainedAt('never')).toBeUndefined();
  });
});

describe('DynamoDbLedger.markTrained', () => {
  it('sets last-trained only if it moves forward', async () => {
    ddb.on(UpdateCommand).resolves({});
    await ledger.markTrained('qwen3-4b', new Date('2026-05-04T12:45:00Z'), 'run-1');
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toEqual({
      TableName: 'ledger-table',
      Key: { pk: 'MODELS', sk: 'MODEL#qwen3-4b' },
      UpdateExpression: 'SET lastTrainedAt = :at, lastRunId = :run, targetModelId = :model',
      ConditionExpression: 'attribute_not_exists(lastTrainedAt) OR lastTrainedAt < :at',
      ExpressionAttributeValues: { ':at': '2026-05-04T12:45:00.000Z', ':run': 'run-1', ':model': 'qwen3-4b' },
    });
  });

  it('treats a newer recorded training as success, and rethrows anything else', async () => {
    ddb.on(UpdateCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} })).rejectsOnce(new Error('ThrottlingException'));
    await expect(ledger.markTrained('qwen3-4b', new Date('2026-05-01T00:00:00Z'), 'run-0')).resolves.toBeUndefined();
    await expect(ledger.markTrained('qwen3-4b', new Date('2026-05-01T00:00:00Z'), 'run-0')).rejects.toThrow('ThrottlingException');
  });
});
