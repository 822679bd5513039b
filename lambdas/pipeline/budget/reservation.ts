/**
 * The arithmetic of GPU-hour reservations, shared by both ledger adapters so they cannot disagree: when
 * a reservation fits under the ceiling, and what converting a booked job or releasing a run takes off.
 */
import type { GpuJobKind } from '../contracts';
import { roundGpuHours, type GpuReservation, type MonthCommitment } from './ledger';

/** Used + reserved + the new estimate within the ceiling (landing exactly on it is within, like the check). */
export function reservationFits(commitment: MonthCommitment, gpuHours: number, ceilingGpuHours: number): boolean {
  return roundGpuHours(commitment.usedGpuHours + commitment.reservedGpuHours + gpuHours) <= ceilingGpuHours;
}

/**
 * Hours a booked job takes off its run's reservation: what it used, at most what is still held; 0 when
 * the reservation was released or already converted this job (a retried booking).
 */
export function conversionOf(reservation: GpuReservation, jobKind: GpuJobKind, bookedGpuHours: number): number {
  if (reservation.status !== 'held' || reservation.convertedJobs.includes(jobKind)) return 0;
  return roundGpuHours(Math.min(reservation.remainingGpuHours, Math.max(bookedGpuHours, 0)));
}

/** The reservation after `jobKind`'s booking took `gpuHours` off it. */
export function afterConversion(reservation: GpuReservation, jobKind: GpuJobKind, gpuHours: number): GpuReservation {
  return { ...reservation, remainingGpuHours: roundGpuHours(reservation.remainingGpuHours - gpuHours), convertedJobs: [...reservation.convertedJobs, jobKind] };
}

/** The reservation once released: nothing held any more. */
export function afterRelease(reservation: GpuReservation, at: string): GpuReservation {
  return { ...reservation, remainingGpuHours: 0, status: 'released', releasedAt: at };
}

/** A new reservation of `gpuHours`. */
export function newReservation(request: { stage: string; runId: string; month: string; gpuHours: number; overCeilingApproved: boolean; at: string }): GpuReservation {
  const gpuHours = roundGpuHours(request.gpuHours);
  return {
    stage: request.stage,
    runId: request.runId,
    month: request.month,
    reservedGpuHours: gpuHours,
    remainingGpuHours: gpuHours,
    convertedJobs: [],
    status: 'held',
    overCeilingApproved: request.overCeilingApproved,
    reservedAt: request.at,
  };
}
