/**
 * The DynamoDB adapter of the ReviewQueue port. Adding is a conditional put per item (never over an
 * existing id: a re-run of a week adds nothing twice and never reopens a reviewed item); completing is
 * a conditional update from open to done, the single-use guarantee. Open items carry `openWeek`, the
 * key of the sparse `open-items` index, removed when the item is done, so the index lists exactly
 * the items still waiting for a person.
 */
import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { errorName } from '../../../pipeline/approvals/aws/error-name';
import { parseReviewItem, REVIEW_QUEUE_TABLE_SCHEMA, type ReviewItem } from '../review-item';
import { byWeekThenId, type ReviewQueue } from '../review-queue';

const KEY = REVIEW_QUEUE_TABLE_SCHEMA.partitionKey;
const INDEX = REVIEW_QUEUE_TABLE_SCHEMA.openIndex;

const isConditionFailure = (error: unknown): boolean => errorName(error) === 'ConditionalCheckFailedException';

/** ReviewQueue on a DynamoDB table; single-item reads are strongly consistent. */
export class DynamoDbReviewQueue implements ReviewQueue {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(items: readonly ReviewItem[]): Promise<ReviewItem[]> {
    const added: ReviewItem[] = [];
    for (const item of items) {
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...item, ...(item.status === 'open' ? { [INDEX.partitionKey]: item.week } : {}) },
            ConditionExpression: 'attribute_not_exists(#id)',
            ExpressionAttributeNames: { '#id': KEY },
          }),
        );
        added.push(item);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    return added;
  }

  async get(itemId: string): Promise<ReviewItem | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [KEY]: itemId }, ConsistentRead: true }));
    return out.Item === undefined ? undefined : parseReviewItem(out.Item, `table ${this.tableName}`);
  }

  /** Scans the sparse index (it holds only open items: a few hundred a week at most). */
  async listOpen(): Promise<ReviewItem[]> {
    const items: ReviewItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: ScanCommandOutput = await this.client.send(new ScanCommand({ TableName: this.tableName, IndexName: INDEX.name, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []).map((i) => parseReviewItem(i, `index ${INDEX.name} of ${this.tableName}`)));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    // The index is eventually consistent: an item done a moment ago may still be listed.
    return items.filter((i) => i.status === 'open').sort(byWeekThenId);
  }

  async complete(itemId: string, now: Date): Promise<ReviewItem | undefined> {
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [KEY]: itemId },
          UpdateExpression: 'SET #status = :done, #reviewedAt = :now REMOVE #openWeek',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status', '#reviewedAt': 'reviewedAt', '#openWeek': INDEX.partitionKey },
          ExpressionAttributeValues: { ':done': 'done', ':open': 'open', ':now': now.toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return parseReviewItem(out.Attributes ?? {}, `table ${this.tableName}`);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async reopen(itemId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [KEY]: itemId },
          UpdateExpression: 'SET #status = :open, #openWeek = #week REMOVE #reviewedAt',
          ConditionExpression: '#status = :done',
          ExpressionAttributeNames: { '#status': 'status', '#reviewedAt': 'reviewedAt', '#openWeek': INDEX.partitionKey, '#week': 'week' },
          ExpressionAttributeValues: { ':done': 'done', ':open': 'open' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
