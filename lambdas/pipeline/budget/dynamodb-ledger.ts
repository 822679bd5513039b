/**
 * The AWS adapter of the GPU ledger and of TrainingHistory: one DynamoDB table (partition key `pk`,
 * sort key `sk`, both strings), items
 *
 * | item | pk | sk | attributes |
 * |---|---|---|---|
 * | month total | `STAGE#<stage>` | `MONTH#YYYY-MM` | usedGpuHours (ADD), reservedGpuHours (ADD), runCount (ADD, training jobs only), ledgerRevision (ADD 1 on every booking and reservation), updatedAt |
 * | reservation | `STAGE#<stage>` | `RESERVATION#<runId>` | the GpuReservation, its remaining hours and status changed under a condition on their old values |
 * | training job | `STAGE#<stage>` | `RUN#<runId>` | the GpuRunRecord (jobKind train), written once |
 * | eval job | `STAGE#<stage>` | `RUN#<runId>#EVAL` | the GpuRunRecord (jobKind eval), written once |
 * | last trained | `MODELS` | `MODEL#<targetModelId>` | lastTrainedAt (ISO), lastRunId, stage |
 *
 * A job is booked in one transaction: its item with `attribute_not_exists(pk)` plus an ADD on each
 * month it used. A retried Lambda's transaction fails on the condition and adds nothing, and a crash
 * can never leave a job item without its hours (or hours without the item that prevents a recount).
 * The training job keeps the key it had before eval jobs were booked, so a booking retried across that
 * change still finds its item; run ids never contain `#`, so no run's key can be another's eval key.
 *
 * A reservation must see used + reserved hours and add to them atomically, and a DynamoDB condition
 * cannot add two attributes up. So it reads the month item, judges it (reservationFits), and writes the
 * reservation item and `ADD reservedGpuHours` in one transaction conditioned on the month's
 * ledgerRevision being the one it read: any booking or reservation in between moves the revision,
 * cancels the transaction, and the reservation is judged again on fresh figures. Conversions and
 * releases only take hours off (ADD of a negative number commutes with every other ADD), so they need
 * no revision; they are conditioned on the reservation's own remaining hours instead, which makes each
 * of them count once.
 * Last-trained items sit under their own partition because TrainingHistory is asked by model id alone;
 * every deployment (stage) has its own table, so model ids cannot collide.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { retryWithBackoff } from '../../shared/retry';
import type { Sleep } from '../../shared/ports';
import type { GpuJobKind } from '../contracts';
import {
  gpuRunRecordSchema,
  roundGpuHours,
  type GpuLedger,
  type GpuReservation,
  type GpuRunRecord,
  type LedgerMonth,
  type MonthCommitment,
  type RecordRunOutcome,
  type ReservationChange,
  type ReservationRequest,
  type ReserveOutcome,
} from './ledger';
import { afterConversion, afterRelease, conversionOf, newReservation, reservationFits } from './reservation';
import type { TrainingHistory } from '../eligibility/training-history';

/** Key of an item in the ledger table. */
export interface LedgerKey {
  readonly pk: string;
  readonly sk: string;
}

/** The ledger's key layout (exported for the construct's documentation and for tests). */
export const LEDGER_KEYS = {
  month: (stage: string, month: LedgerMonth): LedgerKey => ({ pk: `STAGE#${stage}`, sk: `MONTH#${month}` }),
  run: (stage: string, runId: string, jobKind: GpuJobKind): LedgerKey => ({ pk: `STAGE#${stage}`, sk: jobKind === 'train' ? `RUN#${runId}` : `RUN#${runId}#EVAL` }),
  model: (targetModelId: string): LedgerKey => ({ pk: 'MODELS', sk: `MODEL#${targetModelId}` }),
  reservation: (stage: string, runId: string): LedgerKey => ({ pk: `STAGE#${stage}`, sk: `RESERVATION#${runId}` }),
};

