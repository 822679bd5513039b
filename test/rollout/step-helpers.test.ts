/** The small steps around the traffic moves: planning the eks:call PATCH, the candidate variant steps, settings. */
import { DEFAULT_CANARY } from '../../config/governance-defaults';
import { canaryAlarmName, pipelineSettingsFromEnv, targetModelOfCanaryAlarm } from '../../lambdas/pipeline/settings';
import { checkEndpoint, deployCandidate } from '../../lambdas/rollout/deploy-variant/candidate-variant';
import { httpRoutePath, routeWeights, backendsOf, routeFromCallResult } from '../../lambdas/rollout/eks/http-route';
import { ROLLOUT_ENV, settleOptionsFromEnv } from '../../lambdas/rollout/env';
import { planRoutePatch } from '../../lambdas/rollout/route-patch/plan-route-patch';
import { SimulatedHttpRoute } from '../../local/rollout/simulated-http-route';
import { SimulatedSageMakerEndpoint } from '../../local/rollout/simulated-sagemaker-endpoint';
import { EKS_TARGET, VirtualClock, eksPlan, sageMakerPlan, settings } from './helpers';

describe('planRoutePatch (body of Patch HTTPRoute weights)', () => {
  it('returns the Path and RequestBody the eks:call PATCH state sends, computed from the route as read', () => {
    const clock = new VirtualClock();
    const route = new SimulatedHttpRoute({ target: EKS_TARGET, clock: clock.now });
    const plan = eksPlan();
    const read = route.call({ Method: 'GET', Path: httpRoutePath(EKS_TARGET) });
    const planned = planRoutePatch({ rollout: plan, progress: { index: 1, candidatePercent: 50, currentPercent: 50, stepStartedAt: null, done: false }, route: read });
    expect(planned.Path).toBe(httpRoutePath(EKS_TARGET));
    expect(planned.expected).toEqual({ currentPercent: 50, candidatePercent: 50 });
    const patched = route.call({ Method: 'PATCH', Path: planned.Path, RequestBody: planned.RequestBody });
    expect(routeWeights(routeFromCallResult(patched), backendsOf(plan))).toEqual({ currentPercent: 50, candidatePercent: 50 });
    expect(() => planRoutePatch({ rollout: plan, route: read })).toThrow('needs `progress`');
  });
});

describe('candidate variant steps', () => {
  it('deploy and status go to the deployer for SageMaker plans and refuse EKS plans', async () => {
    const clock = new VirtualClock();
    const endpoint = new SimulatedSageMakerEndpoint({ endpointName: 'sial-dev-qwen3-4b', variants: [{ name: 'AllTraffic', weight: 1 }], clock: clock.now, deploySeconds: 60 });
    const plan = sageMakerPlan();
    expect(await deployCandidate({ rollout: plan }, endpoint)).toEqual(expect.objectContaining({ variantName: 'qwen3-4b-v4', status: 'updating' }));
    expect((await checkEndpoint({ rollout: plan }, endpoint)).inService).toBe(false);
    clock.advance(60);
    expect(await checkEndpoint({ rollout: plan }, endpoint)).toEqual({ endpointName: 'sial-dev-qwen3-4b', status: 'InService', inService: true, failed: false, candidateDeployed: true });
    await expect(deployCandidate({ rollout: eksPlan() }, endpoint)).rejects.toThrow('targets eks: there is no SageMaker variant to deploy');
  });
});

describe('rollout settings', () => {
  it('carry the canary config through PIPELINE_SETTINGS', () => {
    expect(settings.canary).toEqual(DEFAULT_CANARY);
    expect(pipelineSettingsFromEnv({ PIPELINE_SETTINGS: JSON.stringify(settings) }).canary.gameDay.maxRollbackSeconds).toBe(300);
    const { canary: _canary, ...without } = settings;
    expect(() => pipelineSettingsFromEnv({ PIPELINE_SETTINGS: JSON.stringify(without) })).toThrow('canary');
  });

  it('name each model canary alarm and map an alarm back to its model', () => {
    expect(canaryAlarmName('dev', 'qwen3-4b')).toBe('sial-dev-qwen3-4b-canary');
    expect(targetModelOfCanaryAlarm('sial-dev-qwen3-4b-internal-canary', settings)).toBe('qwen3-4b-internal');
    expect(targetModelOfCanaryAlarm('sial-prod-eu-qwen3-4b-canary', settings)).toBeUndefined();
  });

  it('read the settle window from the environment within the Lambda limit', () => {
    expect(settleOptionsFromEnv({}).timeoutMs).toBe(240_000);
    expect(settleOptionsFromEnv({ [ROLLOUT_ENV.settleTimeoutSeconds]: '90' }).timeoutMs).toBe(90_000);
    expect(() => settleOptionsFromEnv({ [ROLLOUT_ENV.settleTimeoutSeconds]: '900' })).toThrow('from 1 to 840');
  });
});
