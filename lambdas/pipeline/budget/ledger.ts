/**
 * The GPU-hour ledger port (a monthly GPU-hour ceiling per stage). The ledger holds
 * month totals, one record per GPU job of a run (its training job and its eval job, each written once,
 * so a retried Lambda cannot count a job twice) and, per target model, when it last trained (the
 * eligibility cooldown reads it), and the reservations of runs under way (each run's estimate, held
 * from its training approval until its jobs are booked and it ends). DynamoDbLedger is the AWS adapter; InMemoryLedger serves tests and
 * local mode.
 */
import * as z from '../../shared/zod-mini';
import { GPU_JOB_KINDS, type GpuJobKind } from '../contracts';

/** Calendar month in UTC, `YYYY-MM`: the ledger's unit of account. */
export type LedgerMonth = string;

/** The UTC calendar month of an instant. */
export function utcMonth(at: Date): LedgerMonth {
  return at.toISOString().slice(0, 7);
}

/** Ledger figures are kept to a millionth of a GPU-hour (3.6 ms of one GPU); finer digits are float noise. */
export function roundGpuHours(hours: number): number {
  return Math.round(hours * 1e6) / 1e6;
}

/** How a run's GPU-hours were established. */
export const GPU_HOURS_SOURCES = [
  /** Summed over the Batch job's attempts (StartedAt..StoppedAt). */
  'batch-attempts',
  /** The job never started (the SubmitJob call itself failed): nothing ran. */
  'not-started',
  /** The job's usage could not be read (e.g. the task timed out in Step Functions): the budget estimate was charged. */
  'estimate',
] as const;

/** One GPU job of a run (its training or its eval job) as the ledger holds it. */
export const gpuRunRecordSchema = z.strictObject({
  stage: z.string().check(z.minLength(1)),
  runId: z.string().check(z.minLength(1)),
  /** Items booked before eval jobs were booked have no kind: they are all training jobs. */
  jobKind: z._default(z.enum(GPU_JOB_KINDS), 'train'),
  targetModelId: z.string().check(z.minLength(1)),
  /** The month the job ended in; GpuUsage.month. */
  month: z.string().check(z.regex(/^\d{4}-\d{2}$/)),
  gpuHours: z.number().check(z.nonnegative()),
  /** The same hours split by the UTC month they were used in (a job can cross midnight at month end). */
  gpuHoursByMonth: z.record(z.string().check(z.regex(/^\d{4}-\d{2}$/)), z.number().check(z.nonnegative())),
  attempts: z.number().check(z.int(), z.nonnegative()),
  /** Attempts that ended because the Spot instance was reclaimed (`Host EC2*`). */
  spotReclaims: z.number().check(z.int(), z.nonnegative()),
  jobStatus: z.enum(['SUCCEEDED', 'FAILED', 'NOT_STARTED', 'UNKNOWN']),
  source: z.enum(GPU_HOURS_SOURCES),
  gpusPerJob: z.number().check(z.int(), z.positive()),
  jobId: z.optional(z.string()),
  recordedAt: z.iso.datetime({ offset: true }),
});
export type GpuRunRecord = z.infer<typeof gpuRunRecordSchema>;

/** What recording a job did. */
export interface RecordRunOutcome {
  /** False when the job was already in the ledger (a retry): nothing was added the second time. */
  readonly recorded: boolean;
  /** The job as the ledger holds it (the first write's values on a retry). */
  readonly run: GpuRunRecord;
  /** The total of `run.month` after the job was added. */
  readonly monthUsedGpuHours: number;
}

/** A month's booked hours and the hours held by reservations of runs still under way. */
export interface MonthCommitment {
  readonly usedGpuHours: number;
  readonly reservedGpuHours: number;
}

/** What `reserve` is asked to hold for a run. */
export interface ReservationRequest {
  readonly stage: string;
  readonly runId: string;
  /** The month the reservation counts against (the UTC month it is made in). */
  readonly month: LedgerMonth;
  /** The run's estimate (BudgetCheck.estimateGpuHours). */
  readonly gpuHours: number;
  readonly ceilingGpuHours: number;
  /** True after a FinOps approval of this run: the hours are held even past the ceiling. */
  readonly overCeilingApproved: boolean;
  /** ISO instant of the reservation. */
  readonly at: string;
}

/** A run's reservation as the ledger holds it. */
export interface GpuReservation {
  readonly stage: string;
  readonly runId: string;
  readonly month: LedgerMonth;
  /** The hours reserved at first. */
  readonly reservedGpuHours: number;
  /** What is still held: the reservation less the hours converted into bookings, 0 once released. */
  readonly remainingGpuHours: number;
  /** The run's jobs whose booked hours were taken off the reservation (each once). */
  readonly convertedJobs: readonly GpuJobKind[];
  readonly status: 'held' | 'released';
  readonly overCeilingApproved: boolean;
  readonly reservedAt: string;
  readonly releasedAt?: string;
}

/** What `reserve` did. */
export interface ReserveOutcome {
  /** False when the month's used plus reserved hours plus this run's would pass the ceiling: nothing was held. */
  readonly reserved: boolean;
  /** The run's reservation (the first one's values when the run had already reserved). */
  readonly reservation?: GpuReservation;
  /** The month's figures after the call (before it when nothing was held). */
  readonly commitment: MonthCommitment;
}

/** The hours a conversion or a release took off the month's reserved hours (0 when it had nothing to do). */
export interface ReservationChange {
  readonly gpuHours: number;
}

/** Reads and writes the GPU-hour ledger of a deployment. */
export interface GpuLedger {
  /** GPU-hours used by a stage in a month (0 when nothing was recorded). */
  monthUsage(stage: string, month: LedgerMonth): Promise<number>;
  /** GPU-hours used and reserved in a month (both 0 when nothing was recorded). */
  monthCommitment(stage: string, month: LedgerMonth): Promise<MonthCommitment>;
  /**
   * Holds a run's estimate against its month, atomically: only when used + reserved + the estimate stays
   * within the ceiling (or FinOps approved going past it). Two runs reserving at once cannot both pass
   * on the same headroom. A second call for the same run holds nothing more and returns the first.
   */
  reserve(request: ReservationRequest): Promise<ReserveOutcome>;
  /**
   * Takes a booked job's hours off its run's reservation (at most what is still held), once per job
   * kind: the hours now count as used, so they must stop counting as reserved. No reservation: nothing.
   */
  convertReservation(stage: string, runId: string, jobKind: GpuJobKind, bookedGpuHours: number, at: string): Promise<ReservationChange>;
  /** Gives back whatever the run still holds; a second call, or a run without reservation, changes nothing. */
  releaseReservation(stage: string, runId: string, at: string): Promise<ReservationChange>;
  /**
   * Adds a job's hours to each month it used, exactly once per (stage, runId, jobKind): the job's record
   * and the month totals change together or not at all, and a second call for the same job changes
   * nothing. A run's training and eval jobs are two records.
   */
  recordRun(run: GpuRunRecord): Promise<RecordRunOutcome>;
  /** Records that a target model finished training at `at`; never moves the time backwards. */
  markTrained(targetModelId: string, at: Date, runId: string): Promise<void>;
}
