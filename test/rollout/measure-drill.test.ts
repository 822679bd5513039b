import { DEFAULT_CANARY } from '../../config/governance-defaults';
import type { RollbackRecord } from '../../lambdas/rollout/contracts';
import { checkDrillRollback, measureDrill } from '../../lambdas/rollout/game-day/measure-drill';
import { setSelfCanary } from '../../lambdas/rollout/game-day/self-canary';
import { startDrill } from '../../lambdas/rollout/game-day/start-drill';
import { TrafficTargetBusy } from '../../lambdas/rollout/errors';
import { isLoopVariant } from '../../lambdas/rollout/sagemaker/variants';
import { LocalDeploymentStore } from '../../local/rollout/local-deployment-store';
import { SimulatedHttpRoute } from '../../local/rollout/simulated-http-route';
import { SimulatedSageMakerEndpoint } from '../../local/rollout/simulated-sagemaker-endpoint';
import { EKS_MODEL, EKS_TARGET, VirtualClock, eksPlan, executionArnOf, executionContext, GAME_DAY_MACHINE, packageArn, settings } from './helpers';

function record(overrides: Partial<RollbackRecord> = {}): RollbackRecord {
  return {
    rolloutId: 'game-day-2026-05-06',
    targetModelId: 'qwen3-4b',
    reason: 'canary alarm went into ALARM: forced by the game day',
    by: 'alarm-lambda',
    breachAt: '2026-05-06T10:00:00.000Z',
    verifiedAt: '2026-05-06T10:00:42.250Z',
    weights: { currentPercent: 100, candidatePercent: 0 },
    ...overrides,
  };
}

const gameDay = DEFAULT_CANARY.gameDay;

describe('game day drill measurement', () => {
  it('waits for the rollback record', async () => {
    const store = new LocalDeploymentStore();
    expect(await checkDrillRollback({ rolloutId: 'game-day-2026-05-06' }, store)).toEqual({ rolloutId: 'game-day-2026-05-06', rolledBack: false });
    await store.recordRollback(record());
    expect(await checkDrillRollback({ rolloutId: 'game-day-2026-05-06' }, store)).toEqual({ rolloutId: 'game-day-2026-05-06', rolledBack: true, by: 'alarm-lambda' });
  });

  it('measures breach to verified rollback and passes within the bound and the target', async () => {
    const store = new LocalDeploymentStore();
    await store.recordRollback(record());
    expect(await measureDrill({ rolloutId: 'game-day-2026-05-06' }, { store, gameDay })).toEqual({
      rolloutId: 'game-day-2026-05-06',
      targetModelId: 'qwen3-4b',
      by: 'alarm-lambda',
      breachAt: '2026-05-06T10:00:00.000Z',
      verifiedAt: '2026-05-06T10:00:42.250Z',
      rollbackSeconds: 42.3,
      maxRollbackSeconds: 300,
      targetRollbackSeconds: 90,
      withinBound: true,
      withinTarget: true,
      summary: 'qwen3-4b: breach to verified 100 % current in 42.3 s (bound 300 s, target 90 s): passed, within our target',
    });
  });

  it('tells a missed target from a failed bound', async () => {
    const store = new LocalDeploymentStore();
    await store.recordRollback(record({ rolloutId: 'slow', verifiedAt: '2026-05-06T10:02:00.000Z' }));
    await store.recordRollback(record({ rolloutId: 'too-slow', verifiedAt: '2026-05-06T10:05:00.100Z' }));
    expect(await measureDrill({ rolloutId: 'slow' }, { store, gameDay })).toEqual(expect.objectContaining({ rollbackSeconds: 120, withinBound: true, withinTarget: false }));
    const failed = await measureDrill({ rolloutId: 'too-slow' }, { store, gameDay });
    expect(failed).toEqual(expect.objectContaining({ rollbackSeconds: 300.1, withinBound: false }));
    expect(failed.summary).toContain('FAILED: over the bound');
  });

  it('fails a drill the alarm path did not roll back, and refuses to measure nothing', async () => {
    const store = new LocalDeploymentStore();
    await store.recordRollback(record({ by: 'state-machine', breachAt: null }));
    expect(await measureDrill({ rolloutId: 'game-day-2026-05-06' }, { store, gameDay })).toEqual(expect.objectContaining({ rollbackSeconds: null, withinBound: false }));
    await expect(measureDrill({ rolloutId: 'none' }, { store, gameDay })).rejects.toThrow('drill none has no rollback record');
  });
});

