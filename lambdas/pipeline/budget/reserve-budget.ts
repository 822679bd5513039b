/**
 * `Reserve GPU budget` / `Reserve GPU budget approved by FinOps` (once the training approval is granted)
 * and the `Release GPU reservation` states (every way the run can end after that): the binding half of
 * the GPU budget. `Check GPU budget` only advises; an approval can wait days, and two runs that each
 * passed the check could together cross the ceiling. The reservation holds the run's estimate in the
 * ledger atomically, the booking steps convert it to actual hours job by job (record-gpu-hours.ts), and
 * the release gives back whatever is left.
 */
import * as z from '../../shared/zod-mini';
import { budgetCheckSchema, validatedRequestSchema, type ValidatedRequest } from '../contracts';
import { parseTaskInput } from '../approvals/parse-input';
import { runIdFromExecutionName } from '../validate-request/run-id';
import { utcMonth, type GpuLedger } from './ledger';

/** `$.reservation`: what the reservation did, for the `Budget reserved?` choice and the run's record. */
export interface BudgetReservation {
  /** False: the month has no room for this run's estimate; the run goes to FinOps approval. */
  readonly reserved: boolean;
  readonly runId: string;
  readonly month: string;
  readonly gpuHours: number;
  readonly usedGpuHours: number;
  readonly reservedGpuHours: number;
  readonly ceilingGpuHours: number;
  readonly overCeilingApproved: boolean;
}

/** `$.reservationRelease`. */
export interface ReservationRelease {
  readonly runId: string;
  /** Hours given back (0 when the run held nothing: it never reserved, or released already). */
  readonly releasedGpuHours: number;
}

/** The reserve states' input: `{ operation: 'reserve', request, budget, overCeilingApproved }`. */
export interface ReserveEvent {
  readonly request: ValidatedRequest;
  readonly estimateGpuHours: number;
  readonly overCeilingApproved: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a reserve state's input; a clear error names what is wrong. */
export function parseReserveEvent(event: unknown): ReserveEvent {
  if (!isRecord(event) || typeof event.overCeilingApproved !== 'boolean') {
    throw new Error('Invalid input to Reserve GPU budget: expected { operation: "reserve", request, budget, overCeilingApproved: boolean }');
  }
  const request = parseTaskInput(validatedRequestSchema, event.request, 'Reserve GPU budget (request)');
  const budget = parseTaskInput(z.partial(budgetCheckSchema, { trainEstimateGpuHours: true, evalEstimateGpuHours: true }), event.budget, 'Reserve GPU budget (budget)');
  return { request, estimateGpuHours: budget.estimateGpuHours, overCeilingApproved: event.overCeilingApproved };
}

/**
 * Reads a release's input: `{ operation: 'release', executionName }` from a release state, or with
 * `endedAs` (the execution's end status) from the rule on executions that ended without one
 * (execution-ended.ts). The run id is derived from the execution name, as Validate request does.
 */
export function parseReleaseEvent(event: unknown): { readonly runId: string; readonly endedAs?: string } {
  if (!isRecord(event) || typeof event.executionName !== 'string' || event.executionName === '') {
    throw new Error('Invalid input to Release GPU reservation: expected { operation: "release", executionName }');
  }
  if (event.endedAs !== undefined && typeof event.endedAs !== 'string') throw new Error('Invalid input to Release GPU reservation: endedAs must be the execution status');
  return { runId: runIdFromExecutionName(event.executionName), ...(typeof event.endedAs === 'string' ? { endedAs: event.endedAs } : {}) };
}

export interface ReservationDeps {
  readonly ledger: GpuLedger;
  readonly stage: string;
  readonly ceilingGpuHours: number;
  readonly now: Date;
}

/**
 * Holds the run's estimate against the current month (the month the GPUs will start in, which may not be
 * the month of the check if the approval waited across a month end). Without a FinOps approval it holds
 * only within the ceiling; after one, it holds past it, so later runs see these hours too.
 */
export async function reserveGpuBudget(event: ReserveEvent, deps: ReservationDeps): Promise<BudgetReservation> {
  const month = utcMonth(deps.now);
  const outcome = await deps.ledger.reserve({
    stage: deps.stage,
    runId: event.request.runId,
    month,
    gpuHours: event.estimateGpuHours,
    ceilingGpuHours: deps.ceilingGpuHours,
    overCeilingApproved: event.overCeilingApproved,
    at: deps.now.toISOString(),
  });
  return {
    reserved: outcome.reserved,
    runId: event.request.runId,
    month: outcome.reservation?.month ?? month,
    gpuHours: outcome.reservation?.reservedGpuHours ?? event.estimateGpuHours,
    usedGpuHours: outcome.commitment.usedGpuHours,
    reservedGpuHours: outcome.commitment.reservedGpuHours,
    ceilingGpuHours: deps.ceilingGpuHours,
    overCeilingApproved: outcome.reservation?.overCeilingApproved ?? event.overCeilingApproved,
  };
}

/** Gives back what the run still holds. */
export async function releaseGpuReservation(runId: string, deps: Omit<ReservationDeps, 'ceilingGpuHours'>): Promise<ReservationRelease> {
  const change = await deps.ledger.releaseReservation(deps.stage, runId, deps.now.toISOString());
  return { runId, releasedGpuHours: change.gpuHours };
}
