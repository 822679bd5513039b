import type { Notifier } from '../../lambdas/pipeline/ports';
import { cloudWatchTimestamp, triggeringAlarms } from '../../lambdas/rollout/alarm-rollback/alarm-event';
import { rollbackOnAlarm, type AlarmRollbackDeps } from '../../lambdas/rollout/alarm-rollback/alarm-rollback';
import { rollBack } from '../../lambdas/rollout/roll-back/roll-back';
import { LocalDeploymentStore } from '../../local/rollout/local-deployment-store';
import { SimulatedSageMakerEndpoint } from '../../local/rollout/simulated-sagemaker-endpoint';
import { VirtualClock, alarmEvent, sageMakerPlan, settings } from './helpers';

const plan = sageMakerPlan();

interface Sent {
  topic: string;
  subject: string;
  message: string;
}

async function setup(options: { active?: boolean; notifierFails?: boolean } = {}): Promise<{ clock: VirtualClock; endpoint: SimulatedSageMakerEndpoint; store: LocalDeploymentStore; sent: Sent[]; deps: AlarmRollbackDeps }> {
  // The breach was at 10:00:04.512; the Lambda starts a few seconds later.
  const clock = new VirtualClock('2026-05-04T10:00:07.000Z');
  const endpoint = new SimulatedSageMakerEndpoint({
    endpointName: 'sial-dev-qwen3-4b',
    variants: [
      { name: 'AllTraffic', weight: 50 },
      { name: 'qwen3-4b-v4', weight: 50 },
    ],
    clock: clock.now,
    weightUpdateSeconds: 30,
  });
  const store = new LocalDeploymentStore();
  await store.seedCurrent(plan.targetModelId, plan.current, clock.now());
  if (options.active !== false) await store.setActiveRollout(plan.targetModelId, plan);
  const sent: Sent[] = [];
  const notifier: Notifier = {
    publish: async (topic, subject, message) => {
      if (options.notifierFails === true) throw new Error('SNS is down');
      sent.push({ topic, subject, message });
    },
  };
  return { clock, endpoint, store, sent, deps: { settings, store, router: endpoint, notifier, settle: clock.settle(240, 2) } };
}