describe('startDrill (self canary)', () => {
  it('plans the current version against itself on a drill variant and claims the model', async () => {
    const store = new LocalDeploymentStore();
    const now = new Date('2026-05-06T10:00:00.000Z');
    await store.seedCurrent('qwen3-4b', { modelPackageArn: packageArn(3), modelPackageVersion: 3, servingName: 'qwen3-4b-v3' }, now);
    const plan = await startDrill({ input: { targetModelId: 'qwen3-4b' }, ...executionContext('game-day-2026-05-06', GAME_DAY_MACHINE) }, { settings, store, clock: () => now });
    expect(plan.current).toEqual({ modelPackageArn: packageArn(3), modelPackageVersion: 3, servingName: 'qwen3-4b-v3' });
    expect(plan.candidate).toEqual({ modelPackageArn: packageArn(3), modelPackageVersion: 3, servingName: 'qwen3-4b-v3-drill' });
    expect(plan.requestedBy).toBe('game-day schedule');
    expect(plan.alarmName).toBe('sial-dev-qwen3-4b-canary');
    expect(plan.executionArn).toBe(executionArnOf('game-day-2026-05-06', GAME_DAY_MACHINE));
    expect(await store.getActiveRollout('qwen3-4b')).toEqual(plan);
    expect(isLoopVariant('qwen3-4b-v3-drill', 'qwen3-4b')).toBe(true);
    await expect(startDrill({ input: { targetModelId: 'qwen3-4b' }, ...executionContext('another', GAME_DAY_MACHINE) }, { settings, store, clock: () => now })).rejects.toHaveProperty('name', 'RolloutRefused');
  });

  it('tells a wiring fault (an ARN of another execution) from an invalid drill input', async () => {
    const store = new LocalDeploymentStore();
    const now = new Date('2026-05-06T10:00:00.000Z');
    await store.seedCurrent('qwen3-4b', { modelPackageArn: packageArn(3), modelPackageVersion: 3, servingName: 'qwen3-4b-v3' }, now);
    const deps = { settings, store, clock: () => now };
    const unwired = startDrill({ input: { targetModelId: 'qwen3-4b' }, executionName: 'drill', executionArn: executionArnOf('another-drill', GAME_DAY_MACHINE) }, deps);
    await expect(unwired).rejects.toThrow('Start drill expects { input, executionName, executionArn } from the state machine: executionArn');
    await expect(unwired).rejects.toHaveProperty('name', 'Error');
    const invalid = startDrill({ input: { targetModelId: '' }, ...executionContext('drill', GAME_DAY_MACHINE) }, deps);
    await expect(invalid).rejects.toThrow('the drill input is invalid: input.targetModelId');
    await expect(invalid).rejects.toHaveProperty('name', 'RolloutRefused');
    expect(await store.getActiveRollout('qwen3-4b')).toBeUndefined();
  });

  it('uses the idle backend on EKS, and refuses a model without a current version', async () => {
    const store = new LocalDeploymentStore();
    const now = new Date('2026-05-06T10:00:00.000Z');
    await expect(startDrill({ input: { targetModelId: EKS_MODEL.id }, ...executionContext('d', GAME_DAY_MACHINE) }, { settings, store, clock: () => now })).rejects.toThrow('has no current version');
    await store.seedCurrent(EKS_MODEL.id, { modelPackageArn: packageArn(3), modelPackageVersion: 3, servingName: EKS_TARGET.currentBackend }, now);
    expect((await startDrill({ input: { targetModelId: EKS_MODEL.id }, ...executionContext('d', GAME_DAY_MACHINE) }, { settings, store, clock: () => now })).candidate.servingName).toBe(EKS_TARGET.candidateBackend);
  });
});

