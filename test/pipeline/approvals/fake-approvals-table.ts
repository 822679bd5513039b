/**
 * An in-memory approvals table behind aws-sdk-client-mock's DynamoDBDocumentClient mock, for handler
 * tests that need the table to behave (a replayed POST must hit a failed condition). Each condition
 * the DynamoDB adapter sends is mapped to the transitions.ts rule it states, and SET/REMOVE
 * expressions are applied as written; an unknown condition fails the test loudly.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClientResolvedConfig, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { ApprovalRecord } from '../../../lambdas/pipeline/approvals/approval-record';
import { canAttachToken, canClaimDelivery, canDecide, canRecordDelivery } from '../../../lambdas/pipeline/approvals/transitions';

type Values = Record<string, unknown>;
type Names = Record<string, string>;
type Stub = AwsStub<ServiceInputTypes, ServiceOutputTypes, DynamoDBDocumentClientResolvedConfig>;

function failed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

const CONDITIONS: Record<string, (r: ApprovalRecord | undefined, v: Values) => boolean> = {
  '#status = :pending AND #expiresAt > :now AND attribute_not_exists(#notifiedAt)': (r, v) => r !== undefined && canAttachToken(r, new Date(String(v[':now']))),
  '#status = :pending AND #expiresAt > :now AND attribute_exists(#taskToken)': (r, v) => r !== undefined && canDecide(r, new Date(String(v[':now']))),
  '#status <> :pending AND attribute_exists(#taskToken) AND (#delivery = :failed OR (#delivery = :pending AND #deliveryAt < :staleBefore))': (r, v) =>
    r !== undefined && canClaimDelivery(r, new Date(String(v[':staleBefore']))),
  '#delivery = :pending': (r) => r !== undefined && canRecordDelivery(r),
  'attribute_exists(#id)': (r) => r !== undefined,
};

function apply(record: Record<string, unknown>, expression: string, names: Names, values: Values): Record<string, unknown> {
  const next = { ...record };
  const [, setPart = '', removePart = ''] = /^(?:SET (.*?))?(?: ?REMOVE (.*))?$/.exec(expression) ?? [];
  for (const [, target = '', source = ''] of setPart.matchAll(/(#\w+) = (if_not_exists\(#\w+, :\w+\)|#\w+|:\w+)/g)) {
    const attr = names[target]!;
    const ifAbsent = /^if_not_exists\((#\w+), (:\w+)\)$/.exec(source);
    if (ifAbsent) next[attr] = next[attr] ?? values[ifAbsent[2]!];
    else if (source.startsWith('#')) next[attr] = next[names[source]!];
    else next[attr] = values[source];
  }
  for (const name of removePart.split(', ').filter((c) => c !== '')) delete next[names[name]!];
  return next;
}

/** Installs the fake on a DynamoDBDocumentClient mock; returns the items by id. */
export function fakeApprovalsTable(ddb: Stub, initial: ApprovalRecord[] = []): Map<string, Record<string, unknown>> {
  const items = new Map<string, Record<string, unknown>>(initial.map((r) => [r.approvalId, { ...r }]));
  ddb.on(GetCommand).callsFake((input: { Key: { approvalId: string } }) => {
    const item = items.get(input.Key.approvalId);
    return item === undefined ? {} : { Item: structuredClone(item) };
  });
  ddb.on(PutCommand).callsFake((input: { Item: ApprovalRecord }) => {
    if (items.has(input.Item.approvalId)) throw failed();
    items.set(input.Item.approvalId, structuredClone(input.Item) as unknown as Record<string, unknown>);
    return {};
  });
  ddb.on(UpdateCommand).callsFake((input: { Key: { approvalId: string }; UpdateExpression: string; ConditionExpression: string; ExpressionAttributeNames: Names; ExpressionAttributeValues?: Values }) => {
    const rule = CONDITIONS[input.ConditionExpression];
    if (rule === undefined) throw new Error(`fake table: unknown condition ${input.ConditionExpression}`);
    const current = items.get(input.Key.approvalId);
    if (!rule(current as ApprovalRecord | undefined, input.ExpressionAttributeValues ?? {})) throw failed();
    const next = apply(current ?? {}, input.UpdateExpression, input.ExpressionAttributeNames, input.ExpressionAttributeValues ?? {});
    items.set(input.Key.approvalId, next);
    return { Attributes: structuredClone(next) };
  });
  return items;
}
