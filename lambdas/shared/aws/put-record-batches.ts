/**
 * Sending records to a Firehose stream with PutRecordBatch: batches within the service's limits
 * (500 records, 4 MiB per call), and only the records a call reports as failed are sent again, with
 * full-jitter backoff, up to `maxAttempts` attempts per record. A call that fails as a whole with a
 * throttling or service error is retried the same way; any other error stops the run.
 */
import { PutRecordBatchCommand, type FirehoseClient } from '@aws-sdk/client-firehose';

/** One record to send: its bytes, and where it came from (for messages: `file:line`, a trace id). */
export interface FirehoseRecord {
  readonly source: string;
  readonly data: Buffer;
}

export const MAX_BATCH_RECORDS = 500;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** Consecutive batches within both limits, in input order. */
export function batchesOf<T extends { readonly data: Buffer }>(records: readonly T[], maxRecords = MAX_BATCH_RECORDS, maxBytes = MAX_BATCH_BYTES): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const r of records) {
    if (current.length > 0 && (current.length >= maxRecords || bytes + r.data.length > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += r.data.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export interface PutSummary {
  readonly sent: number;
  readonly delivered: number;
  /** Records still failing after the last attempt, by Firehose error code. */
  readonly failedByCode: Record<string, number>;
  readonly failedSources: string[];
  readonly calls: number;
  /** Records sent again after a partial failure or a throttled call. */
  readonly resent: number;
}

export interface PutOptions {
  readonly client: FirehoseClient;
  readonly streamName: string;
  /** @default 5 */
  readonly maxAttempts?: number;
  /** @default 200 */
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const RETRYABLE_CALL_ERRORS = new Set(['ServiceUnavailableException', 'ThrottlingException', 'InternalFailure', 'RequestTimeout', 'TimeoutError']);

function retryableCall(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  const status = e?.$metadata?.httpStatusCode;
  return (typeof e?.name === 'string' && RETRYABLE_CALL_ERRORS.has(e.name)) || (typeof status === 'number' && status >= 500);
}

export async function putRecordBatches(records: readonly FirehoseRecord[], options: PutOptions): Promise<PutSummary> {
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  let delivered = 0;
  let calls = 0;
  let resent = 0;
  const failedByCode: Record<string, number> = {};
  const failedSources: string[] = [];
  for (const batch of batchesOf(records)) {
    let pending: FirehoseRecord[] = batch;
    let lastCodes = new Map<FirehoseRecord, string>();
    for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt += 1) {
      if (attempt > 1) {
        resent += pending.length;
        await sleep(Math.floor(random() * Math.min(10_000, baseDelayMs * 2 ** (attempt - 2))));
      }
      calls += 1;
      let responses;
      try {
        const out = await options.client.send(new PutRecordBatchCommand({ DeliveryStreamName: options.streamName, Records: pending.map((r) => ({ Data: r.data })) }));
        responses = out.RequestResponses ?? [];
      } catch (error) {
        if (!retryableCall(error)) throw error;
        lastCodes = new Map(pending.map((r) => [r, (error as { name?: string }).name ?? 'CallFailed']));
        continue;
      }
      const failed: FirehoseRecord[] = [];
      lastCodes = new Map();
      pending.forEach((r, i) => {
        const response = responses[i];
        // A response without a record id (or a missing response) is a failure: never count it delivered.
        if (response?.ErrorCode !== undefined || response?.RecordId === undefined) {
          failed.push(r);
          lastCodes.set(r, response?.ErrorCode ?? 'NoRecordId');
        } else delivered += 1;
      });
      pending = failed;
    }
    for (const r of pending) {
      const code = lastCodes.get(r) ?? 'Unknown';
      failedByCode[code] = (failedByCode[code] ?? 0) + 1;
      failedSources.push(r.source);
    }
  }
  return { sent: records.length, delivered, failedByCode, failedSources, calls, resent };
}