describe('rollbackOnAlarm', () => {
  it('rolls the active rollout back at once, verifies, records breach and verified times, and notifies', async () => {
    const { endpoint, store, sent, deps } = await setup();
    const outcome = await rollbackOnAlarm(alarmEvent({ alarmName: plan.alarmName }), deps);
    expect(outcome.action).toBe('rolled-back');
    if (outcome.action !== 'rolled-back') return;
    expect(outcome.record).toEqual({
      rolloutId: 'rollout-1',
      targetModelId: 'qwen3-4b',
      reason: `canary alarm ${plan.alarmName} went into ALARM (${plan.alarmName}-faithfulness): arn:aws:cloudwatch:us-east-1:123456789012:alarm:${plan.alarmName}-faithfulness transitioned to ALARM at Monday 04 May, 2026 10:00:04 UTC`,
      by: 'alarm-lambda',
      breachAt: '2026-05-04T10:00:04.512Z',
      // The weight update takes 30 s; polled every 2 s.
      verifiedAt: '2026-05-04T10:00:37.000Z',
      weights: { currentPercent: 100, candidatePercent: 0 },
    });
    expect(outcome.rollbackSeconds).toBeCloseTo(32.488, 3);
    expect(outcome.requests).toBe(1);
    expect(outcome.notified).toBe(true);
    expect(await endpoint.readWeights(plan.target, plan)).toEqual({ currentPercent: 100, candidatePercent: 0 });
    expect(await store.getRollback(plan.rolloutId)).toEqual(outcome.record);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.topic).toBe('notifications');
    expect(sent[0]!.subject).toBe('Rolled back qwen3-4b to version 3 (canary alarm)');
    expect(sent[0]!.message).toContain('(32.5 s after the breach)');
    // The state machine still owns the rollout's end: the active rollout stays until its Roll back state.
    expect(await store.getActiveRollout(plan.targetModelId)).toBeDefined();
  });

  it('is idempotent when the event is delivered twice', async () => {
    const { endpoint, sent, deps } = await setup();
    const event = alarmEvent({ alarmName: plan.alarmName });
    const first = await rollbackOnAlarm(event, deps);
    const second = await rollbackOnAlarm(event, deps);
    expect(second).toEqual({ action: 'already-rolled-back', record: first.action === 'rolled-back' ? first.record : undefined });
    expect(sent).toHaveLength(1);
    expect(endpoint.events.filter((e) => e.includes('weights asked'))).toHaveLength(1);
  });

  it('is safe when the state machine already rolled back: keeps its record, touches nothing', async () => {
    const { endpoint, store, sent, deps } = await setup();
    const machine = await rollBack({ rollout: plan, reason: 'check canary saw ALARM' }, { router: endpoint, store, settle: deps.settle });
    // The state machine's rollback released the model: nothing is active any more.
    expect(await rollbackOnAlarm(alarmEvent({ alarmName: plan.alarmName }), deps)).toEqual({ action: 'no-active-rollout', targetModelId: 'qwen3-4b' });
    // And if the event came while the rollout was still held, the stored record stands.
    await store.setActiveRollout(plan.targetModelId, plan);
    expect(await rollbackOnAlarm(alarmEvent({ alarmName: plan.alarmName }), deps)).toEqual({ action: 'already-rolled-back', record: machine });
    expect(sent).toHaveLength(0);
  });

  it('ignores other states, alarms that are not canary alarms, and models without a rollout', async () => {
    const { deps } = await setup({ active: false });
    expect(await rollbackOnAlarm(alarmEvent({ alarmName: plan.alarmName, value: 'OK' }), deps)).toEqual({ action: 'ignored', reason: `${plan.alarmName} changed to OK, not ALARM` });
    expect(await rollbackOnAlarm(alarmEvent({ alarmName: 'some-other-alarm' }), deps)).toEqual({ action: 'ignored', reason: 'some-other-alarm is not the canary alarm of any target model of stage dev' });
    expect(await rollbackOnAlarm(alarmEvent({ alarmName: plan.alarmName }), deps)).toEqual({ action: 'no-active-rollout', targetModelId: 'qwen3-4b' });
    await expect(rollbackOnAlarm({ source: 'aws.s3' }, deps)).rejects.toThrow('not a CloudWatch alarm state change event');
  });

  it('does not move traffic after the candidate was promoted, and says so', async () => {
    const { endpoint, store, sent, deps } = await setup();
    await store.promote({ targetModelId: plan.targetModelId, expectedCurrentArn: plan.current.modelPackageArn, next: plan.candidate, keep: 3, rolloutId: plan.rolloutId, at: new Date() });
    expect(await rollbackOnAlarm(alarmEvent({ alarmName: plan.alarmName }), deps)).toEqual({ action: 'after-promotion', targetModelId: 'qwen3-4b', rolloutId: 'rollout-1' });
    expect(endpoint.events).toEqual([]);
    expect(sent[0]!.subject).toBe('Canary alarm after promotion of qwen3-4b: no automatic rollback');
  });

  it('keeps a verified rollback when the notification fails', async () => {
    const { store, deps } = await setup({ notifierFails: true });
    const outcome = await rollbackOnAlarm(alarmEvent({ alarmName: plan.alarmName }), deps);
    expect(outcome).toEqual(expect.objectContaining({ action: 'rolled-back', notified: false }));
    expect(await store.getRollback(plan.rolloutId)).toBeDefined();
  });

  it('announces a rollback it could not verify, and fails for Lambda to retry', async () => {
    const { endpoint, sent, deps } = await setup();
    endpoint.silentlyIgnoreWeightUpdates = true;
    await expect(rollbackOnAlarm(alarmEvent({ alarmName: plan.alarmName }), { ...deps, settle: deps.settle })).rejects.toHaveProperty('name', 'WeightsNotApplied');
    expect(sent[0]!.subject).toBe('ROLLBACK FAILED for qwen3-4b: traffic may still reach the candidate');
  });
});

describe('alarm event fields', () => {
  it("reads CloudWatch's +0000 timestamps and the composite alarm's triggering children", () => {
    expect(cloudWatchTimestamp('2026-05-04T10:00:04.512+0000').toISOString()).toBe('2026-05-04T10:00:04.512Z');
    expect(cloudWatchTimestamp('2026-05-04T12:00:04.512+0200').toISOString()).toBe('2026-05-04T10:00:04.512Z');
    expect(cloudWatchTimestamp('2026-05-04T10:00:04Z').toISOString()).toBe('2026-05-04T10:00:04.000Z');
    expect(() => cloudWatchTimestamp('yesterday')).toThrow('is not a CloudWatch timestamp');
    expect(triggeringAlarms(JSON.stringify({ triggeringAlarms: [{ arn: 'arn:aws:cloudwatch:us-east-1:1:alarm:child-a' }] }))).toEqual(['child-a']);
    expect(triggeringAlarms('not json')).toEqual([]);
  });
});
