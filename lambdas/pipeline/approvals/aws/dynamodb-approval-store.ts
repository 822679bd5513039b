/**
 * The DynamoDB adapter of the ApprovalStore port (lib-dynamodb document client). Each conditional
 * write states, as a ConditionExpression, the matching rule of transitions.ts; a failed condition
 * (ConditionalCheckFailedException) is the port's ordinary refusal. Every attribute goes through an
 * expression name, so DynamoDB's reserved words (STATUS, COMMENT, TTL, ...) never bite.
 *
 * Instants are compared as strings: every instant this module writes or compares comes from
 * `Date.toISOString()` (fixed width, UTC), for which string order is time order.
 *
 * Table (see APPROVALS_TABLE_SCHEMA): partition key `approvalId` (S), TTL attribute `ttl`, and the
 * sparse GSI `waiting-by-stage` (`waitingStage` S, `expiresAt` S, projection ALL) holding only the
 * approvals that wait for a human.
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandOutput,
  type ScanCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { APPROVALS_TABLE_SCHEMA, parseApprovalRecord, type ApprovalRecord } from '../approval-record';
import { ApprovalExistsError, type ApprovalStore, type PendingQuery } from '../store';
import { isWaiting, type DecisionFields, type DeliveryFields } from '../transitions';
import { errorName } from './error-name';

/** An UpdateItem in parts; {@link compile} turns it into expressions with placeholders only. */
interface UpdateSpec {
  readonly set?: Readonly<Record<string, unknown>>;
  /** `SET attr = if_not_exists(attr, value)`. */
  readonly setIfAbsent?: Readonly<Record<string, unknown>>;
  /** `SET target = source`: copies another attribute of the same item. */
  readonly copy?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
  /** The condition, with `#name` and `:value` placeholders resolved through `names` / `values`. */
  readonly condition: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, unknown>>;
}

