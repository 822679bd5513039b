/**
 * `Record GPU hours` (after Train succeeds) and `Record GPU hours of failed run` (from Train's Catch):
 * books the run's actual GPU-hours in the ledger whether the job succeeded or failed, once per run,
 * and marks the target model as trained when a model was produced.
 */
import { z } from 'zod';
import { budgetCheckSchema, validatedRequestSchema, type GpuUsage } from '../contracts';
import { taskErrorSchema, trainJobOutcome, type TrainJobOutcome } from './batch-job';
import { gpuHoursByMonth, totalGpuHours } from './gpu-hours';
import { roundGpuHours, utcMonth, type GpuLedger, type GpuRunRecord } from './ledger';

/** `{ request, budget, job: $.trainJob }` or `{ request, budget, error: $.error }`. */
export const recordGpuHoursEventSchema = z
  .object({
    request: validatedRequestSchema,
    budget: budgetCheckSchema,
    job: z.unknown().optional(),
    error: taskErrorSchema.optional(),
  })
  .refine((e) => (e.job === undefined) !== (e.error === undefined), { message: 'exactly one of `job` (the Train result) and `error` (its caught error) is expected' });
export type RecordGpuHoursEvent = z.infer<typeof recordGpuHoursEventSchema>;

export interface RecordGpuHoursDeps {
  readonly ledger: GpuLedger;
  /** GPUs one training job holds (settings.training.gpusPerJob). */
  readonly gpusPerJob: number;
  readonly now: Date;
}

/** What the step did, for the handler's log line and metrics. */
export interface RecordGpuHoursResult {
  readonly usage: GpuUsage;
  readonly run: GpuRunRecord;
  readonly outcome: TrainJobOutcome;
  /** False when the run was already in the ledger (a retried invocation). */
  readonly recorded: boolean;
}

function runRecord(event: RecordGpuHoursEvent, outcome: TrainJobOutcome, gpus: number, now: Date): GpuRunRecord {
  const common = { stage: event.request.stage, runId: event.request.runId, targetModelId: event.request.targetModelId, gpusPerJob: gpus, recordedAt: now.toISOString() };
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
  // Usage unknown (e.g. States.Timeout): charge what the run was allowed to use rather than nothing.
  // A guardrail that under-counts is no guardrail; FinOps can correct the ledger from the Batch console.
  const estimate = roundGpuHours(event.budget.estimateGpuHours);
  return { ...common, month, gpuHours: estimate, gpuHoursByMonth: estimate > 0 ? { [month]: estimate } : {}, attempts: 0, spotReclaims: 0, jobStatus: 'UNKNOWN', source: 'estimate' };
}

/**
 * Books a run's GPU-hours and returns GpuUsage. A retry with the same run id books nothing more and
 * returns the first booking's figures. The target model counts as trained (eligibility cooldown) only
 * when its job succeeded: a failed job produced no model, and blocking a fixed re-run for the cooldown
 * would only delay it; its GPU-hours are counted all the same.
 */
export async function recordGpuHours(event: RecordGpuHoursEvent, deps: RecordGpuHoursDeps): Promise<RecordGpuHoursResult> {
  const outcome = trainJobOutcome(event, deps.now.getTime());
  const candidate = runRecord(event, outcome, deps.gpusPerJob, deps.now);
  const { recorded, run, monthUsedGpuHours } = await deps.ledger.recordRun(candidate);
  if (run.jobStatus === 'SUCCEEDED') {
    const endedAt = outcome.kind === 'job' && outcome.spans.length > 0 ? new Date(Math.max(...outcome.spans.map((s) => s.stoppedAt))) : deps.now;
    await deps.ledger.markTrained(run.targetModelId, endedAt, run.runId);
  }
  return {
    usage: { runId: run.runId, month: run.month, attempts: run.attempts, gpuHours: run.gpuHours, monthUsedGpuHours },
    run,
    outcome,
    recorded,
  };
}
