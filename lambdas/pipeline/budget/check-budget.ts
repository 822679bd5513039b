/**
 * `Check GPU budget`: may this run start without a FinOps approval? The estimate is the configured
 * maximum of both GPU jobs of a run, the training job (maxJobHours x gpusPerJob) and the eval job
 * (maxEvalJobHours x gpusPerJob, the eval job definition's own timeout), so a run that passes cannot
 * take the month past its ceiling within one attempt of each, whatever the jobs do.
 */
import type { BudgetCheck } from '../contracts';
import type { PipelineSettings } from '../settings';
import { roundGpuHours, utcMonth, type GpuLedger } from './ledger';

/**
 * The shortest Batch attempt timeout the check hands out. Below about half an hour an 8-GPU job
 * spends its whole attempt loading weights and writes no checkpoint, so a shorter attempt would
 * burn GPU-hours for nothing. Never more than the configured maximum.
 */
export const MIN_JOB_TIMEOUT_SECONDS = 1800;

/** What the check needs from the settings. */
export interface BudgetRules {
  readonly gpuBudget: PipelineSettings['gpuBudget'];
  readonly training: Pick<PipelineSettings['training'], 'maxJobHours' | 'maxEvalJobHours' | 'gpusPerJob'>;
}

/**
 * Judges a month's usage against the ceiling. `withinBudget` is `used + estimate <= ceiling` (a run
 * that lands exactly on the ceiling is within it), the estimate covering the training and the eval job.
 *
 * The training job's Batch attempt timeout is the configured maximum, capped within budget by what the
 * remaining hours pay for on this job's GPUs once the eval job's bound is set aside, and floored at
 * MIN_JOB_TIMEOUT_SECONDS. With the estimate at the full maxima the cap equals the maximum whenever the
 * run is within budget (that is what within budget means), so it states the invariant rather than
 * changing the number; it starts to bite if the estimate is ever made smaller than the maximum. A run
 * over budget goes on only with a FinOps approval of the full estimate, so it keeps the full timeout.
 * The eval job's timeout is its job definition's (maxEvalJobHours), not set here. Timeouts are per
 * attempt: Spot retries can add the time lost since the last checkpoint, which the record steps count.
 */
export function assessBudget(month: string, usedGpuHours: number, rules: BudgetRules): BudgetCheck {
  const { monthlyCeilingGpuHours: ceiling } = rules.gpuBudget;
  const { maxJobHours, maxEvalJobHours, gpusPerJob } = rules.training;
  const used = roundGpuHours(usedGpuHours);
  const trainEstimate = roundGpuHours(maxJobHours * gpusPerJob);
  const evalEstimate = roundGpuHours(maxEvalJobHours * gpusPerJob);
  const estimate = roundGpuHours(trainEstimate + evalEstimate);
  const remaining = roundGpuHours(ceiling - used);
  const withinBudget = roundGpuHours(used + estimate) <= ceiling;

  const maxSeconds = Math.round(maxJobHours * 3600);
  const floor = Math.min(MIN_JOB_TIMEOUT_SECONDS, maxSeconds);
  const affordableSeconds = Math.floor((Math.max(remaining - evalEstimate, 0) / gpusPerJob) * 3600);
  const jobTimeoutSeconds = withinBudget ? Math.max(floor, Math.min(maxSeconds, affordableSeconds)) : maxSeconds;

  return {
    month,
    usedGpuHours: used,
    estimateGpuHours: estimate,
    trainEstimateGpuHours: trainEstimate,
    evalEstimateGpuHours: evalEstimate,
    ceilingGpuHours: ceiling,
    withinBudget,
    remainingGpuHours: remaining,
    jobTimeoutSeconds,
  };
}

/** Reads the stage's usage for the current UTC month and judges it. */
export async function checkGpuBudget(ledger: GpuLedger, stage: string, rules: BudgetRules, now: Date): Promise<BudgetCheck> {
  const month = utcMonth(now);
  return assessBudget(month, await ledger.monthUsage(stage, month), rules);
}