interface CompiledUpdate {
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

function compile(spec: UpdateSpec): CompiledUpdate {
  const names: Record<string, string> = { ...spec.names };
  const values: Record<string, unknown> = { ...spec.values };
  const name = (attr: string): string => {
    const key = `#a${Object.keys(names).length}`;
    names[key] = attr;
    return key;
  };
  const value = (v: unknown): string => {
    const key = `:v${Object.keys(values).length}`;
    values[key] = v;
    return key;
  };
  const sets = [
    ...Object.entries(spec.set ?? {}).map(([attr, v]) => `${name(attr)} = ${value(v)}`),
    ...Object.entries(spec.setIfAbsent ?? {}).map(([attr, v]) => {
      const n = name(attr);
      return `${n} = if_not_exists(${n}, ${value(v)})`;
    }),
    ...Object.entries(spec.copy ?? {}).map(([target, source]) => `${name(target)} = ${name(source)}`),
  ];
  const removes = (spec.remove ?? []).map(name);
  const parts = [sets.length > 0 ? `SET ${sets.join(', ')}` : '', removes.length > 0 ? `REMOVE ${removes.join(', ')}` : ''].filter((p) => p !== '');
  return {
    UpdateExpression: parts.join(' '),
    ConditionExpression: spec.condition,
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

function isConditionFailure(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/** Drops undefined fields (the document client refuses them unless told otherwise). */
function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

const KEY = APPROVALS_TABLE_SCHEMA.partitionKey;
const INDEX = APPROVALS_TABLE_SCHEMA.waitingIndex;

/** ApprovalStore on a DynamoDB table; reads of single records are strongly consistent. */
export class DynamoDbApprovalStore implements ApprovalStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(record: ApprovalRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: defined(record), ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': KEY } }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ApprovalExistsError(record.approvalId);
      throw error;
    }
  }

  async get(approvalId: string): Promise<ApprovalRecord | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [KEY]: approvalId }, ConsistentRead: true }));
    return out.Item === undefined ? undefined : parseApprovalRecord(out.Item, `table ${this.tableName}`);
  }

  /** Condition = canAttachToken: pending, unexpired, e-mail not yet sent. */
  async attachToken(approvalId: string, taskToken: string, now: Date): Promise<boolean> {
    const update = compile({
      set: { taskToken, tokenAttachedAt: now.toISOString() },
      // The index key appears only once a task waits: the sparse index lists exactly the open approvals.
      copy: { waitingStage: 'stage' },
      condition: '#status = :pending AND #expiresAt > :now AND attribute_not_exists(#notifiedAt)',
      names: { '#status': 'status', '#expiresAt': 'expiresAt', '#notifiedAt': 'notifiedAt' },
      values: { ':pending': 'pending', ':now': now.toISOString() },
    });
    return (await this.update(approvalId, update)) !== undefined;
  }

  async markNotified(approvalId: string, now: Date): Promise<void> {
    await this.update(approvalId, compile({ setIfAbsent: { notifiedAt: now.toISOString() }, condition: 'attribute_exists(#id)', names: { '#id': KEY } }));
  }

  /** Condition = canDecide: pending, unexpired, a task token attached. The single-use guarantee. */
  async decide(approvalId: string, decision: DecisionFields, now: Date): Promise<ApprovalRecord | undefined> {
    return this.update(
      approvalId,
      compile({
        set: defined({ ...decision, deliveryStatus: 'pending', deliveryAt: now.toISOString() }),
        remove: ['waitingStage'],
        condition: '#status = :pending AND #expiresAt > :now AND attribute_exists(#taskToken)',
        names: { '#status': 'status', '#expiresAt': 'expiresAt', '#taskToken': 'taskToken' },
        values: { ':pending': 'pending', ':now': now.toISOString() },
      }),
    );
  }

  /** Condition = canClaimDelivery: decided, and its delivery failed or went stale. */
  async claimDelivery(approvalId: string, now: Date, staleBefore: Date): Promise<ApprovalRecord | undefined> {
    return this.update(
      approvalId,
      compile({
        set: { deliveryStatus: 'pending', deliveryAt: now.toISOString() },
        remove: ['deliveryError'],
        condition: '#status <> :pending AND attribute_exists(#taskToken) AND (#delivery = :failed OR (#delivery = :pending AND #deliveryAt < :staleBefore))',
        names: { '#status': 'status', '#taskToken': 'taskToken', '#delivery': 'deliveryStatus', '#deliveryAt': 'deliveryAt' },
        values: { ':pending': 'pending', ':failed': 'failed', ':staleBefore': staleBefore.toISOString() },
      }),
    );
  }

  /** Condition = canRecordDelivery: the delivery this caller started is still the one in progress. */
  async recordDelivery(approvalId: string, delivery: DeliveryFields, now: Date): Promise<boolean> {
    const written = await this.update(
      approvalId,
      compile({
        set: defined({ deliveryStatus: delivery.status, deliveryAt: now.toISOString(), deliveryError: delivery.error }),
        ...(delivery.error === undefined ? { remove: ['deliveryError'] } : {}),
        condition: '#delivery = :pending',
        names: { '#delivery': 'deliveryStatus' },
        values: { ':pending': 'pending' },
      }),
    );
    return written !== undefined;
  }

  /** Queries the sparse index by stage, or scans it (it holds only waiting approvals) without one. */
  async listPending(query: PendingQuery): Promise<ApprovalRecord[]> {
    const now = query.now.toISOString();
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput | ScanCommandOutput =
        query.stage !== undefined
          ? await this.client.send(
              new QueryCommand({
                TableName: this.tableName,
                IndexName: INDEX.name,
                KeyConditionExpression: '#pk = :stage AND #sk > :now',
                ExpressionAttributeNames: { '#pk': INDEX.partitionKey, '#sk': INDEX.sortKey },
                ExpressionAttributeValues: { ':stage': query.stage, ':now': now },
                ExclusiveStartKey: startKey,
              }),
            )
          : await this.client.send(
              new ScanCommand({
                TableName: this.tableName,
                IndexName: INDEX.name,
                FilterExpression: '#sk > :now',
                ExpressionAttributeNames: { '#sk': INDEX.sortKey },
                ExpressionAttributeValues: { ':now': now },
                ExclusiveStartKey: startKey,
              }),
            );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    // The index is eventually consistent: a decision a moment ago may still be listed, so check again.
    return items
      .map((item) => parseApprovalRecord(item, `index ${INDEX.name} of ${this.tableName}`))
      .filter((r) => isWaiting(r, query.now))
      .sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  }

  /** One conditional UpdateItem; the record as written, or undefined when the condition failed. */
  private async update(approvalId: string, update: CompiledUpdate): Promise<ApprovalRecord | undefined> {
    try {
      const out = await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: { [KEY]: approvalId }, ReturnValues: 'ALL_NEW', ...update }));
      return parseApprovalRecord(out.Attributes ?? {}, `table ${this.tableName}`);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }
}
