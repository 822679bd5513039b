import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvalidToken, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskDoesNotExist } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { APPROVALS_TABLE_SCHEMA } from '../../../lambdas/pipeline/approvals/approval-record';
import { DynamoDbApprovalStore } from '../../../lambdas/pipeline/approvals/aws/dynamodb-approval-store';
import { SfnTaskCallbacks } from '../../../lambdas/pipeline/approvals/aws/sfn-task-callbacks';
import { ApprovalExistsError } from '../../../lambdas/pipeline/approvals/store';
import { TaskCallbackRefused } from '../../../lambdas/pipeline/approvals/task-callbacks';
import { T0, TOKEN, waitingRecord } from './helpers';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const store = () => new DynamoDbApprovalStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), 'approvals-table');
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** The update expression with its placeholders resolved, for readable assertions. */
function resolved(input: { UpdateExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> }): string {
  let text = input.UpdateExpression ?? '';
  for (const [k, v] of Object.entries(input.ExpressionAttributeNames ?? {})) text = text.replaceAll(new RegExp(`${k}(?!\\d)`, 'g'), v);
  for (const [k, v] of Object.entries(input.ExpressionAttributeValues ?? {})) text = text.replaceAll(new RegExp(`${k}(?!\\d)`, 'g'), JSON.stringify(v));
  return text;
}

describe('DynamoDbApprovalStore', () => {
  const expiresAt = new Date(T0.getTime() + 72 * 3_600_000);
  beforeEach(() => ddb.reset());

  it('create is a conditional Put; a taken id becomes ApprovalExistsError', async () => {
    ddb.on(PutCommand).rejects(conditionFailed());
    const { taskToken: _t, ...record } = waitingRecord(expiresAt);
    await expect(store().create(record)).rejects.toBeInstanceOf(ApprovalExistsError);
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({ TableName: 'approvals-table', ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': 'approvalId' } });
  });

  it('attachToken sets the token and copies the stage into the sparse index key, under canAttachToken', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: waitingRecord(expiresAt) });
    await expect(store().attachToken('train-00aa11bb22cc33dd', TOKEN, T0)).resolves.toBe(true);
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.Key).toEqual({ approvalId: 'train-00aa11bb22cc33dd' });
    expect(resolved(input)).toBe(`SET taskToken = "${TOKEN}", tokenAttachedAt = "${T0.toISOString()}", waitingStage = stage`);
    expect(input.ConditionExpression).toBe('#status = :pending AND #expiresAt > :now AND attribute_not_exists(#notifiedAt)');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':pending': 'pending', ':now': T0.toISOString() });
    ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(store().attachToken('train-00aa11bb22cc33dd', TOKEN, T0)).resolves.toBe(false);
  });

  it('decide writes the decision and removes the index key under canDecide; a failed condition is undefined, other errors propagate', async () => {
    const decided = { ...waitingRecord(expiresAt), status: 'approved' as const, approver: 'Jane', decidedAt: T0.toISOString(), via: 'page' as const, deliveryStatus: 'pending' as const, deliveryAt: T0.toISOString() };
    ddb.on(UpdateCommand).resolvesOnce({ Attributes: decided }).rejectsOnce(conditionFailed()).rejectsOnce(new Error('ProvisionedThroughputExceededException'));
    const fields = { status: 'approved' as const, approver: 'Jane', decidedAt: T0.toISOString(), via: 'page' as const, comment: undefined };
    await expect(store().decide('train-00aa11bb22cc33dd', fields, T0)).resolves.toMatchObject({ status: 'approved', approver: 'Jane' });
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(resolved(input)).toBe(`SET status = "approved", approver = "Jane", decidedAt = "${T0.toISOString()}", via = "page", deliveryStatus = "pending", deliveryAt = "${T0.toISOString()}" REMOVE waitingStage`);
    expect(input.ConditionExpression).toBe('#status = :pending AND #expiresAt > :now AND attribute_exists(#taskToken)');
    expect(input.ReturnValues).toBe('ALL_NEW');
    await expect(store().decide('train-00aa11bb22cc33dd', fields, T0)).resolves.toBeUndefined();
    await expect(store().decide('train-00aa11bb22cc33dd', fields, T0)).rejects.toThrow('ProvisionedThroughputExceededException');
  });

  it('recordDelivery only ends the delivery in progress', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { ...waitingRecord(expiresAt), status: 'approved', deliveryStatus: 'delivered' } });
    await expect(store().recordDelivery('train-00aa11bb22cc33dd', { status: 'delivered' }, T0)).resolves.toBe(true);
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(resolved(input)).toBe(`SET deliveryStatus = "delivered", deliveryAt = "${T0.toISOString()}" REMOVE deliveryError`);
    expect(input.ConditionExpression).toBe('#delivery = :pending');
  });

  it('listPending queries the waiting index by stage (all pages) and drops what is no longer waiting', async () => {
    const a = waitingRecord(new Date(expiresAt.getTime() + 1000), { approvalId: 'train-a' });
    const b = waitingRecord(expiresAt, { approvalId: 'train-b' });
    const decidedMeanwhile = { ...waitingRecord(expiresAt, { approvalId: 'train-c' }), status: 'approved' as const };
    ddb.on(QueryCommand).resolvesOnce({ Items: [a], LastEvaluatedKey: { approvalId: 'train-a' } }).resolvesOnce({ Items: [b, decidedMeanwhile] });
    const listed = await store().listPending({ now: T0, stage: 'dev' });
    expect(listed.map((r) => r.approvalId)).toEqual(['train-b', 'train-a']);
    const [first, second] = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(first).toMatchObject({
      IndexName: APPROVALS_TABLE_SCHEMA.waitingIndex.name,
      KeyConditionExpression: '#pk = :stage AND #sk > :now',
      ExpressionAttributeNames: { '#pk': 'waitingStage', '#sk': 'expiresAt' },
      ExpressionAttributeValues: { ':stage': 'dev', ':now': T0.toISOString() },
    });
    expect(second?.ExclusiveStartKey).toEqual({ approvalId: 'train-a' });
  });

  it('listPending without a stage scans the sparse index', async () => {
    ddb.on(ScanCommand).resolves({ Items: [waitingRecord(expiresAt)] });
    await expect(store().listPending({ now: T0 })).resolves.toHaveLength(1);
    expect(ddb.commandCalls(ScanCommand)[0]!.args[0].input).toMatchObject({ IndexName: 'waiting-by-stage', FilterExpression: '#sk > :now' });
  });
});

