import { rollBack, rollbackReason, type RollBackDeps } from '../../lambdas/rollout/roll-back/roll-back';
import { rollbackOnAlarm } from '../../lambdas/rollout/alarm-rollback/alarm-rollback';
import type { Notifier } from '../../lambdas/pipeline/ports';
import { WeightsNotApplied } from '../../lambdas/rollout/errors';
import { LocalAlarmReader } from '../../local/rollout/local-alarm-reader';
import { LocalDeploymentStore } from '../../local/rollout/local-deployment-store';
import { SimulatedHttpRoute } from '../../local/rollout/simulated-http-route';
import { SimulatedSageMakerEndpoint } from '../../local/rollout/simulated-sagemaker-endpoint';
import { EKS_TARGET, VirtualClock, alarmEvent, eksPlan, sageMakerPlan, settings } from './helpers';

const plan = sageMakerPlan();

async function setup(candidateWeight = 50): Promise<{ clock: VirtualClock; endpoint: SimulatedSageMakerEndpoint; store: LocalDeploymentStore; alarms: LocalAlarmReader; deps: RollBackDeps }> {
  const clock = new VirtualClock();
  const endpoint = new SimulatedSageMakerEndpoint({
    endpointName: 'sial-dev-qwen3-4b',
    variants: [
      { name: 'AllTraffic', weight: 100 - candidateWeight },
      { name: 'qwen3-4b-v4', weight: candidateWeight },
    ],
    clock: clock.now,
    weightUpdateSeconds: 30,
  });
  const store = new LocalDeploymentStore();
  await store.setActiveRollout(plan.targetModelId, plan);
  const alarms = new LocalAlarmReader(clock.now);
  alarms.set(plan.alarmName, 'OK', 'fine');
  return { clock, endpoint, store, alarms, deps: { router: endpoint, store, alarms, settle: clock.settle() } };
}

