/**
 * The DynamoDB review queue's conditions, with a mocked document client: adds never overwrite, the open
 * index key appears only on open items, complete is the conditional open -> done, reopen restores the
 * index key, and the listing re-checks the (eventually consistent) index.
 */
import { DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbReviewQueue } from '../../lambdas/judge/calibration/aws/dynamodb-review-queue';
import { reviewItemId, type ReviewItem } from '../../lambdas/judge/calibration/review-item';

const ddb = mockClient(DynamoDBDocumentClient);
const queue = new DynamoDbReviewQueue(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), 'queue');
const item = (trace: string, week = '2026-W49', status: ReviewItem['status'] = 'open'): ReviewItem => ({
  itemId: reviewItemId(week, trace, 'h'),
  traceId: trace,
  agentId: 'a',
  week,
  band: 'band-1',
  judgePromptHash: 'h',
  sampledAt: '2026-11-30T06:00:00.000Z',
  status,
});
const conditionFailed = () => Object.assign(new Error('condition'), { name: 'ConditionalCheckFailedException' });

beforeEach(() => ddb.reset());

it('adds with attribute_not_exists and reports only the items it added', async () => {
  const a = item('t-a');
  const b = item('t-b');
  ddb.on(PutCommand).callsFake(async (input: { Item: { traceId: string } }) => {
    if (input.Item.traceId === 't-b') throw conditionFailed();
    return {};
  });
  await expect(queue.add([a, b])).resolves.toEqual([a]);
  const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
  expect(put).toMatchObject({ TableName: 'queue', ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': 'itemId' }, Item: { ...a, openWeek: '2026-W49' } });
});

it('completes only an open item, removing it from the open index; a refused condition is undefined', async () => {
  ddb.on(UpdateCommand).resolvesOnce({ Attributes: { ...item('t-a'), status: 'done', reviewedAt: '2026-12-01T00:00:00.000Z' } }).rejectsOnce(conditionFailed());
  await expect(queue.complete(item('t-a').itemId, new Date('2026-12-01T00:00:00.000Z'))).resolves.toMatchObject({ status: 'done' });
  await expect(queue.complete(item('t-a').itemId, new Date('2026-12-01T00:00:00.000Z'))).resolves.toBeUndefined();
  expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
    UpdateExpression: 'SET #status = :done, #reviewedAt = :now REMOVE #openWeek',
    ConditionExpression: '#status = :open',
    ExpressionAttributeNames: { '#openWeek': 'openWeek' },
  });
});

it('reopens a done item with its index key back, and ignores one that is not done', async () => {
  ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
  await queue.reopen(item('t-a').itemId);
  await queue.reopen(item('t-a').itemId);
  expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({ UpdateExpression: 'SET #status = :open, #openWeek = #week REMOVE #reviewedAt', ConditionExpression: '#status = :done' });
});

it('lists open items across pages of the sparse index, oldest week first, dropping ones done meanwhile', async () => {
  ddb
    .on(ScanCommand)
    .resolvesOnce({ Items: [{ ...item('t-b', '2026-W50'), openWeek: '2026-W50' }, { ...item('t-c'), status: 'done' }], LastEvaluatedKey: { itemId: 'x' } })
    .resolvesOnce({ Items: [{ ...item('t-a'), openWeek: '2026-W49' }] });
  const open = await queue.listOpen();
  expect(open.map((i) => i.traceId)).toEqual(['t-a', 't-b']);
  expect(ddb.commandCalls(ScanCommand).map((c) => c.args[0].input.IndexName)).toEqual(['open-items', 'open-items']);
});
