import { ROLLOUT_ERRORS } from '../../stepfunctions/canary-rollout-states';
import { RolledBack, WeightsNotApplied } from '../../lambdas/rollout/errors';
import { verifyWeights, type VerifyWeightsDeps } from '../../lambdas/rollout/verify-weights/verify-weights';
import { SimulatedHttpRoute } from '../../local/rollout/simulated-http-route';
import { SimulatedSageMakerEndpoint } from '../../local/rollout/simulated-sagemaker-endpoint';
import { LocalDeploymentStore } from '../../local/rollout/local-deployment-store';
import { EKS_TARGET, VirtualClock, eksPlan, sageMakerPlan } from './helpers';

const step10 = { index: 0, candidatePercent: 10, currentPercent: 90, stepStartedAt: null, done: false };

function setup(): { clock: VirtualClock; endpoint: SimulatedSageMakerEndpoint; store: LocalDeploymentStore; deps: VerifyWeightsDeps } {
  const clock = new VirtualClock();
  const endpoint = new SimulatedSageMakerEndpoint({ endpointName: 'sial-dev-qwen3-4b', variants: [{ name: 'AllTraffic', weight: 1 }, { name: 'qwen3-4b-v4', weight: 0 }], clock: clock.now, weightUpdateSeconds: 30 });
  const store = new LocalDeploymentStore();
  return { clock, endpoint, store, deps: { router: endpoint, store, settle: clock.settle(240, 2), clock: clock.now } };
}

describe('verifyWeights on SageMaker', () => {
  const plan = sageMakerPlan();

  it('waits for DescribeEndpoint to show the step weights, then reports them', async () => {
    const { endpoint, deps } = setup();
    endpoint.updateEndpointWeightsAndCapacities({ DesiredWeightsAndCapacities: [{ VariantName: 'AllTraffic', DesiredWeight: 90 }, { VariantName: 'qwen3-4b-v4', DesiredWeight: 10 }] });
    expect(await verifyWeights({ rollout: plan, progress: step10 }, deps)).toEqual({
      expected: { currentPercent: 90, candidatePercent: 10 },
      observed: { currentPercent: 90, candidatePercent: 10 },
      verifiedAt: '2026-05-04T10:00:30.000Z',
    });
  });

  it('throws WeightsNotApplied with expected and observed when the update silently did not take', async () => {
    const { endpoint, deps } = setup();
    endpoint.silentlyIgnoreWeightUpdates = true;
    endpoint.updateEndpointWeightsAndCapacities({ DesiredWeightsAndCapacities: [{ VariantName: 'AllTraffic', DesiredWeight: 90 }, { VariantName: 'qwen3-4b-v4', DesiredWeight: 10 }] });
    const error = await verifyWeights({ rollout: plan, progress: step10 }, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsNotApplied);
    expect((error as Error).name).toBe(ROLLOUT_ERRORS.weightsNotApplied);
    expect((error as Error).message).toContain('expected current 90 % / candidate 10 %, observed current 100 % / candidate 0 %');
  });

  it('ends the execution as RolledBack when the alarm Lambda rolled back meanwhile (an approval that came late)', async () => {
    const { deps, store } = setup();
    await store.recordRollback({ rolloutId: plan.rolloutId, targetModelId: plan.targetModelId, reason: 'canary alarm went into ALARM', by: 'alarm-lambda', breachAt: '2026-05-04T09:59:00.000Z', verifiedAt: '2026-05-04T09:59:40.000Z', weights: { currentPercent: 100, candidatePercent: 0 } });
    const error = await verifyWeights({ rollout: plan, progress: step10 }, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RolledBack);
    expect((error as Error).name).toBe(ROLLOUT_ERRORS.rolledBack);
    expect((error as Error).message).toBe('rollout rollout-1 was rolled back by the alarm-lambda at 2026-05-04T09:59:40.000Z: canary alarm went into ALARM');
  });
});

describe('verifyWeights on EKS (the eks:call GET result)', () => {
  const plan = eksPlan();

  it('accepts the route when it carries the step split', async () => {
    const { clock, deps } = setup();
    const route = new SimulatedHttpRoute({ target: EKS_TARGET, clock: clock.now });
    await route.setWeights(EKS_TARGET, plan, { currentPercent: 90, candidatePercent: 10 });
    const read = route.call({ Method: 'GET', Path: `/apis/gateway.networking.k8s.io/v1/namespaces/${EKS_TARGET.namespace}/httproutes/${EKS_TARGET.httpRouteName}` });
    expect((await verifyWeights({ rollout: plan, progress: step10, route: read }, deps)).observed).toEqual({ currentPercent: 90, candidatePercent: 10 });
  });

  it('throws WeightsNotApplied when the patch did not take', async () => {
    const { clock, deps } = setup();
    const route = new SimulatedHttpRoute({ target: EKS_TARGET, clock: clock.now });
    route.silentlyIgnorePatches = true;
    await route.setWeights(EKS_TARGET, plan, { currentPercent: 90, candidatePercent: 10 });
    await expect(verifyWeights({ rollout: plan, progress: step10, route: { ResponseBody: route.current(), StatusCode: 200 } }, deps)).rejects.toThrow(
      'expected current 90 % / candidate 10 %, observed current 100 % / candidate 0 %',
    );
  });

  it('throws WeightsNotApplied when the gateway did not accept the route', async () => {
    const { clock, deps } = setup();
    const route = new SimulatedHttpRoute({ target: EKS_TARGET, clock: clock.now });
    await route.setWeights(EKS_TARGET, plan, { currentPercent: 90, candidatePercent: 10 });
    const body = route.current();
    body.status = { parents: [{ controllerName: 'gw', conditions: [{ type: 'Accepted', status: 'False', reason: 'NoMatchingParent', observedGeneration: body.metadata.generation }] }] };
    await expect(verifyWeights({ rollout: plan, progress: step10, route: body }, deps)).rejects.toThrow('gw did not accept');
  });

  it('needs the route and the step', async () => {
    const { deps } = setup();
    await expect(verifyWeights({ rollout: plan, progress: step10 }, deps)).rejects.toThrow('needs `route`');
    await expect(verifyWeights({ rollout: plan }, deps)).rejects.toThrow('needs `progress`');
  });
});
