import { TrafficTargetBusy } from '../../lambdas/rollout/errors';
import { httpRoutePath } from '../../lambdas/rollout/eks/http-route';
import { SimulatedHttpRoute, EksCallError } from '../../local/rollout/simulated-http-route';
import { SimulatedSageMakerEndpoint } from '../../local/rollout/simulated-sagemaker-endpoint';
import { EKS_TARGET, VirtualClock, eksPlan, sageMakerPlan } from './helpers';

describe('SimulatedSageMakerEndpoint', () => {
  const plan = sageMakerPlan();

  function endpoint(clock: VirtualClock): SimulatedSageMakerEndpoint {
    return new SimulatedSageMakerEndpoint({ endpointName: 'sial-dev-qwen3-4b', variants: [{ name: 'AllTraffic', weight: 1 }], clock: clock.now, weightUpdateSeconds: 20, deploySeconds: 300 });
  }

  it('adds the candidate variant at weight 0 after the deploy time, then moves weights asynchronously', async () => {
    const clock = new VirtualClock();
    const ep = endpoint(clock);
    expect((await ep.deployCandidateVariant(plan)).status).toBe('updating');
    expect(await ep.endpointStatus(plan)).toEqual(expect.objectContaining({ status: 'Updating', inService: false, failed: false }));
    expect((await ep.deployCandidateVariant(plan)).status).toBe('updating'); // a retry finds its own update
    clock.advance(300);
    expect(await ep.endpointStatus(plan)).toEqual(expect.objectContaining({ status: 'InService', inService: true, candidateDeployed: true }));
    expect((await ep.deployCandidateVariant(plan)).status).toBe('in-place');

    ep.updateEndpointWeightsAndCapacities({ EndpointName: 'sial-dev-qwen3-4b', DesiredWeightsAndCapacities: [{ VariantName: 'AllTraffic', DesiredWeight: 90 }, { VariantName: 'qwen3-4b-v4', DesiredWeight: 10 }] });
    const updating = ep.describeEndpoint();
    expect(updating.EndpointStatus).toBe('Updating');
    expect(updating.ProductionVariants.find((v) => v.VariantName === 'qwen3-4b-v4')).toEqual(expect.objectContaining({ CurrentWeight: 0, DesiredWeight: 10 }));
    expect(await ep.readWeights(plan.target, plan)).toEqual({ currentPercent: 100, candidatePercent: 0 });
    expect(() => ep.updateEndpointWeightsAndCapacities({ DesiredWeightsAndCapacities: [{ VariantName: 'AllTraffic', DesiredWeight: 1 }] })).toThrow('Cannot update in-progress endpoint');
    await expect(ep.setWeights(plan.target, plan, { currentPercent: 100, candidatePercent: 0 })).rejects.toBeInstanceOf(TrafficTargetBusy);
    clock.advance(20);
    expect(await ep.readWeights(plan.target, plan)).toEqual({ currentPercent: 90, candidatePercent: 10 });
    expect(ep.describeEndpoint().Simulated).toContain('[SIMULATED]');
    expect(ep.events.every((line) => line.startsWith('[SIMULATED]'))).toBe(true);
  });

  it('can make a weight update silently not take', async () => {
    const clock = new VirtualClock();
    const ep = new SimulatedSageMakerEndpoint({ endpointName: 'e', variants: [{ name: 'AllTraffic', weight: 1 }, { name: 'qwen3-4b-v4', weight: 0 }], clock: clock.now });
    const p = sageMakerPlan({ target: { kind: 'sagemaker', endpointName: 'e', instanceType: 'ml.g6e.2xlarge', initialInstanceCount: 1 } });
    ep.silentlyIgnoreWeightUpdates = true;
    await ep.setWeights(p.target, p, { currentPercent: 50, candidatePercent: 50 });
    clock.advance(60);
    expect(ep.status).toBe('InService');
    expect(await ep.readWeights(p.target, p)).toEqual({ currentPercent: 100, candidatePercent: 0 });
    expect(ep.events.join('\n')).toContain('WITHOUT taking');
  });

  it('can fail a deployment, which rolls the endpoint back without the candidate', async () => {
    const clock = new VirtualClock();
    const ep = endpoint(clock);
    ep.failNextDeploy = true;
    await ep.deployCandidateVariant(plan);
    clock.advance(300);
    expect(await ep.endpointStatus(plan)).toEqual(expect.objectContaining({ status: 'InService', inService: false, failed: true, candidateDeployed: false }));
  });
});

describe('SimulatedHttpRoute', () => {
  const plan = eksPlan();
  const path = httpRoutePath(EKS_TARGET);

  it('answers eks:call GET and PATCH like the integration, with the resourceVersion precondition', async () => {
    const clock = new VirtualClock();
    const route = new SimulatedHttpRoute({ target: EKS_TARGET, clock: clock.now });
    const got = route.call({ Method: 'GET', Path: path });
    expect(got.StatusCode).toBe(200);
    expect(got.Headers['x-simulated']).toEqual(['[SIMULATED]']);
    await route.setWeights(EKS_TARGET, plan, { currentPercent: 50, candidatePercent: 50 });
    expect(await route.readWeights(EKS_TARGET, plan)).toEqual({ currentPercent: 50, candidatePercent: 50 });
    const stale = { metadata: { resourceVersion: '1' }, spec: { rules: [] } };
    let error: unknown;
    try {
      route.call({ Method: 'PATCH', Path: path, RequestBody: stale });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EksCallError);
    expect((error as Error).name).toBe('EKS.409');
    expect(() => route.call({ Method: 'GET', Path: '/apis/elsewhere' })).toThrow(expect.objectContaining({ name: 'EKS.404' }));
  });

  it('can make a PATCH silently not take', async () => {
    const route = new SimulatedHttpRoute({ target: EKS_TARGET, clock: new VirtualClock().now });
    route.silentlyIgnorePatches = true;
    await route.setWeights(EKS_TARGET, plan, { currentPercent: 90, candidatePercent: 10 });
    expect(await route.readWeights(EKS_TARGET, plan)).toEqual({ currentPercent: 100, candidatePercent: 0 });
    expect(route.events.join('\n')).toContain('silently NOT applied');
  });
});
