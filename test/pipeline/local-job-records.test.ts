/**
 * The local stand-in for the jobs table: UpdateItem executed from its expressions (so a wrong
 * expression fails locally as DynamoDB would refuse it), and the records read back through the record
 * schema `sial jobs` uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTaskError } from '../../local/pipeline/asl-runner';
import { applyUpdateItem, plainItem, type UpdateItemInput } from '../../local/pipeline/local-dynamodb-update';
import { localJobRecordsHandler, readLocalJobRecords } from '../../local/pipeline/local-job-records';

const S = (value: string) => ({ S: value });

function errorOf(run: () => unknown): LocalTaskError {
  try {
    run();
  } catch (error) {
    if (error instanceof LocalTaskError) return error;
    throw error;
  }
  throw new Error('expected a LocalTaskError');
}

describe('applyUpdateItem (local UpdateItem)', () => {
  const append = (status: string): UpdateItemInput => ({
    TableName: 't',
    Key: { jobId: S('train-run-1') },
    UpdateExpression: 'SET #status = :status, #first = if_not_exists(#first, :at), #history = list_append(if_not_exists(#history, :none), :entry)',
    ConditionExpression: 'attribute_not_exists(#status) OR #status <> :status',
    ExpressionAttributeNames: { '#status': 'status', '#first': 'first', '#history': 'history' },
    ExpressionAttributeValues: { ':status': S(status), ':at': S(`at-${status}`), ':none': { L: [] }, ':entry': { L: [{ M: { status: S(status) } }] } },
  });

  test('sets, keeps the first value with if_not_exists, appends to a list that starts empty, and adds the key', () => {
    const first = applyUpdateItem(undefined, append('submitted'));
    const second = applyUpdateItem(first, append('succeeded'));
    expect(plainItem(second)).toEqual({ jobId: 'train-run-1', status: 'succeeded', first: 'at-submitted', history: [{ status: 'submitted' }, { status: 'succeeded' }] });
  });

  test('a failed condition is DynamoDB.ConditionalCheckFailedException (the same status written twice)', () => {
    const first = applyUpdateItem(undefined, append('submitted'));
    expect(errorOf(() => applyUpdateItem(first, append('submitted'))).name).toBe('DynamoDB.ConditionalCheckFailedException');
  });

  test.each<[string, Partial<UpdateItemInput>, RegExp]>([
    ['an unused value', { ExpressionAttributeValues: { ':status': S('x'), ':at': S('x'), ':none': { L: [] }, ':entry': { L: [] }, ':spare': S('x') } }, /unused.*:spare/],
    ['an unused name', { ExpressionAttributeNames: { '#status': 'status', '#first': 'first', '#history': 'history', '#spare': 'spare' } }, /unused.*#spare/],
    ['a value that is not given', { ExpressionAttributeValues: { ':status': S('x'), ':at': S('x'), ':none': { L: [] } } }, /:entry is not in ExpressionAttributeValues/],
    ['a SET of the key', { UpdateExpression: 'SET jobId = :at', ConditionExpression: undefined, ExpressionAttributeNames: undefined, ExpressionAttributeValues: { ':at': S('x') } }, /part of the key/],
    ['list_append of a missing list', { UpdateExpression: 'SET #history = list_append(#history, :entry)', ConditionExpression: undefined, ExpressionAttributeNames: { '#history': 'history' }, ExpressionAttributeValues: { ':entry': { L: [] } } }, /refers to history/],
    ['an action the local reader does not know', { UpdateExpression: 'ADD #n :one', ConditionExpression: undefined, ExpressionAttributeNames: { '#n': 'n' }, ExpressionAttributeValues: { ':one': { N: '1' } } }, /only SET/],
  ])('refuses %s with DynamoDB.ValidationException', (_what, change, message) => {
    const error = errorOf(() => applyUpdateItem(undefined, { ...append('submitted'), ...change }));
    expect(error.name).toBe('DynamoDB.ValidationException');
    expect(error.message).toMatch(message);
  });
});

describe('local job records file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sial-jobs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('no file: no records; a refused update writes nothing', async () => {
    expect(readLocalJobRecords(dir)).toEqual([]);
    const handler = localJobRecordsHandler(dir);
    await expect(handler({ Key: { jobId: S('train-run-1') }, UpdateExpression: 'SET #a = :missing', ExpressionAttributeNames: { '#a': 'a' } })).rejects.toMatchObject({ name: 'DynamoDB.ValidationException' });
    expect(readLocalJobRecords(dir)).toEqual([]);
  });

  test('a written item that is not a whole job record is refused when read, naming the job', async () => {
    await localJobRecordsHandler(dir)({ Key: { jobId: S('train-run-1') }, UpdateExpression: 'SET #status = :s', ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: { ':s': S('submitted') } });
    expect(() => readLocalJobRecords(dir)).toThrow(/job record train-run-1 is malformed/);
  });
});
