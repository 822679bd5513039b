/**
 * `Check GPU budget`: may this run start without a FinOps approval? The estimate is the most both GPU
 * jobs of a run can use, Spot retries included (R = training.attempts - 1, the retries the job
 * definitions allow, which only Spot reclaims and lost hosts trigger):
 *
 *   train = gpusPerJob x (maxJobHours + R x checkpointIntervalHours)
 *   eval  = gpusPerJob x maxEvalJobHours x (R + 1)
 *
 * A training attempt resumes from its last checkpoint, so a reclaim loses at most the work since it
 * (checkpointIntervalHours, default 0.5 h, covers the interval and the restart). The eval job writes no
 * checkpoint: a reclaimed eval attempt starts over, so each attempt may use its whole bound.
 *
 * The check compares used + reserved (runs approved and still under way) + the estimate with the
 * ceiling. It is advisory: the binding decision is the reservation made when the training approval is
 * granted (reserve-budget.ts), because an approval may wait days and other runs reserve meanwhile.
 */
import type { BudgetCheck } from '../contracts';
import type { PipelineSettings } from '../settings';
import { roundGpuHours, utcMonth, type GpuLedger, type MonthCommitment } from './ledger';

/** What a Spot reclaim of a training attempt can lose when the stage does not say (checkpointIntervalHours). */
export const DEFAULT_CHECKPOINT_INTERVAL_HOURS = 0.5;

/**
 * The shortest Batch attempt timeout the check hands out. Below about half an hour an 8-GPU job
 * spends its whole attempt loading weights and writes no checkpoint, so a shorter attempt would
 * burn GPU-hours for nothing. Never more than the configured maximum.
 */
export const MIN_JOB_TIMEOUT_SECONDS = 1800;

/** What the check needs from the settings. */
export interface BudgetRules {
  readonly gpuBudget: PipelineSettings['gpuBudget'];
  readonly training: Pick<PipelineSettings['training'], 'maxJobHours' | 'maxEvalJobHours' | 'gpusPerJob' | 'attempts' | 'checkpointIntervalHours'>;
}

/** A run's estimate split by job (the formula at the top of this file). */
export interface RunEstimate {
  readonly trainGpuHours: number;
  readonly evalGpuHours: number;
  readonly totalGpuHours: number;
}

/** The most GPU-hours one run can use, Spot retries included. */
export function runEstimate(training: BudgetRules['training']): RunEstimate {
  const { maxJobHours, maxEvalJobHours, gpusPerJob, attempts } = training;
  const retries = attempts - 1;
  const checkpointInterval = training.checkpointIntervalHours ?? DEFAULT_CHECKPOINT_INTERVAL_HOURS;
  const trainGpuHours = roundGpuHours(gpusPerJob * (maxJobHours + retries * checkpointInterval));
  const evalGpuHours = roundGpuHours(gpusPerJob * maxEvalJobHours * attempts);
  return { trainGpuHours, evalGpuHours, totalGpuHours: roundGpuHours(trainGpuHours + evalGpuHours) };
}

/**
 * Judges a month's usage against the ceiling. `withinBudget` is `used + reserved + estimate <= ceiling`
 * (a run that lands exactly on the ceiling is within it), the estimate covering the training and the
 * eval job with their Spot retries.
 *
 * The training job's Batch attempt timeout is the configured maximum, capped within budget by what the
 * remaining hours pay for on this job's GPUs once the eval job's bound and the training job's reclaim
 * allowance are set aside, and floored at
 * MIN_JOB_TIMEOUT_SECONDS. With the estimate at the full maxima the cap equals the maximum whenever the
 * run is within budget (that is what within budget means), so it states the invariant rather than
 * changing the number; it starts to bite if the estimate is ever made smaller than the maximum. A run
 * over budget goes on only with a FinOps approval of the full estimate, so it keeps the full timeout.
 * The eval job's timeout is its job definition's (maxEvalJobHours), not set here. Timeouts are per
 * attempt: Spot retries can add the time lost since the last checkpoint, which the record steps count.
 */
export function assessBudget(month: string, commitment: MonthCommitment, rules: BudgetRules): BudgetCheck {
  const { monthlyCeilingGpuHours: ceiling } = rules.gpuBudget;
  const { maxJobHours, gpusPerJob } = rules.training;
  const used = roundGpuHours(commitment.usedGpuHours);
  const reserved = roundGpuHours(commitment.reservedGpuHours);
  const { trainGpuHours: trainEstimate, evalGpuHours: evalEstimate, totalGpuHours: estimate } = runEstimate(rules.training);
  const remaining = roundGpuHours(ceiling - used - reserved);
  const withinBudget = roundGpuHours(estimate) <= remaining;

  const maxSeconds = Math.round(maxJobHours * 3600);
  const floor = Math.min(MIN_JOB_TIMEOUT_SECONDS, maxSeconds);
  // What is left for the first training attempt once the eval job and the reclaim allowance are set aside.
  const setAside = roundGpuHours(estimate - maxJobHours * gpusPerJob);
  const affordableSeconds = Math.floor((Math.max(remaining - setAside, 0) / gpusPerJob) * 3600);
  const jobTimeoutSeconds = withinBudget ? Math.max(floor, Math.min(maxSeconds, affordableSeconds)) : maxSeconds;

  return {
    month,
    usedGpuHours: used,
    reservedGpuHours: reserved,
    estimateGpuHours: estimate,
    trainEstimateGpuHours: trainEstimate,
    evalEstimateGpuHours: evalEstimate,
    ceilingGpuHours: ceiling,
    withinBudget,
    remainingGpuHours: remaining,
    jobTimeoutSeconds,
  };
}

/** Reads the stage's used and reserved hours for the current UTC month and judges them. */
export async function checkGpuBudget(ledger: GpuLedger, stage: string, rules: BudgetRules, now: Date): Promise<BudgetCheck> {
  const month = utcMonth(now);
  return assessBudget(month, await ledger.monthCommitment(stage, month), rules);
}
