/**
 * `Record GPU hours` / `Record GPU hours of failed run` (the training job, from Train's result or Catch)
 * and `Record eval GPU hours` / `Record GPU hours of failed eval` (the eval job, from Evaluate's): books
 * a job's actual GPU-hours in the ledger whether it succeeded or failed, once per run and job kind, and
 * marks the target model as trained when its training job produced a model. The booked hours are taken
 * off the run's reservation (reserve-budget.ts), at most what it still holds.
 */
import * as z from '../../shared/zod-mini';
import { budgetCheckSchema, GPU_JOB_KINDS, validatedRequestSchema, type GpuJobKind, type GpuUsage } from '../contracts';
import { batchJobOutcome, taskErrorSchema, type BatchJobOutcome } from './batch-job';
import { gpuHoursByMonth, totalGpuHours } from './gpu-hours';
import { roundGpuHours, utcMonth, type GpuLedger, type GpuRunRecord } from './ledger';

/**
 * `$.budget` as this step reads it. A check made before eval jobs were booked has no split of the
 * estimate, and its estimate was the training job's alone; an execution started on that definition
 * still calls this function (the new code) for its training job after a deploy.
 */
const bookedBudgetSchema = z.partial(budgetCheckSchema, { trainEstimateGpuHours: true, evalEstimateGpuHours: true });

/** `{ jobKind, request, budget, job: $.trainJob | $.evalJob }` or `{ jobKind, request, budget, error: $.error }`. */
export const recordGpuHoursEventSchema = z.object({
    /** Absent only in executions started before eval jobs were booked, which book their training job alone. */
    jobKind: z._default(z.enum(GPU_JOB_KINDS), 'train'),
    request: validatedRequestSchema,
    budget: bookedBudgetSchema,
    job: z.optional(z.unknown()),
    error: z.optional(taskErrorSchema),
  }).check(z.refine((e) => (e.job === undefined) !== (e.error === undefined), { message: 'exactly one of `job` (the Batch task result) and `error` (its caught error) is expected' }));
export type RecordGpuHoursEvent = z.infer<typeof recordGpuHoursEventSchema>;

export interface RecordGpuHoursDeps {
  readonly ledger: GpuLedger;
  /** GPUs one job holds (settings.training.gpusPerJob; the eval job definition reserves the same). */
  readonly gpusPerJob: number;
  readonly now: Date;
}

/** What the step did, for the handler's log line and metrics. */
export interface RecordGpuHoursResult {
  readonly usage: GpuUsage;
  readonly run: GpuRunRecord;
  readonly outcome: BatchJobOutcome;
  /** False when the job was already in the ledger (a retried invocation). */
  readonly recorded: boolean;
  /** Hours taken off the run's reservation now that they are booked (0 when it held none, or on a retry). */
  readonly convertedGpuHours: number;
}

/** What a job was allowed to use, charged when its usage cannot be read. Without a split, the whole estimate: never under-count. */
function allowedGpuHours(budget: RecordGpuHoursEvent['budget'], jobKind: GpuJobKind): number {
  const share: Record<GpuJobKind, number | undefined> = { train: budget.trainEstimateGpuHours, eval: budget.evalEstimateGpuHours };
  return roundGpuHours(share[jobKind] ?? budget.estimateGpuHours);
}

function runRecord(event: RecordGpuHoursEvent, outcome: BatchJobOutcome, gpus: number, now: Date): GpuRunRecord {
  const { request } = event;
  const common = { stage: request.stage, runId: request.runId, jobKind: event.jobKind, targetModelId: request.targetModelId, gpusPerJob: gpus, recordedAt: now.toISOString() };
  if (outcome.kind === 'job') {
    const byMonth = gpuHoursByMonth(outcome.spans, gpus);
    const lastStop = outcome.spans.reduce<number | undefined>((latest, s) => (latest === undefined || s.stoppedAt > latest ? s.stoppedAt : latest), undefined);
    return {
      ...common,
      month: utcMonth(lastStop === undefined ? now : new Date(lastStop)),
      gpuHours: totalGpuHours(byMonth),
      gpuHoursByMonth: byMonth,
      attempts: outcome.attempts,
      spotReclaims: outcome.spans.filter((s) => s.spotReclaimed).length,
      jobStatus: outcome.status,
      source: 'batch-attempts',
      ...(outcome.jobId === undefined ? {} : { jobId: outcome.jobId }),
    };
  }
  const month = utcMonth(now);
  if (outcome.kind === 'not-started') {
    return { ...common, month, gpuHours: 0, gpuHoursByMonth: {}, attempts: 0, spotReclaims: 0, jobStatus: 'NOT_STARTED', source: 'not-started' };
  }
  // Usage unknown (e.g. States.Timeout): charge what the job was allowed to use rather than nothing.
  // A guardrail that under-counts is no guardrail; FinOps can correct the ledger from the Batch console.
  const estimate = allowedGpuHours(event.budget, event.jobKind);
  return { ...common, month, gpuHours: estimate, gpuHoursByMonth: estimate > 0 ? { [month]: estimate } : {}, attempts: 0, spotReclaims: 0, jobStatus: 'UNKNOWN', source: 'estimate' };
}

/**
 * Books a job's GPU-hours and returns GpuUsage. A retry with the same run id and job kind books nothing
 * more and returns the first booking's figures; the training and the eval job of one run are two
 * bookings. The target model counts as trained (eligibility cooldown) only when its training job
 * succeeded: a failed job produced no model, and blocking a fixed re-run for the cooldown would only
 * delay it; an eval job trains nothing. Their GPU-hours are counted all the same.
 */
export async function recordGpuHours(event: RecordGpuHoursEvent, deps: RecordGpuHoursDeps): Promise<RecordGpuHoursResult> {
  const outcome = batchJobOutcome(event, deps.now.getTime());
  const candidate = runRecord(event, outcome, deps.gpusPerJob, deps.now);
  const { recorded, run, monthUsedGpuHours } = await deps.ledger.recordRun(candidate);
  // After the booking, not before: for a moment the hours count twice (booked and reserved), which can
  // only make another run wait, never let one through. A retry converts nothing twice.
  const { gpuHours: convertedGpuHours } = await deps.ledger.convertReservation(run.stage, run.runId, run.jobKind, run.gpuHours, deps.now.toISOString());
  if (run.jobKind === 'train' && run.jobStatus === 'SUCCEEDED') {
    const endedAt = outcome.kind === 'job' && outcome.spans.length > 0 ? new Date(Math.max(...outcome.spans.map((s) => s.stoppedAt))) : deps.now;
    await deps.ledger.markTrained(run.targetModelId, endedAt, run.runId);
  }
  return {
    usage: { runId: run.runId, jobKind: run.jobKind, month: run.month, attempts: run.attempts, gpuHours: run.gpuHours, monthUsedGpuHours },
    run,
    outcome,
    recorded,
    convertedGpuHours,
  };
}