describe('SfnTaskCallbacks', () => {
  beforeEach(() => sfn.reset());
  const callbacks = () => new SfnTaskCallbacks(new SFNClient({ region: 'us-east-1' }));

  it.each([
    [new TaskDoesNotExist({ message: 'Task does not exist anymore', $metadata: {} }), 'task-not-found'],
    [new InvalidToken({ message: 'Invalid token', $metadata: {} }), 'invalid-token'],
  ])('maps %s to a final refusal', async (error, reason) => {
    sfn.on(SendTaskSuccessCommand).rejects(error);
    await expect(callbacks().succeed(TOKEN, '{}')).rejects.toEqual(expect.objectContaining({ name: 'TaskCallbackRefused', reason }));
  });

  it('passes transient errors through (the decision logic retries them later)', async () => {
    sfn.on(SendTaskFailureCommand).rejects(new Error('ThrottlingException'));
    const failure = callbacks().fail(TOKEN, 'ApprovalRejected', '{}');
    await expect(failure).rejects.toThrow('ThrottlingException');
    await expect(failure).rejects.not.toBeInstanceOf(TaskCallbackRefused);
  });

  it('keeps SendTaskFailure within its limits (error 256, cause 32,768 characters)', async () => {
    sfn.on(SendTaskFailureCommand).resolves({});
    await callbacks().fail(TOKEN, 'E'.repeat(300), 'c'.repeat(40_000));
    const input = sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input;
    expect(input.error).toHaveLength(256);
    expect(input.cause).toHaveLength(32_768);
  });
});
