/**
 * A GPU ledger held in memory, with the same semantics as DynamoDbLedger (each job of a run is booked
 * once, last-trained never moves backwards, a reservation is held only within the ceiling). Every
 * method runs without awaiting in between its read and its write, so concurrent runs in one process
 * see each other's reservations exactly as the DynamoDB conditions make them do. For domain tests without mocks and for local mode, which can
 * seed it with a month's usage to play the over-budget path.
 */
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

export class InMemoryLedger implements GpuLedger, TrainingHistory {
  private readonly months = new Map<string, number>();
  private readonly runs = new Map<string, GpuRunRecord>();
  private readonly trained = new Map<string, { at: Date; runId: string }>();
  private readonly reserved = new Map<string, number>();
  private readonly reservations = new Map<string, GpuReservation>();

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

  /** Every reservation made so far, in order (held and released). */
  allReservations(): GpuReservation[] {
    return [...this.reservations.values()];
  }

  async monthCommitment(stage: string, month: LedgerMonth): Promise<MonthCommitment> {
    return { usedGpuHours: this.months.get(`${stage}|${month}`) ?? 0, reservedGpuHours: this.reserved.get(`${stage}|${month}`) ?? 0 };
  }

  async reserve(request: ReservationRequest): Promise<ReserveOutcome> {
    const key = `${request.stage}|${request.runId}`;
    const existing = this.reservations.get(key);
    if (existing !== undefined) return { reserved: true, reservation: existing, commitment: await this.monthCommitment(existing.stage, existing.month) };
    const before = await this.monthCommitment(request.stage, request.month);
    if (!request.overCeilingApproved && !reservationFits(before, request.gpuHours, request.ceilingGpuHours)) return { reserved: false, commitment: before };
    const reservation = newReservation(request);
    this.reservations.set(key, reservation);
    this.addReserved(request.stage, request.month, reservation.reservedGpuHours);
    return { reserved: true, reservation, commitment: await this.monthCommitment(request.stage, request.month) };
  }

  async convertReservation(stage: string, runId: string, jobKind: GpuJobKind, bookedGpuHours: number): Promise<ReservationChange> {
    const reservation = this.reservations.get(`${stage}|${runId}`);
    const gpuHours = reservation === undefined ? 0 : conversionOf(reservation, jobKind, bookedGpuHours);
    if (reservation === undefined || gpuHours === 0) return { gpuHours: 0 };
    this.reservations.set(`${stage}|${runId}`, afterConversion(reservation, jobKind, gpuHours));
    this.addReserved(stage, reservation.month, -gpuHours);
    return { gpuHours };
  }

  async releaseReservation(stage: string, runId: string, at: string): Promise<ReservationChange> {
    const reservation = this.reservations.get(`${stage}|${runId}`);
    if (reservation === undefined || reservation.status !== 'held') return { gpuHours: 0 };
    this.reservations.set(`${stage}|${runId}`, afterRelease(reservation, at));
    this.addReserved(stage, reservation.month, -reservation.remainingGpuHours);
    return { gpuHours: reservation.remainingGpuHours };
  }

  private addReserved(stage: string, month: LedgerMonth, gpuHours: number): void {
    const key = `${stage}|${month}`;
    this.reserved.set(key, roundGpuHours((this.reserved.get(key) ?? 0) + gpuHours));
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