/** Tuning of DynamoDbLedger; the defaults suit a Lambda. */
export interface DynamoDbLedgerOptions {
  /** Attempts of a booking transaction cancelled by a conflicting write or throttling. @default 4 */
  readonly maxAttempts?: number;
  /** @default setTimeout */
  readonly sleep?: Sleep;
}

/** The GPU-hour ledger and training history in DynamoDB. */
export class DynamoDbLedger implements GpuLedger, TrainingHistory {
  private readonly maxAttempts: number;
  private readonly sleep: Sleep;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbLedgerOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async monthUsage(stage: string, month: LedgerMonth): Promise<number> {
    return (await this.monthCommitment(stage, month)).usedGpuHours;
  }

  async monthCommitment(stage: string, month: LedgerMonth): Promise<MonthCommitment> {
    return commitmentOf(await this.monthItem(stage, month));
  }

  async reserve(request: ReservationRequest): Promise<ReserveOutcome> {
    return this.withFreshReads(async () => {
      const existing = await this.storedReservation(request.stage, request.runId);
      if (existing !== undefined) return { reserved: true, reservation: existing, commitment: await this.monthCommitment(existing.stage, existing.month) };
      const month = await this.monthItem(request.stage, request.month);
      const before = commitmentOf(month);
      if (!request.overCeilingApproved && !reservationFits(before, request.gpuHours, request.ceilingGpuHours)) return { reserved: false, commitment: before };
      const reservation = newReservation(request);
      const revision = month?.ledgerRevision;
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...LEDGER_KEYS.reservation(request.stage, request.runId), type: 'reservation', ...reservation },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: LEDGER_KEYS.month(request.stage, request.month),
                UpdateExpression: 'ADD reservedGpuHours :hours, ledgerRevision :one SET updatedAt = :now',
                // The figures judged above are still the month's: nothing was booked or reserved since.
                ConditionExpression: typeof revision === 'number' ? 'ledgerRevision = :revision' : 'attribute_not_exists(ledgerRevision)',
                ExpressionAttributeValues: { ':hours': reservation.reservedGpuHours, ':one': 1, ':now': request.at, ...(typeof revision === 'number' ? { ':revision': revision } : {}) },
              },
            },
          ],
        }),
      );
      return { reserved: true, reservation, commitment: { usedGpuHours: before.usedGpuHours, reservedGpuHours: roundGpuHours(before.reservedGpuHours + reservation.reservedGpuHours) } };
    });
  }

  async convertReservation(stage: string, runId: string, jobKind: GpuJobKind, bookedGpuHours: number, at: string): Promise<ReservationChange> {
    return this.withFreshReads(async () => {
      const reservation = await this.storedReservation(stage, runId);
      const gpuHours = reservation === undefined ? 0 : conversionOf(reservation, jobKind, bookedGpuHours);
      if (reservation === undefined || gpuHours === 0) return { gpuHours: 0 };
      await this.changeReservation(reservation, afterConversion(reservation, jobKind, gpuHours), gpuHours, at);
      return { gpuHours };
    });
  }

  async releaseReservation(stage: string, runId: string, at: string): Promise<ReservationChange> {
    return this.withFreshReads(async () => {
      const reservation = await this.storedReservation(stage, runId);
      if (reservation === undefined || reservation.status !== 'held') return { gpuHours: 0 };
      await this.changeReservation(reservation, afterRelease(reservation, at), reservation.remainingGpuHours, at);
      return { gpuHours: reservation.remainingGpuHours };
    });
  }

  /** Writes `next` over `current` (only if it is still current) and takes `gpuHours` off the month's reserved hours. */
  private async changeReservation(current: GpuReservation, next: GpuReservation, gpuHours: number, at: string): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tableName,
              Item: { ...LEDGER_KEYS.reservation(current.stage, current.runId), type: 'reservation', ...next },
              // The reservation read above is still the stored one: no other conversion or release came between.
              ConditionExpression: '#status = :held AND remainingGpuHours = :remaining AND size(convertedJobs) = :converted',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':held': 'held', ':remaining': current.remainingGpuHours, ':converted': current.convertedJobs.length },
            },
          },
          ...(gpuHours > 0
            ? [
                {
                  Update: {
                    TableName: this.tableName,
                    Key: LEDGER_KEYS.month(current.stage, current.month),
                    UpdateExpression: 'ADD reservedGpuHours :hours SET updatedAt = :now',
                    ExpressionAttributeValues: { ':hours': -gpuHours, ':now': at },
                  },
                },
              ]
            : []),
        ],
      }),
    );
  }

  /**
   * Runs a read-judge-write step again on fresh reads when its transaction was cancelled by a condition
   * (someone else changed the month or the reservation in between) or a conflicting write.
   */
  private async withFreshReads<T>(step: () => Promise<T>): Promise<T> {
    return retryWithBackoff(step, { maxAttempts: this.maxAttempts * 2, baseDelayMs: 50, maxDelayMs: 1_000, isRetryable: isStaleOrConflicting, sleep: this.sleep });
  }

  private async monthItem(stage: string, month: LedgerMonth): Promise<Record<string, unknown> | undefined> {
    // Strongly consistent: the budget check and a reservation must see a run booked a moment ago.
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: LEDGER_KEYS.month(stage, month), ConsistentRead: true }));
    return Item;
  }

  private async storedReservation(stage: string, runId: string): Promise<GpuReservation | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: LEDGER_KEYS.reservation(stage, runId), ConsistentRead: true }));
    if (Item === undefined) return undefined;
    const { pk: _pk, sk: _sk, type: _type, ...fields } = Item;
    if (!isStoredReservation(fields)) throw new Error(`the reservation of run ${runId} in the ledger is malformed (expected status held|released and numeric hours)`);
    return fields;
  }

  async recordRun(run: GpuRunRecord): Promise<RecordRunOutcome> {
    const record = gpuRunRecordSchema.parse(run);
    const now = record.recordedAt;
    // runCount counts runs, and a run's eval job belongs to a run its training job already counted.
    const counts = record.jobKind === 'train';
    const monthUpdates = Object.entries(record.gpuHoursByMonth)
      .filter(([, hours]) => hours > 0)
      .map(([month, hours]) => ({
        Update: {
          TableName: this.tableName,
          Key: LEDGER_KEYS.month(record.stage, month),
          UpdateExpression: counts ? 'ADD usedGpuHours :hours, runCount :one, ledgerRevision :one SET updatedAt = :now' : 'ADD usedGpuHours :hours, ledgerRevision :one SET updatedAt = :now',
          ExpressionAttributeValues: { ':hours': hours, ':now': now, ':one': 1 },
        },
      }));
    const transaction = new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: this.tableName,
            Item: { ...LEDGER_KEYS.run(record.stage, record.runId, record.jobKind), type: 'run', ...withoutUndefined(record) },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...monthUpdates,
      ],
    });
    try {
      // Two runs booked at the same moment touch the same month item; DynamoDB cancels one of the
      // transactions (TransactionConflict) instead of queueing it, and the SDK does not retry that.
      await retryWithBackoff(() => this.client.send(transaction), {
        maxAttempts: this.maxAttempts,
        baseDelayMs: 100,
        maxDelayMs: 1_000,
        isRetryable: isTransientCancellation,
        sleep: this.sleep,
      });
    } catch (error) {
      if (!isRunAlreadyBooked(error)) throw error;
      const stored = await this.storedRun(record.stage, record.runId, record.jobKind);
      return { recorded: false, run: stored, monthUsedGpuHours: await this.monthUsage(stored.stage, stored.month) };
    }
    return { recorded: true, run: record, monthUsedGpuHours: await this.monthUsage(record.stage, record.month) };
  }

  async markTrained(targetModelId: string, at: Date, runId: string): Promise<void> {
    const iso = at.toISOString();
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: LEDGER_KEYS.model(targetModelId),
          UpdateExpression: 'SET lastTrainedAt = :at, lastRunId = :run, targetModelId = :model',
          // ISO-8601 UTC strings of one format order like the instants they name.
          ConditionExpression: 'attribute_not_exists(lastTrainedAt) OR lastTrainedAt < :at',
          ExpressionAttributeValues: { ':at': iso, ':run': runId, ':model': targetModelId },
        }),
      );
    } catch (error) {
      // A newer (or the same) training is already recorded: moving the time back would shorten a cooldown.
      if (error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === 'ConditionalCheckFailedException')) return;
      throw error;
    }
  }

  async lastTrainedAt(targetModelId: string): Promise<Date | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: LEDGER_KEYS.model(targetModelId), ConsistentRead: true }));
    const value = Item?.lastTrainedAt;
    if (typeof value !== 'string') return undefined;
    const at = new Date(value);
    if (Number.isNaN(at.getTime())) throw new Error(`the ledger's lastTrainedAt of ${targetModelId} is not a date: "${value}"`);
    return at;
  }

  private async storedRun(stage: string, runId: string, jobKind: GpuJobKind): Promise<GpuRunRecord> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: LEDGER_KEYS.run(stage, runId, jobKind), ConsistentRead: true }));
    if (Item === undefined) throw new Error(`the ${jobKind} job of run ${runId} was reported as already booked but its ledger item cannot be read`);
    const { pk: _pk, sk: _sk, type: _type, ...fields } = Item;
    return gpuRunRecordSchema.parse(fields);
  }
}

