import { checkCanary, type CheckCanaryDeps } from '../../lambdas/rollout/check-canary/check-canary';
import { LocalAlarmReader } from '../../local/rollout/local-alarm-reader';
import { LocalDeploymentStore } from '../../local/rollout/local-deployment-store';
import { VirtualClock, sageMakerPlan } from './helpers';

const plan = sageMakerPlan({ bakeSeconds: 600 });
const started = '2026-05-04T10:00:00.000Z';
const progress = { index: 0, candidatePercent: 10, currentPercent: 90, stepStartedAt: started, done: false };

function setup(): { clock: VirtualClock; alarms: LocalAlarmReader; store: LocalDeploymentStore; deps: CheckCanaryDeps } {
  const clock = new VirtualClock(started);
  const alarms = new LocalAlarmReader(clock.now);
  alarms.set(plan.alarmName, 'OK', 'all children OK', new Date('2026-05-04T09:00:00Z'));
  const store = new LocalDeploymentStore();
  return { clock, alarms, store, deps: { alarms, store, clock: clock.now } };
}

describe('checkCanary', () => {
  it('keeps baking until bakeSeconds have passed since the weights were verified, then reports baked', async () => {
    const { clock, deps } = setup();
    clock.advance(599);
    expect(await checkCanary({ rollout: plan, progress }, deps)).toEqual({ alarmState: 'OK', rollBack: false, baked: false, checkedAt: '2026-05-04T10:09:59.000Z' });
    clock.advance(1);
    expect(await checkCanary({ rollout: plan, progress }, deps)).toEqual(expect.objectContaining({ rollBack: false, baked: true }));
  });

  it('starts the bake clock at this step\'s $.verified when progress has no start time', async () => {
    const { clock, deps } = setup();
    const unstarted = { ...progress, stepStartedAt: null };
    const verified = { expected: { currentPercent: 90, candidatePercent: 10 }, observed: { currentPercent: 90, candidatePercent: 10 }, verifiedAt: '2026-05-04T10:05:00.000Z' };
    clock.advance(700);
    expect((await checkCanary({ rollout: plan, progress: unstarted, verified }, deps)).baked).toBe(false);
    clock.advance(300);
    expect((await checkCanary({ rollout: plan, progress: unstarted, verified }, deps)).baked).toBe(true);
    // A previous step's verification does not start this step's clock.
    const previous = { ...verified, expected: { currentPercent: 100, candidatePercent: 0 } };
    await expect(checkCanary({ rollout: plan, progress: unstarted, verified: previous }, deps)).rejects.toThrow('has no verified start');
  });

  it('rolls back when the alarm is in ALARM, with its reason', async () => {
    const { alarms, deps } = setup();
    alarms.set(plan.alarmName, 'ALARM', 'faithfulness child in ALARM');
    expect(await checkCanary({ rollout: plan, progress }, deps)).toEqual({
      alarmState: 'ALARM',
      rollBack: true,
      reason: 'canary alarm sial-dev-qwen3-4b-canary is in ALARM since 2026-05-04T10:00:00.000Z: faithfulness child in ALARM',
      baked: false,
      checkedAt: '2026-05-04T10:00:00.000Z',
    });
  });

  it('rolls back when the alarm Lambda already did, even if the alarm is OK again', async () => {
    const { store, deps } = setup();
    await store.recordRollback({ rolloutId: plan.rolloutId, targetModelId: plan.targetModelId, reason: 'canary alarm went into ALARM', by: 'alarm-lambda', breachAt: null, verifiedAt: '2026-05-04T10:00:30.000Z', weights: { currentPercent: 100, candidatePercent: 0 } });
    expect(await checkCanary({ rollout: plan, progress }, deps)).toEqual(expect.objectContaining({ alarmState: 'OK', rollBack: true, reason: 'rolled back by the alarm-lambda at 2026-05-04T10:00:30.000Z: canary alarm went into ALARM' }));
  });

  it('does not count a bake without evidence, and rolls back after twice the bake time of insufficient data', async () => {
    const { clock, alarms, deps } = setup();
    alarms.set(plan.alarmName, 'INSUFFICIENT_DATA', 'too few candidate traces');
    clock.advance(900);
    expect(await checkCanary({ rollout: plan, progress }, deps)).toEqual(expect.objectContaining({ alarmState: 'INSUFFICIENT_DATA', rollBack: false, baked: false }));
    clock.advance(300);
    const check = await checkCanary({ rollout: plan, progress }, deps);
    expect(check.rollBack).toBe(true);
    expect(check.reason).toContain('twice its bake time');
  });

  it('fails closed when the alarm does not exist', async () => {
    const { deps } = setup();
    await expect(checkCanary({ rollout: sageMakerPlan({ alarmName: 'missing' }), progress }, deps)).rejects.toThrow('no local alarm named missing');
  });
});
