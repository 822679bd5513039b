/**
 * The job record: one item per Batch job a training run submits (`train`, `eval`, `train-router`), in the
 * stage's jobs table. The training pipeline writes it itself with native `dynamodb:updateItem` states
 * (stepfunctions/job-records.ts) beside each `sial.job.updated` event, so no Lambda and no subscriber is
 * involved; `sial jobs` reads it. Ids, URIs, counts and an error's name only, never a cause (a failed
 * Batch job's cause is its job description).
 *
 * Every write sets the job's identity whole (kind, run, target, dataset, output) and appends one entry
 * to `history`, so the item is complete whichever write lands first, and the latest `status` is the
 * last entry's.
 */
import * as z from '../../shared/zod-mini';
import { JOB_EVENT_KINDS, JOB_EVENT_STATUSES, type JobEventKind } from '../../../stepfunctions/pipeline-events';

/** Key schema of the jobs table: one string partition key, the job id. */
export const JOB_RECORDS_TABLE_SCHEMA = { partitionKey: 'jobId' } as const;

/** The job kinds and statuses are the job events' (the record and the event describe the same moments). */
export const JOB_KINDS = JOB_EVENT_KINDS;
export const JOB_STATUSES = JOB_EVENT_STATUSES;
export type JobKind = JobEventKind;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * A job's id: the name it is submitted to Batch with, `<kind>-<runId>`, which Batch's own `aws.batch`
 * events and the `sial.job.updated` events carry as `jobName`.
 */
export function jobIdOf(kind: JobKind, runId: string): string {
  return `${kind}-${runId}`;
}

const isoInstant = z.iso.datetime({ offset: true });
const text = z.string().check(z.minLength(1));
const attempts = z.number().check(z.int(), z.nonnegative());

/** One status change, as the state that recorded it saw it. */
export const jobHistoryEntrySchema = z.object({
  status: z.enum(JOB_STATUSES),
  /** When the recording state was entered (`$$.State.EnteredTime`). */
  at: isoInstant,
  /** Batch attempts, Spot retries included, as the booking counted them (succeeded and failed only). */
  attempts: z.optional(attempts),
  /** Batch's job id (succeeded only: a failed job's id is only in its error's cause). */
  batchJobId: z.optional(text),
  /** The error's name (failed only). */
  error: z.optional(text),
});
export type JobHistoryEntry = z.infer<typeof jobHistoryEntrySchema>;

export const jobRecordSchema = z.object({
  jobId: text,
  jobKind: z.enum(JOB_KINDS),
  runId: text,
  /** The training pipeline's execution (its name is the run's). */
  executionName: text,
  targetModelId: text,
  datasetId: text,
  /** Where the run's model is written (train jobs) or read from (the eval job). */
  modelOutputUri: text,
  /** The latest status. */
  status: z.enum(JOB_STATUSES),
  updatedAt: isoInstant,
  submittedAt: z.optional(isoInstant),
  /** When the job's end (succeeded or failed) was recorded. */
  endedAt: z.optional(isoInstant),
  attempts: z.optional(attempts),
  batchJobId: z.optional(text),
  error: z.optional(text),
  history: z.array(jobHistoryEntrySchema),
});
export type JobRecord = z.infer<typeof jobRecordSchema>;

/** Parses a stored item (DynamoDB's, unmarshalled; or the local file's); the message names the item. */
export function parseJobRecord(item: unknown): JobRecord {
  const parsed = jobRecordSchema.safeParse(item);
  if (parsed.success) return parsed.data;
  const id = typeof item === 'object' && item !== null && 'jobId' in item ? String((item as { jobId: unknown }).jobId) : '(no jobId)';
  throw new Error(`job record ${id} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'} ${i.message}`).join('; ')}`);
}

/** What `sial jobs list` filters by. */
export interface JobFilter {
  /** A run id or an execution name (they are the same for the pipeline's runs). */
  readonly run?: string;
  readonly status?: JobStatus;
}

/** The records that match, newest submission first (then by job id, so the order is stable). */
export function selectJobs(records: readonly JobRecord[], filter: JobFilter): JobRecord[] {
  const started = (r: JobRecord): string => r.submittedAt ?? r.history[0]?.at ?? r.updatedAt;
  return records
    .filter((r) => filter.run === undefined || r.runId === filter.run || r.executionName === filter.run)
    .filter((r) => filter.status === undefined || r.status === filter.status)
    .sort((a, b) => started(b).localeCompare(started(a)) || a.jobId.localeCompare(b.jobId));
}
