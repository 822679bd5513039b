/**
 * A GPU ledger held in memory, with the same semantics as DynamoDbLedger (each job of a run is booked
 * once, last-trained never moves backwards). For domain tests without mocks and for local mode, which can
 * seed it with a month's usage to play the over-budget path.
 */
import { gpuRunRecordSchema, roundGpuHours, type GpuLedger, type GpuRunRecord, type LedgerMonth, type RecordRunOutcome } from './ledger';
import type { TrainingHistory } from '../eligibility/training-history';

export class InMemoryLedger implements GpuLedger, TrainingHistory {
  private readonly months = new Map<string, number>();
  private readonly runs = new Map<string, GpuRunRecord>();
  private readonly trained = new Map<string, { at: Date; runId: string }>();

  /** Sets a month's usage directly (seeding a scenario; not part of the port). */
  seedMonth(stage: string, month: LedgerMonth, usedGpuHours: number): void {
    this.months.set(`${stage}|${month}`, roundGpuHours(usedGpuHours));
  }

  /** Every job booked so far (training and eval), in booking order. */
  bookedRuns(): GpuRunRecord[] {
    return [...this.runs.values()];
  }

  async monthUsage(stage: string, month: LedgerMonth): Promise<number> {
    return this.months.get(`${stage}|${month}`) ?? 0;
  }

  async recordRun(run: GpuRunRecord): Promise<RecordRunOutcome> {
    const record = gpuRunRecordSchema.parse(run);
    const key = `${record.stage}|${record.runId}|${record.jobKind}`;
    const existing = this.runs.get(key);
    if (existing !== undefined) {
      return { recorded: false, run: existing, monthUsedGpuHours: await this.monthUsage(existing.stage, existing.month) };
    }
    this.runs.set(key, record);
    for (const [month, hours] of Object.entries(record.gpuHoursByMonth)) {
      const monthKey = `${record.stage}|${month}`;
      this.months.set(monthKey, roundGpuHours((this.months.get(monthKey) ?? 0) + hours));
    }
    return { recorded: true, run: record, monthUsedGpuHours: await this.monthUsage(record.stage, record.month) };
  }

  async markTrained(targetModelId: string, at: Date, runId: string): Promise<void> {
    const current = this.trained.get(targetModelId);
    if (current === undefined || current.at.getTime() < at.getTime()) this.trained.set(targetModelId, { at: new Date(at), runId });
  }

  async lastTrainedAt(targetModelId: string): Promise<Date | undefined> {
    const entry = this.trained.get(targetModelId);
    return entry === undefined ? undefined : new Date(entry.at);
  }
}
