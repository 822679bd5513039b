/**
 * An in-memory deployments table behind aws-sdk-client-mock's DynamoDBDocumentClient mock, for tests that
 * need the table to behave: conditions race (two rollbacks at once) and must fail like DynamoDB does.
 * Each condition the adapter sends is evaluated as written; an unknown one fails the test loudly.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, TransactWriteCommand, type DynamoDBDocumentClientResolvedConfig, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';

type Item = Record<string, unknown>;
type Values = Record<string, unknown>;
type Stub = AwsStub<ServiceInputTypes, ServiceOutputTypes, DynamoDBDocumentClientResolvedConfig>;

const CONDITIONS: Record<string, (item: Item | undefined, values: Values) => boolean> = {
  'attribute_not_exists(pk)': (item) => item === undefined,
  'attribute_not_exists(pk) OR rolloutId = :id': (item, v) => item === undefined || item.rolloutId === v[':id'],
  'revision = :read': (item, v) => item !== undefined && item.revision === v[':read'],
  'rolloutId = :id': (item, v) => item !== undefined && item.rolloutId === v[':id'],
};

function failed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

function keyOf(key: { pk?: unknown; sk?: unknown }): string {
  return `${String(key.pk)}|${String(key.sk)}`;
}

function check(condition: string | undefined, item: Item | undefined, values: Values | undefined): void {
  if (condition === undefined) return;
  const rule = CONDITIONS[condition];
  if (rule === undefined) throw new Error(`fake deployments table: unknown condition ${condition}`);
  if (!rule(item, values ?? {})) throw failed();
}

/** Installs the table on the mock; returns its items by `pk|sk`. */
export function fakeDeploymentsTable(ddb: Stub): Map<string, Item> {
  const items = new Map<string, Item>();
  ddb.on(GetCommand).callsFake((input: { Key: { pk: string; sk: string }; ConsistentRead?: boolean }) => {
    if (input.ConsistentRead !== true) throw new Error('fake deployments table: every read must be strongly consistent');
    const item = items.get(keyOf(input.Key));
    return item === undefined ? {} : { Item: structuredClone(item) };
  });
  ddb.on(PutCommand).callsFake((input: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Values }) => {
    const key = keyOf(input.Item);
    check(input.ConditionExpression, items.get(key), input.ExpressionAttributeValues);
    items.set(key, structuredClone(input.Item));
    return {};
  });
  ddb.on(DeleteCommand).callsFake((input: { Key: { pk: string; sk: string }; ConditionExpression?: string; ExpressionAttributeValues?: Values }) => {
    const key = keyOf(input.Key);
    check(input.ConditionExpression, items.get(key), input.ExpressionAttributeValues);
    items.delete(key);
    return {};
  });
  // All conditions are checked before anything is written, and one failure cancels the whole transaction.
  ddb.on(TransactWriteCommand).callsFake((input: { TransactItems: Array<{ ConditionCheck?: { Key: Item; ConditionExpression: string; ExpressionAttributeValues?: Values }; Put?: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Values } }> }) => {
    try {
      for (const op of input.TransactItems) {
        if (op.ConditionCheck !== undefined) check(op.ConditionCheck.ConditionExpression, items.get(keyOf(op.ConditionCheck.Key)), op.ConditionCheck.ExpressionAttributeValues);
        else if (op.Put !== undefined) check(op.Put.ConditionExpression, items.get(keyOf(op.Put.Item)), op.Put.ExpressionAttributeValues);
        else throw new Error('fake deployments table: only ConditionCheck and Put are supported in a transaction');
      }
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {} });
      throw error;
    }
    for (const op of input.TransactItems) if (op.Put !== undefined) items.set(keyOf(op.Put.Item), structuredClone(op.Put.Item));
    return {};
  });
    // One page per item, so the adapter's paging is exercised too.
  ddb.on(ScanCommand).callsFake((input: { FilterExpression?: string; ExpressionAttributeValues?: Values; ExclusiveStartKey?: { pk: string; sk: string }; ConsistentRead?: boolean }) => {
    if (input.ConsistentRead !== true) throw new Error('fake deployments table: every read must be strongly consistent');
    if (input.FilterExpression !== 'sk = :sk AND targetModelId = :model') throw new Error(`fake deployments table: unknown filter ${String(input.FilterExpression)}`);
    const keys = [...items.keys()].sort();
    const start = input.ExclusiveStartKey === undefined ? 0 : keys.indexOf(keyOf(input.ExclusiveStartKey)) + 1;
    const key = keys[start];
    if (key === undefined) return { Items: [] };
    const item = items.get(key)!;
    const v = input.ExpressionAttributeValues ?? {};
    const matches = item.sk === v[':sk'] && item.targetModelId === v[':model'];
    return { Items: matches ? [structuredClone(item)] : [], ...(start + 1 < keys.length ? { LastEvaluatedKey: { pk: item.pk, sk: item.sk } } : {}) };
  });
  return items;
}
