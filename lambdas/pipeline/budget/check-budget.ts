/**
 * `Check GPU budget`: may this run start without a FinOps approval? The estimate is the configured
 * maximum (maxJobHours x gpusPerJob), so a run that passes cannot take the month past its ceiling
 * within one attempt, whatever the job does.
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
  readonly training: Pick<PipelineSettings['training'], 'maxJobHours' | 'gpusPerJob'>;
}

/**
 * Judges a month's usage against the ceiling. `withinBudget` is `used + estimate <= ceiling` (a run
 * that lands exactly on the ceiling is within it).
 *
 * The Batch attempt timeout is the configured maximum, capped within budget by what the remaining
 * hours pay for on this job's GPUs and floored at MIN_JOB_TIMEOUT_SECONDS. With the estimate at
 * maxJobHours x gpusPerJob the cap equals the maximum whenever the run is within budget (that is what
 * within budget means), so it states the invariant rather than changing the number; it starts to bite
 * if the estimate is ever made smaller than the maximum. A run over budget goes on only with a FinOps
 * approval of the full estimate, so it keeps the full timeout. The timeout is per attempt: Spot
 * retries can add the time lost since the last checkpoint, which the record step counts.
 */
export function assessBudget(month: string, usedGpuHours: number, rules: BudgetRules): BudgetCheck {
  const { monthlyCeilingGpuHours: ceiling } = rules.gpuBudget;
  const { maxJobHours, gpusPerJob } = rules.training;
  const used = roundGpuHours(usedGpuHours);
  const estimate = roundGpuHours(maxJobHours * gpusPerJob);
  const remaining = roundGpuHours(ceiling - used);
  const withinBudget = roundGpuHours(used + estimate) <= ceiling;

  const maxSeconds = Math.round(maxJobHours * 3600);
  const floor = Math.min(MIN_JOB_TIMEOUT_SECONDS, maxSeconds);
  const affordableSeconds = Math.floor((Math.max(remaining, 0) / gpusPerJob) * 3600);
  const jobTimeoutSeconds = withinBudget ? Math.max(floor, Math.min(maxSeconds, affordableSeconds)) : maxSeconds;

  return {
    month,
    usedGpuHours: used,
    estimateGpuHours: estimate,
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
