/**
 * Reads what Step Functions hands back from `arn:aws:states:::batch:submitJob.sync`: on success the
 * task result is the Batch job description (DescribeJobs' job detail with PascalCase keys: `JobId`,
 * `Status`, `Attempts[]` each with `StartedAt`/`StoppedAt` in epoch milliseconds, `StatusReason`,
 * `Container.{ExitCode,Reason}`); on failure the Catch's error object is
 * `{ Error: "States.TaskFailed", Cause: "<that same description as a JSON string>" }`. A failure
 * before any job existed (the SubmitJob call was refused) has a `Batch.*` error and a plain-text cause.
 */
import * as z from '../../shared/zod-mini';

const epochMillis = z.number().check(z.int(), z.nonnegative());

/** One attempt of a Batch job (AttemptDetail); only what GPU accounting and logging need. */
const attemptSchema = z.looseObject({
  StartedAt: z.optional(epochMillis),
  StoppedAt: z.optional(epochMillis),
  StatusReason: z.optional(z.string()),
  Container: z.optional(z.looseObject({ ExitCode: z.optional(z.number().check(z.int())), Reason: z.optional(z.string()) })),
});

type BatchAttempt = z.infer<typeof attemptSchema>;

/** The Batch job description as Step Functions returns it (PascalCase). */
export const batchJobDescriptionSchema = z.looseObject({
  JobId: z.optional(z.string()),
  JobName: z.optional(z.string()),
  Status: z.string(),
  StatusReason: z.optional(z.string()),
  StartedAt: z.optional(epochMillis),
  StoppedAt: z.optional(epochMillis),
  Attempts: z._default(z.array(attemptSchema), []),
});
export type BatchJobDescription = z.infer<typeof batchJobDescriptionSchema>;

/** The error object a Catch places at its ResultPath. */
export const taskErrorSchema = z.looseObject({ Error: z.string(), Cause: z.optional(z.string()) });
export type TaskError = z.infer<typeof taskErrorSchema>;

/** Batch gives a reclaimed Spot attempt this status reason (`Host EC2 (instance i-...) terminated.`). */
export const SPOT_RECLAIM_STATUS_PREFIX = 'Host EC2';

/** One span of time an attempt held its GPUs. */
export interface AttemptSpan {
  readonly startedAt: number;
  readonly stoppedAt: number;
  readonly spotReclaimed: boolean;
  readonly statusReason?: string;
  readonly exitCode?: number;
}

/** What a Batch job (training or eval) did, as far as the GPU ledger is concerned. */
export type BatchJobOutcome =
  | {
      readonly kind: 'job';
      readonly status: 'SUCCEEDED' | 'FAILED';
      readonly jobId?: string;
      /** Attempts Batch reports, including those that never started. */
      readonly attempts: number;
      readonly spans: readonly AttemptSpan[];
      readonly statusReason?: string;
    }
  /** The job was never created: the SubmitJob call failed (`Batch.*` errors), so no GPU was used. */
  | { readonly kind: 'not-started'; readonly error: string; readonly cause?: string }
  /** The job's usage cannot be read from the error (a Step Functions timeout, an unknown cause). */
  | { readonly kind: 'unknown'; readonly error: string; readonly cause?: string };

/**
 * The time each attempt held its GPUs. An attempt without `StartedAt` never reached RUNNING and held
 * none. An attempt that started but has no `StoppedAt` (not seen in practice for a finished job) is
 * charged up to the job's `StoppedAt`, else up to `now`: the ledger must not under-count. A
 * description without attempts but with job-level times is taken as one attempt.
 */
export function attemptSpans(job: BatchJobDescription, now: number): AttemptSpan[] {
  const jobAsAttempt: BatchAttempt = { StartedAt: job.StartedAt, StoppedAt: job.StoppedAt, StatusReason: job.StatusReason };
  const attempts: readonly BatchAttempt[] = job.Attempts.length > 0 ? job.Attempts : job.StartedAt === undefined ? [] : [jobAsAttempt];
  const spans: AttemptSpan[] = [];
  for (const attempt of attempts) {
    if (attempt.StartedAt === undefined) continue;
    const stoppedAt = Math.max(attempt.StartedAt, attempt.StoppedAt ?? job.StoppedAt ?? now);
    const exitCode = attempt.Container?.ExitCode;
    spans.push({
      startedAt: attempt.StartedAt,
      stoppedAt,
      spotReclaimed: attempt.StatusReason?.startsWith(SPOT_RECLAIM_STATUS_PREFIX) ?? false,
      ...(attempt.StatusReason === undefined ? {} : { statusReason: attempt.StatusReason }),
      ...(exitCode === undefined ? {} : { exitCode }),
    });
  }
  return spans;
}

function fromDescription(job: BatchJobDescription, now: number): BatchJobOutcome {
  return {
    kind: 'job',
    status: job.Status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
    ...(job.JobId === undefined ? {} : { jobId: job.JobId }),
    attempts: Math.max(job.Attempts.length, job.Attempts.length === 0 && job.StartedAt !== undefined ? 1 : 0),
    spans: attemptSpans(job, now),
    ...(job.StatusReason === undefined ? {} : { statusReason: job.StatusReason }),
  };
}

function parseCause(cause: string | undefined): BatchJobDescription | undefined {
  if (cause === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(cause);
  } catch {
    return undefined;
  }
  const parsed = batchJobDescriptionSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Reads a Batch job's outcome from its state's result (`job`: `Train` or `Evaluate`) or its caught
 * error (`error`). Exactly one of them is expected.
 *
 * @throws Error when `job` is present but is not a Batch job description (a wiring mistake).
 */
export function batchJobOutcome(input: { job?: unknown; error?: TaskError }, now: number): BatchJobOutcome {
  if (input.job !== undefined) {
    const parsed = batchJobDescriptionSchema.safeParse(input.job);
    if (!parsed.success) {
      throw new Error(`the Batch task result is not a Batch job description: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    return fromDescription(parsed.data, now);
  }
  if (input.error === undefined) throw new Error('Booking GPU hours needs the Batch task result (`job`) or its caught error (`error`)');
  const description = parseCause(input.error.Cause);
  if (description !== undefined) return fromDescription(description, now);
  const base = { error: input.error.Error, ...(input.error.Cause === undefined ? {} : { cause: input.error.Cause }) };
  // `Batch.*` errors come from the SubmitJob API call (Step Functions' service-integration naming):
  // the job was never created. Anything else without a description leaves usage unknown.
  return input.error.Error.startsWith('Batch.') ? { kind: 'not-started', ...base } : { kind: 'unknown', ...base };
}