function cancellationCodes(error: unknown): string[] | undefined {
  const cancelled = error instanceof TransactionCanceledException || (error instanceof Error && error.name === 'TransactionCanceledException');
  if (!cancelled) return undefined;
  return ((error as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

/** A cancellation worth another attempt: a conflicting write or throttling, and not the run condition. */
function isTransientCancellation(error: unknown): boolean {
  const codes = cancellationCodes(error);
  if (codes === undefined || codes[0] === 'ConditionalCheckFailed') return false;
  return codes.some((code) => code === 'TransactionConflict' || code === 'ThrottlingError' || code === 'ProvisionedThroughputExceeded');
}

/** Hours of a month item's attribute; absent (nothing booked or reserved yet) is 0. */
function hoursOf(value: unknown): number {
  return typeof value === 'number' ? roundGpuHours(value) : 0;
}

function commitmentOf(item: Record<string, unknown> | undefined): MonthCommitment {
  return { usedGpuHours: hoursOf(item?.usedGpuHours), reservedGpuHours: hoursOf(item?.reservedGpuHours) };
}

function isStoredReservation(fields: Record<string, unknown>): fields is Record<string, unknown> & GpuReservation {
  return (
    (fields.status === 'held' || fields.status === 'released') &&
    typeof fields.remainingGpuHours === 'number' &&
    typeof fields.reservedGpuHours === 'number' &&
    typeof fields.month === 'string' &&
    Array.isArray(fields.convertedJobs)
  );
}

/** A reservation step worth judging again: a condition on data that changed since it was read, a conflict, throttling. */
function isStaleOrConflicting(error: unknown): boolean {
  const codes = cancellationCodes(error);
  return codes !== undefined && codes.some((code) => code === 'ConditionalCheckFailed' || code === 'TransactionConflict' || code === 'ThrottlingError' || code === 'ProvisionedThroughputExceeded');
}

/** True when a booking transaction was cancelled because the job's item already exists. */
function isRunAlreadyBooked(error: unknown): boolean {
  // The job's item is the first item of the transaction, so its condition is the first reason.
  return cancellationCodes(error)?.[0] === 'ConditionalCheckFailed';
}

/** DynamoDB cannot store `undefined`; optional fields that are absent are left out of the item. */
function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
