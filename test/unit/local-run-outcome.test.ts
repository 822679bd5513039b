/**
 * How a local run's executions map to its outcome and exit code. The end-to-end suite reaches most
 * outcomes through whole runs (test/e2e/local-run.test.ts); these are the ends no scenario plays: a
 * failed step, an expired or rejected rollout step, a failed drill.
 */
import type { AslRunResult } from '../../local/pipeline/asl-runner';
import { LOCAL_RUN_OUTCOMES, outcomeOf } from '../../local/run/outcome';
import { GAME_DAY_STATES as G, ROLLOUT_STATES as R } from '../../stepfunctions/canary-rollout-states';
import { TRAINING_STATES as T } from '../../stepfunctions/training-pipeline-states';

type Json = NonNullable<ReturnType<AslRunResult['outputs']['get']>>;

function run(visited: string[], status: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED', extra: Partial<AslRunResult> = {}, outputs: Record<string, Json> = {}): AslRunResult {
  return { status, visited, outputs: new Map(Object.entries(outputs)), ...extra };
}

describe('outcomeOf', () => {
  it('a failed Batch job is a failure (exit 1), an eval gate refusal its own outcome (exit 7)', () => {
    const failed = run([T.train, T.recordGpuHoursAfterFailure, T.notifyFailure, T.failed], 'FAILED', { error: 'States.TaskFailed' });
    expect(outcomeOf({ training: failed })).toBe('failed');
    expect(LOCAL_RUN_OUTCOMES.failed.code).toBe(1);
    expect(outcomeOf({ training: run([T.checkEvalGate, T.notifyFailure, T.failed], 'FAILED', { error: 'EvalGateFailed' }) })).toBe('eval-gate-refused');
  });

  it('tells a rejected rollout step (exit 3) from an expired one (exit 6) by the error Roll back caught', () => {
    const ended = [R.requestStepApproval, R.rollBack, R.nextStep, R.notifyRejected, R.rejected];
    const training = run([T.handOverToRollout]);
    expect(outcomeOf({ training, rollout: run(ended, 'SUCCEEDED', {}, { [R.rollBack]: { error: { Error: 'ApprovalRejected' } } }) })).toBe('rejected');
    expect(outcomeOf({ training, rollout: run(ended, 'SUCCEEDED', {}, { [R.rollBack]: { error: { Error: 'States.Timeout' } } }) })).toBe('expired');
  });

  it('an alarm rollback is rolled-back (exit 8); any other failed rollout is a failure', () => {
    const training = run([T.handOverToRollout]);
    expect(outcomeOf({ training, rollout: run([R.checkCanary, R.rollBack, R.notifyRolledBack, R.rolledBack], 'FAILED', { error: 'RolledBack' }) })).toBe('rolled-back');
    expect(outcomeOf({ training, rollout: run([R.validateRollout, R.notifyRolledBack, R.rolledBack], 'FAILED', { error: 'RolloutRefused' }) })).toBe('failed');
  });

  it('a drill over the bound is drill-failed (exit 9); codes never collide except the three successes', () => {
    expect(outcomeOf({ drill: run([G.recordDrill, G.withinBound, G.drillFailed], 'FAILED', { error: 'RollbackTooSlow' }) })).toBe('drill-failed');
    expect(outcomeOf({ drill: run([G.recordDrill, G.withinBound, G.drillPassed]) })).toBe('drill-passed');
    const codes = Object.values(LOCAL_RUN_OUTCOMES).map((o) => o.code);
    expect(codes.filter((c) => c !== 0)).toEqual([...new Set(codes.filter((c) => c !== 0))]);
    expect(codes).not.toContain(2);
  });
});