describe('setSelfCanary', () => {
  it('deploys the SageMaker drill variant (busy until it serves), then sets and verifies the first step', async () => {
    const clock = new VirtualClock();
    const store = new LocalDeploymentStore();
    await store.seedCurrent('qwen3-4b', { modelPackageArn: packageArn(3), modelPackageVersion: 3, servingName: 'qwen3-4b-v3' }, clock.now());
    const plan = await startDrill({ input: { targetModelId: 'qwen3-4b' }, ...executionContext('drill', GAME_DAY_MACHINE) }, { settings, store, clock: clock.now });
    const endpoint = new SimulatedSageMakerEndpoint({ endpointName: 'sial-dev-qwen3-4b', variants: [{ name: 'qwen3-4b-v3', weight: 1 }], clock: clock.now, deploySeconds: 240, weightUpdateSeconds: 20 });
    const deps = { router: endpoint, deployer: endpoint, settle: clock.settle() };
    await expect(setSelfCanary({ rollout: plan }, deps)).rejects.toBeInstanceOf(TrafficTargetBusy);
    clock.advance(120);
    await expect(setSelfCanary({ rollout: plan }, deps)).rejects.toThrow('is being deployed');
    clock.advance(120);
    const verified = await setSelfCanary({ rollout: plan }, deps);
    expect(verified.observed).toEqual({ currentPercent: 90, candidatePercent: 10 });
    expect(endpoint.split('qwen3-4b-v3', 'qwen3-4b-v3-drill')).toEqual({ current: 90, candidate: 10 });
  });

  it('moves the EKS route to the idle backend at once, and refuses a plan that is not a self canary', async () => {
    const clock = new VirtualClock();
    const route = new SimulatedHttpRoute({ target: EKS_TARGET, clock: clock.now });
    const plan = eksPlan({ candidate: { ...eksPlan().current, servingName: EKS_TARGET.candidateBackend } });
    const endpoint = new SimulatedSageMakerEndpoint({ endpointName: 'unused', variants: [{ name: 'x', weight: 1 }], clock: clock.now });
    expect((await setSelfCanary({ rollout: plan }, { router: route, deployer: endpoint, settle: clock.settle() })).observed).toEqual({ currentPercent: 90, candidatePercent: 10 });
    await expect(setSelfCanary({ rollout: eksPlan() }, { router: route, deployer: endpoint, settle: clock.settle() })).rejects.toThrow('is not a self canary');
  });

  it('stops when the drill variant failed to deploy', async () => {
    const clock = new VirtualClock();
    const store = new LocalDeploymentStore();
    await store.seedCurrent('qwen3-4b', { modelPackageArn: packageArn(3), modelPackageVersion: 3, servingName: 'qwen3-4b-v3' }, clock.now());
    const plan = await startDrill({ input: { targetModelId: 'qwen3-4b' }, ...executionContext('drill', GAME_DAY_MACHINE) }, { settings, store, clock: clock.now });
    const endpoint = new SimulatedSageMakerEndpoint({ endpointName: 'sial-dev-qwen3-4b', variants: [{ name: 'qwen3-4b-v3', weight: 1 }], clock: clock.now, deploySeconds: 60 });
    endpoint.failNextDeploy = true;
    await expect(setSelfCanary({ rollout: plan }, { router: endpoint, deployer: endpoint, settle: clock.settle() })).rejects.toBeInstanceOf(TrafficTargetBusy);
    clock.advance(60);
    await expect(setSelfCanary({ rollout: plan }, { router: endpoint, deployer: endpoint, settle: clock.settle() })).rejects.toThrow('could not be deployed');
  });
});

describe('measureDrill releases the model', () => {
  it('clears the drill as the active rollout once measured', async () => {
    const store = new LocalDeploymentStore();
    const now = new Date('2026-05-06T10:00:00.000Z');
    await store.seedCurrent('qwen3-4b', { modelPackageArn: packageArn(3), modelPackageVersion: 3, servingName: 'qwen3-4b-v3' }, now);
    const plan = await startDrill({ input: { targetModelId: 'qwen3-4b' }, ...executionContext('game-day-2026-05-06', GAME_DAY_MACHINE) }, { settings, store, clock: () => now });
    await store.recordRollback(record({ rolloutId: plan.rolloutId }));
    await measureDrill({ rolloutId: plan.rolloutId }, { store, gameDay });
    expect(await store.getActiveRollout('qwen3-4b')).toBeUndefined();
  });
});
