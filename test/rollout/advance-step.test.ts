import { advanceStep, initialProgress } from '../../lambdas/rollout/advance-step/advance-step';
import { sageMakerPlan } from './helpers';

const plan = sageMakerPlan();

describe('advanceStep', () => {
  it('starts at index 0 when there is no progress yet', () => {
    const first = { index: 0, candidatePercent: 10, currentPercent: 90, stepStartedAt: null, done: false };
    expect(advanceStep({ rollout: plan })).toEqual(first);
    expect(advanceStep({ rollout: plan, progress: null })).toEqual(first);
    expect(initialProgress(plan)).toEqual(first);
  });

  it('walks 10 -> 50 -> 100 and then reports done on the last step', () => {
    const second = advanceStep({ rollout: plan, progress: { ...initialProgress(plan), stepStartedAt: '2026-05-04T10:00:00.000Z' } });
    expect(second).toEqual({ index: 1, candidatePercent: 50, currentPercent: 50, stepStartedAt: null, done: false });
    const third = advanceStep({ rollout: plan, progress: second });
    expect(third).toEqual({ index: 2, candidatePercent: 100, currentPercent: 0, stepStartedAt: null, done: false });
    expect(advanceStep({ rollout: plan, progress: third })).toEqual({ ...third, done: true });
  });

  it('follows the plan steps, and refuses to advance past done', () => {
    const single = sageMakerPlan({ stepsPercent: [100] });
    const only = advanceStep({ rollout: single });
    expect(only.candidatePercent).toBe(100);
    const done = advanceStep({ rollout: single, progress: only });
    expect(done.done).toBe(true);
    expect(() => advanceStep({ rollout: single, progress: done })).toThrow('is already done');
  });
});
