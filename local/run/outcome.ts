/**
 * How a local run ended, in one word, and the process exit code that says it to a script or a CI job.
 * The table in the README ("Exit codes of sial local run") is this list.
 */
import { TRAINING_STATES as T, PIPELINE_ERRORS } from '../../stepfunctions/training-pipeline-states';
import { GAME_DAY_STATES as G, ROLLOUT_ERRORS, ROLLOUT_STATES as R } from '../../stepfunctions/canary-rollout-states';
import type { AslRunResult } from '../pipeline/asl-runner';

export interface OutcomeKind {
  readonly code: number;
  /** One plain sentence. */
  readonly words: string;
}

/** Every outcome with its exit code; codes never change meaning. */
export const LOCAL_RUN_OUTCOMES = {
  promoted: { code: 0, words: 'promoted: the candidate passed every gate and the canary and now serves 100 % of the traffic' },
  ingested: { code: 0, words: 'ingested: the lake was written; training was skipped (--skip-training)' },
  'drill-passed': { code: 0, words: 'game day passed: the canary alarm rolled the serving version back within the bound' },
  failed: { code: 1, words: 'failed: a step of the pipeline or the rollout failed (see the error); production is unchanged' },
  rejected: { code: 3, words: 'rejected: an approver said no; nothing was trained or production went back to the previous version' },
  'not-eligible': { code: 4, words: 'not eligible: the dataset does not meet the eligibility rules; nothing was trained' },
  'stopped-budget': { code: 5, words: "stopped by the GPU budget: the run would cross the month's ceiling and FinOps did not approve; nothing was trained" },
  expired: { code: 6, words: 'approval expired: nobody decided in time; nothing proceeded' },
  'eval-gate-refused': { code: 7, words: 'refused by the eval gate: the candidate was trained and evaluated, but is not good enough to register' },
  'rolled-back': { code: 8, words: 'rolled back: the canary alarm fired and all traffic went back to the previous version' },
  'drill-failed': { code: 9, words: 'game day failed: the rollback was not verified within the bound' },
} as const satisfies Record<string, OutcomeKind>;

export type LocalRunOutcome = keyof typeof LOCAL_RUN_OUTCOMES;

/** The exit code of `sial local run` for a command line it could not run (unknown option, refused directory). */
export const USAGE_EXIT_CODE = 2;

/** How the training pipeline ended, when it did not hand over to the rollout. */
function trainingOutcome(run: AslRunResult): LocalRunOutcome {
  const last = run.visited.at(-1);
  switch (last) {
    case T.trainingRejected:
      return 'rejected';
    case T.notEligible:
      return 'not-eligible';
    case T.finopsRejected:
      return 'stopped-budget';
    case T.approvalExpired:
      return 'expired';
    case T.datasetBuilt:
      return 'ingested';
    default:
      return run.error === PIPELINE_ERRORS.evalGateFailed ? 'eval-gate-refused' : 'failed';
  }
}

/** How the canary rollout ended. */
function rolloutOutcome(rollout: AslRunResult): LocalRunOutcome {
  const last = rollout.visited.at(-1);
  if (rollout.status === 'SUCCEEDED' && last === R.promoted) return 'promoted';
  if (last === R.rejected) {
    // `Rollout rejected` ends both a rejected and an expired step approval; the caught error tells them apart.
    // `Roll back` keeps the caught error at $.error (its own result goes to $.rollback).
    const caught = rollout.outputs.get(R.rollBack) as { error?: { Error?: string } } | null | undefined;
    return caught?.error?.Error === 'States.Timeout' ? 'expired' : 'rejected';
  }
  if (rollout.error === ROLLOUT_ERRORS.rolledBack) return 'rolled-back';
  return 'failed';
}

/** The outcome of a whole run from what its executions did. */
export function outcomeOf(parts: { skippedTraining?: boolean; training?: AslRunResult; rollout?: AslRunResult; drill?: AslRunResult }): LocalRunOutcome {
  if (parts.drill !== undefined) return parts.drill.status === 'SUCCEEDED' && parts.drill.visited.at(-1) === G.drillPassed ? 'drill-passed' : 'drill-failed';
  if (parts.skippedTraining === true || parts.training === undefined) return 'ingested';
  if (parts.rollout !== undefined) return rolloutOutcome(parts.rollout);
  return trainingOutcome(parts.training);
}
