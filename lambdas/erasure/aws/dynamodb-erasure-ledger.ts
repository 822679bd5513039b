/**
 * The DynamoDB adapter of the ErasureLedger port: one item per request, keyed by `erasureId`, the entry
 * as its attributes. The entry holds pseudonyms, trace-id hashes, counts and ARNs only (ledger.ts).
 */
import { GetCommand, PutCommand, paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ErasureLedger, ErasureLedgerEntry } from '../ledger';

/** The ledger table's partition key. */
export const ERASURE_LEDGER_KEY = 'erasureId';

export class DynamoDbErasureLedger implements ErasureLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(entry: ErasureLedgerEntry): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...entry } }));
  }

  async get(erasureId: string): Promise<ErasureLedgerEntry | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [ERASURE_LEDGER_KEY]: erasureId }, ConsistentRead: true }));
    return out.Item as ErasureLedgerEntry | undefined;
  }

  /** Every entry, oldest request first (a Scan: the ledger holds one item per request, a small table). */
  async list(): Promise<ErasureLedgerEntry[]> {
    const entries: ErasureLedgerEntry[] = [];
    for await (const page of paginateScan({ client: this.client }, { TableName: this.tableName, ConsistentRead: true })) entries.push(...((page.Items ?? []) as ErasureLedgerEntry[]));
    return entries.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }
}
