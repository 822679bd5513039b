import { ROLLOUT_ERRORS } from '../../stepfunctions/canary-rollout-states';
import { WeightsNotApplied } from '../../lambdas/rollout/errors';
import type { TrafficRouter } from '../../lambdas/rollout/ports';
import { DispatchingTrafficRouter } from '../../lambdas/rollout/traffic/dispatching-router';
import { applyAndAwait, awaitWeights } from '../../lambdas/rollout/traffic/settle';
import { ALL_CURRENT } from '../../lambdas/rollout/traffic/weights';
import { SimulatedHttpRoute } from '../../local/rollout/simulated-http-route';
import { SimulatedSageMakerEndpoint } from '../../local/rollout/simulated-sagemaker-endpoint';
import { EKS_TARGET, VirtualClock, eksPlan, sageMakerPlan } from './helpers';

const plan = sageMakerPlan();

function servingCanary(clock: VirtualClock, candidateWeight = 10): SimulatedSageMakerEndpoint {
  return new SimulatedSageMakerEndpoint({
    endpointName: 'sial-dev-qwen3-4b',
    variants: [
      { name: 'AllTraffic', weight: 100 - candidateWeight },
      { name: 'qwen3-4b-v4', weight: candidateWeight },
    ],
    clock: clock.now,
    weightUpdateSeconds: 25,
  });
}

describe('awaitWeights', () => {
  it('waits while SageMaker applies the weights and reports when they served', async () => {
    const clock = new VirtualClock();
    const ep = servingCanary(clock, 0);
    await ep.setWeights(plan.target, plan, { currentPercent: 90, candidatePercent: 10 });
    const verified = await awaitWeights(ep, plan, { currentPercent: 90, candidatePercent: 10 }, clock.settle(240, 2));
    expect(verified).toEqual({ expected: { currentPercent: 90, candidatePercent: 10 }, observed: { currentPercent: 90, candidatePercent: 10 }, verifiedAt: '2026-05-04T10:00:26.000Z' });
  });

  it('fails with WeightsNotApplied (expected and observed) when an update silently did not take', async () => {
    const clock = new VirtualClock();
    const ep = servingCanary(clock, 0);
    ep.silentlyIgnoreWeightUpdates = true;
    await ep.setWeights(plan.target, plan, { currentPercent: 50, candidatePercent: 50 });
    const failure = awaitWeights(ep, plan, { currentPercent: 50, candidatePercent: 50 }, clock.settle(120, 5));
    await expect(failure).rejects.toThrow(new WeightsNotApplied({ currentPercent: 50, candidatePercent: 50 }, { currentPercent: 100, candidatePercent: 0 }, 'SageMaker endpoint sial-dev-qwen3-4b did not serve the expected split within 120 s').message);
    await expect(failure).rejects.toHaveProperty('name', ROLLOUT_ERRORS.weightsNotApplied);
    expect(clock.now().toISOString()).toBe('2026-05-04T10:02:00.000Z');
  });
});

describe('applyAndAwait', () => {
  it('does nothing to a target that already serves the split', async () => {
    const clock = new VirtualClock();
    const ep = servingCanary(clock, 0);
    expect((await applyAndAwait(ep, plan, ALL_CURRENT, clock.settle())).requests).toBe(0);
    expect(ep.events).toEqual([]);
  });

  it('converges when two rollbacks run at once: neither fails on the other update in progress', async () => {
    const clock = new VirtualClock();
    const ep = servingCanary(clock, 50);
    const [a, b] = await Promise.all([applyAndAwait(ep, plan, ALL_CURRENT, clock.settle()), applyAndAwait(ep, plan, ALL_CURRENT, clock.settle())]);
    expect(a.observed).toEqual(ALL_CURRENT);
    expect(b.observed).toEqual(ALL_CURRENT);
    expect(a.requests + b.requests).toBe(1);
  });

  it('asks again when an update was lost, and gives up with WeightsNotApplied at the deadline', async () => {
    const clock = new VirtualClock();
    const ep = servingCanary(clock, 50);
    ep.silentlyIgnoreWeightUpdates = true;
    // The first update is lost; the fault clears after it, so the re-ask 30 s later takes.
    const clearsAfterFirstRequest: TrafficRouter = {
      readWeights: (target, p) => ep.readWeights(target, p),
      setWeights: async (target, p, weights) => {
        await ep.setWeights(target, p, weights);
        ep.silentlyIgnoreWeightUpdates = false;
      },
    };
    const applied = await applyAndAwait(clearsAfterFirstRequest, plan, ALL_CURRENT, { ...clock.settle(240, 2), reapplyMs: 30_000 });
    expect(applied.requests).toBe(2);
    expect(applied.observed).toEqual(ALL_CURRENT);

    const stuck = servingCanary(clock, 50);
    stuck.silentlyIgnoreWeightUpdates = true;
    await expect(applyAndAwait(stuck, plan, ALL_CURRENT, clock.settle(90, 2))).rejects.toBeInstanceOf(WeightsNotApplied);
  });

  it('works the same on an HTTPRoute, through the dispatching router', async () => {
    const clock = new VirtualClock();
    const route = new SimulatedHttpRoute({ target: EKS_TARGET, clock: clock.now });
    const router = new DispatchingTrafficRouter({ eks: route });
    const p = eksPlan();
    await applyAndAwait(router, p, { currentPercent: 50, candidatePercent: 50 }, clock.settle());
    expect((await applyAndAwait(router, p, ALL_CURRENT, clock.settle())).observed).toEqual(ALL_CURRENT);
    await expect(router.readWeights(plan.target, plan)).rejects.toThrow('no traffic router is configured for sagemaker targets');
  });
});