describe('rollBack (state machine)', () => {
  it('puts 100 % back on the current version, verifies, records by state-machine and releases the model', async () => {
    const { endpoint, store, deps } = await setup();
    const record = await rollBack({ rollout: plan, error: { Error: 'WeightsNotApplied', Cause: JSON.stringify({ errorType: 'WeightsNotApplied', errorMessage: 'expected current 50 % / candidate 50 %, observed current 90 % / candidate 10 %: x' }) } }, deps);
    expect(record).toEqual({
      rolloutId: 'rollout-1',
      targetModelId: 'qwen3-4b',
      reason: 'WeightsNotApplied: expected current 50 % / candidate 50 %, observed current 90 % / candidate 10 %: x',
      by: 'state-machine',
      breachAt: null,
      verifiedAt: '2026-05-04T10:00:30.000Z',
      weights: { currentPercent: 100, candidatePercent: 0 },
    });
    expect(await endpoint.readWeights(plan.target, plan)).toEqual({ currentPercent: 100, candidatePercent: 0 });
    expect(await store.getRollback(plan.rolloutId)).toEqual(record);
    expect(await store.getActiveRollout(plan.targetModelId)).toBeUndefined();
  });

  it('dates the breach from the alarm when the alarm is in ALARM', async () => {
    const { alarms, clock, deps } = await setup();
    alarms.set(plan.alarmName, 'ALARM', 'misroute child in ALARM');
    clock.advance(12);
    const check = { alarmState: 'ALARM' as const, rollBack: true, reason: 'canary alarm is in ALARM', baked: false, checkedAt: clock.now().toISOString() };
    const record = await rollBack({ rollout: plan, check }, deps);
    expect(record.breachAt).toBe('2026-05-04T10:00:00.000Z');
    expect(record.reason).toBe('canary alarm is in ALARM');
  });

  it('is idempotent: a retry restores nothing new and returns the first record', async () => {
    const { endpoint, deps } = await setup();
    const first = await rollBack({ rollout: plan, reason: 'approval rejected' }, deps);
    const again = await rollBack({ rollout: plan, reason: 'something else' }, deps);
    expect(again).toEqual(first);
    expect(endpoint.events.filter((e) => e.includes('weights asked'))).toHaveLength(1);
  });

  it('is safe when the alarm Lambda rolls back at the same moment: one record, 100 % current', async () => {
    const { endpoint, store, deps } = await setup();
    const notifier: Notifier = { publish: async () => undefined };
    const [machine, lambda] = await Promise.all([
      rollBack({ rollout: plan, reason: 'check canary saw ALARM' }, deps),
      rollbackOnAlarm(alarmEvent({ alarmName: plan.alarmName }), { settings, store, router: endpoint, notifier, settle: deps.settle }),
    ]);
    const stored = await store.getRollback(plan.rolloutId);
    expect(machine).toEqual(stored);
    expect(lambda.action === 'rolled-back' || lambda.action === 'already-rolled-back').toBe(true);
    expect(await endpoint.readWeights(plan.target, plan)).toEqual({ currentPercent: 100, candidatePercent: 0 });
    expect(endpoint.events.filter((e) => e.includes('weights asked'))).toHaveLength(1);
  });

  it('re-asserts 100 % current even when the alarm Lambda recorded the rollback first', async () => {
    const { endpoint, store, deps } = await setup(10);
    const alarmRecord = { rolloutId: plan.rolloutId, targetModelId: plan.targetModelId, reason: 'alarm', by: 'alarm-lambda' as const, breachAt: null, verifiedAt: '2026-05-04T09:59:00.000Z', weights: { currentPercent: 100, candidatePercent: 0 } };
    await store.recordRollback(alarmRecord);
    // A step approval arrived after the alarm rollback and moved 10 % back to the candidate.
    expect(await rollBack({ rollout: plan, reason: 'verify saw the rollback' }, deps)).toEqual(alarmRecord);
    expect(await endpoint.readWeights(plan.target, plan)).toEqual({ currentPercent: 100, candidatePercent: 0 });
  });

  it('rolls an HTTPRoute back through the same router port', async () => {
    const clock = new VirtualClock();
    const eks = eksPlan();
    const route = new SimulatedHttpRoute({ target: EKS_TARGET, clock: clock.now });
    await route.setWeights(EKS_TARGET, eks, { currentPercent: 50, candidatePercent: 50 });
    const store = new LocalDeploymentStore();
    const record = await rollBack({ rollout: eks }, { router: route, store, settle: clock.settle() });
    expect(record.reason).toBe('the rollout ended without promotion');
    expect(await route.readWeights(EKS_TARGET, eks)).toEqual({ currentPercent: 100, candidatePercent: 0 });
  });

  it('fails (for the state machine to retry) when 100 % current cannot be verified, recording nothing', async () => {
    const { endpoint, store, clock } = await setup();
    endpoint.silentlyIgnoreWeightUpdates = true;
    await expect(rollBack({ rollout: plan }, { router: endpoint, store, settle: clock.settle(60, 2) })).rejects.toBeInstanceOf(WeightsNotApplied);
    expect(await store.getRollback(plan.rolloutId)).toBeUndefined();
    expect(await store.getActiveRollout(plan.targetModelId)).toBeDefined();
  });
});

describe('rollbackReason', () => {
  it('prefers the explicit reason, then the check, then the error with its Lambda message', () => {
    expect(rollbackReason({ rollout: plan, reason: 'r', check: { alarmState: 'OK', rollBack: true, reason: 'c', baked: false, checkedAt: '2026-05-04T10:00:00.000Z' } })).toBe('r');
    expect(rollbackReason({ rollout: plan, error: { Error: 'ApprovalRejected', Cause: 'plain text cause' } })).toBe('ApprovalRejected: plain text cause');
    expect(rollbackReason({ rollout: plan, error: { Error: 'States.Timeout' } })).toBe('States.Timeout');
    expect(rollbackReason({ rollout: plan, reason: 'x'.repeat(5000) })).toHaveLength(2000);
  });
});
