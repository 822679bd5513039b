/**
 * Each rollout Lambda handler wired as in AWS (environment read at load, SDK clients mocked): the
 * environment variables are the ones ROLLOUT_ENV documents, and each handler reaches the domain with
 * the adapters it needs.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { MODEL_METADATA } from '../../lambdas/pipeline/register-model/model-registry';
import { DynamoDbDeploymentStore } from '../../lambdas/rollout/aws/dynamodb-deployment-store';
import { ROLLOUT_ENV } from '../../lambdas/rollout/env';
import { SimulatedHttpRoute } from '../../local/rollout/simulated-http-route';
import { SimulatedSageMakerEndpoint } from '../../local/rollout/simulated-sagemaker-endpoint';
import { lambdaContext } from '../helpers/lambda-context';
import { fakeDeploymentsTable } from './fake-deployments-table';
import { EKS_TARGET, eksPlan, executionArnOf, executionContext, GAME_DAY_MACHINE, packageArn, sageMakerPlan, settings } from './helpers';

const ddb = mockClient(DynamoDBDocumentClient);
const sagemaker = mockClient(SageMakerClient);
const cloudwatch = mockClient(CloudWatchClient);

process.env[ROLLOUT_ENV.settings] = JSON.stringify(settings);
process.env[ROLLOUT_ENV.deploymentsTable] = 'deployments';
process.env[ROLLOUT_ENV.sageMakerExecutionRoleArn] = 'arn:aws:iam::123456789012:role/sial-dev-sagemaker';
process.env[ROLLOUT_ENV.settleTimeoutSeconds] = '20';
process.env.AWS_REGION = 'us-east-1';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'SialTest';

/* eslint-disable @typescript-eslint/no-require-imports */
type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
const load = (path: string): Handler => (require(path) as { handler: Handler }).handler;
const validate = load('../../lambdas/rollout/validate-rollout/handler');
const advance = load('../../lambdas/rollout/advance-step/handler');
const verify = load('../../lambdas/rollout/verify-weights/handler');
const check = load('../../lambdas/rollout/check-canary/handler');
const rollBack = load('../../lambdas/rollout/roll-back/handler');
const promote = load('../../lambdas/rollout/promote/handler');
const deploy = load('../../lambdas/rollout/deploy-variant/deploy-handler');
const status = load('../../lambdas/rollout/deploy-variant/status-handler');
const planPatch = load('../../lambdas/rollout/route-patch/handler');
const drillCheck = load('../../lambdas/rollout/game-day/check-handler');
const drillMeasure = load('../../lambdas/rollout/game-day/measure-handler');
const drillStart = load('../../lambdas/rollout/game-day/start-handler');
const selfCanary = load('../../lambdas/rollout/game-day/self-canary-handler');
/* eslint-enable @typescript-eslint/no-require-imports */

const ctx = lambdaContext('rollout');
let endpoint: SimulatedSageMakerEndpoint;
let store: DynamoDbDeploymentStore;

beforeEach(async () => {
  ddb.reset();
  sagemaker.reset();
  cloudwatch.reset();
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) jest.spyOn(console, method).mockImplementation(() => undefined);
  fakeDeploymentsTable(ddb);
  store = new DynamoDbDeploymentStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), 'deployments');
  endpoint = new SimulatedSageMakerEndpoint({ endpointName: 'sial-dev-qwen3-4b', variants: [{ name: 'AllTraffic', weight: 1 }], clock: () => new Date(), weightUpdateSeconds: 0, deploySeconds: 0 });
  sagemaker.on(DescribeEndpointCommand).callsFake((input) => endpoint.describeEndpoint(input));
  sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).callsFake((input) => endpoint.updateEndpointWeightsAndCapacities(input));
});
afterEach(() => jest.restoreAllMocks());

describe('rollout handlers', () => {
  it('validate -> advance -> deploy/status -> verify -> check -> promote, for a SageMaker model', async () => {
    const arn = packageArn(4);
    sagemaker.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [{ ModelPackageArn: arn, ModelPackageGroupName: 'sial-dev-qwen3', ModelPackageVersion: 4, ModelApprovalStatus: 'PendingManualApproval', ModelPackageStatus: 'Completed', CreationTime: new Date() }] });
    sagemaker.on(DescribeModelPackageCommand).resolves({ ModelPackageName: 'sial-dev-qwen3', ModelPackageArn: arn, ModelApprovalStatus: 'PendingManualApproval', CreationTime: new Date(), CustomerMetadataProperties: { [MODEL_METADATA.targetModelId]: 'qwen3-4b' } });
    await store.seedCurrent('qwen3-4b', { modelPackageArn: packageArn(3), modelPackageVersion: 3, servingName: 'AllTraffic' }, new Date());

    const plan = (await validate({ input: { targetModelId: 'qwen3-4b', modelPackageArn: arn, modelPackageVersion: 4, requestedBy: 'me' }, ...executionContext('exec-1') }, ctx)) as ReturnType<typeof sageMakerPlan>;
    expect(plan.candidate.servingName).toBe('qwen3-4b-v4');
    expect((await store.getActiveRollout('qwen3-4b'))?.executionArn).toBe(executionArnOf('exec-1'));
    await expect(validate({ input: { targetModelId: 'nope', modelPackageArn: arn, modelPackageVersion: 4, requestedBy: 'me' }, ...executionContext('exec-2') }, ctx)).rejects.toHaveProperty('name', 'RolloutRefused');

    // SageMaker adds the candidate variant through the simulated endpoint's deploy path.
    sagemaker.on(DescribeEndpointConfigCommand).resolves({ EndpointConfigName: 'sial-dev-qwen3-4b-initial', EndpointConfigArn: 'a', CreationTime: new Date(), ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'm', InstanceType: 'ml.g6e.2xlarge', InitialInstanceCount: 1 }] });
    sagemaker.on(CreateModelCommand).resolves({});
    sagemaker.on(CreateEndpointConfigCommand).resolves({});
    sagemaker.on(UpdateEndpointCommand).callsFake(async () => {
      await endpoint.deployCandidateVariant(plan);
      return {};
    });
    expect(await deploy({ rollout: plan }, ctx)).toEqual(expect.objectContaining({ status: 'updating', variantName: 'qwen3-4b-v4' }));
    expect(await status({ rollout: plan }, ctx)).toEqual(expect.objectContaining({ inService: true }));

    let progress = (await advance({ rollout: plan }, ctx)) as { index: number; candidatePercent: number; currentPercent: number; stepStartedAt: string | null; done: boolean };
    expect(progress.candidatePercent).toBe(10);
    endpoint.updateEndpointWeightsAndCapacities({ DesiredWeightsAndCapacities: [{ VariantName: 'AllTraffic', DesiredWeight: 90 }, { VariantName: 'qwen3-4b-v4', DesiredWeight: 10 }] });
    const verified = (await verify({ rollout: plan, progress }, ctx)) as { verifiedAt: string };

    cloudwatch.on(DescribeAlarmsCommand).resolves({ CompositeAlarms: [{ AlarmName: plan.alarmName, StateValue: 'OK', StateReason: 'ok', StateTransitionedTimestamp: new Date('2026-01-01T00:00:00Z') }] });
    expect(await check({ rollout: plan, progress, verified }, ctx)).toEqual(expect.objectContaining({ alarmState: 'OK', rollBack: false, baked: false }));

    progress = { index: 2, candidatePercent: 100, currentPercent: 0, stepStartedAt: verified.verifiedAt, done: true };
    sagemaker.on(UpdateModelPackageCommand).resolves({});
    expect(await promote({ rollout: plan, progress }, ctx)).toEqual(expect.objectContaining({ targetModelId: 'qwen3-4b', approvedModelPackageArn: arn }));
    expect(sagemaker.commandCalls(UpdateModelPackageCommand)[0]!.args[0].input).toEqual(expect.objectContaining({ ModelPackageArn: arn, ModelApprovalStatus: 'Approved' }));
    expect((await store.getCurrent('qwen3-4b'))?.current.servingName).toBe('qwen3-4b-v4');
  });

  it('roll back restores 100 % current and records by state-machine', async () => {
    const plan = sageMakerPlan();
    endpoint = new SimulatedSageMakerEndpoint({ endpointName: 'sial-dev-qwen3-4b', variants: [{ name: 'AllTraffic', weight: 50 }, { name: 'qwen3-4b-v4', weight: 50 }], clock: () => new Date(), weightUpdateSeconds: 0 });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ CompositeAlarms: [{ AlarmName: plan.alarmName, StateValue: 'ALARM', StateReason: 'bad', StateTransitionedTimestamp: new Date('2026-05-04T10:00:00Z') }] });
    const record = await rollBack({ rollout: plan, error: { Error: 'States.TaskFailed', Cause: 'boom' } }, ctx);
    expect(record).toEqual(expect.objectContaining({ by: 'state-machine', breachAt: '2026-05-04T10:00:00.000Z', reason: 'States.TaskFailed: boom', weights: { currentPercent: 100, candidatePercent: 0 } }));
  });

  it('plans the HTTPRoute patch, and measures a game-day drill', async () => {
    const route = new SimulatedHttpRoute({ target: EKS_TARGET, clock: () => new Date() });
    const planned = (await planPatch({ rollout: eksPlan(), expected: { currentPercent: 90, candidatePercent: 10 }, route: route.current() }, ctx)) as { Path: string };
    expect(planned.Path).toContain('/httproutes/');

    await store.seedCurrent('qwen3-4b', { modelPackageArn: packageArn(3), modelPackageVersion: 3, servingName: 'AllTraffic' }, new Date());
    expect(await drillStart({ input: { targetModelId: 'qwen3-4b', requestedBy: 'gameday@example.com' }, ...executionContext('drill-1', GAME_DAY_MACHINE) }, ctx)).toEqual(expect.objectContaining({ rolloutId: 'drill-1', candidate: expect.objectContaining({ servingName: 'qwen3-4b-v3-drill' }) }));
    const drill = (await drillStart({ input: { targetModelId: 'qwen3-4b' }, ...executionContext('drill-2', GAME_DAY_MACHINE) }, ctx).catch((e: unknown) => e)) as Error;
    expect(drill.name).toBe('RolloutRefused'); // drill-1 holds the model
    const drillPlan = await store.getActiveRollout('qwen3-4b');
    expect(drillPlan?.executionArn).toBe(executionArnOf('drill-1', GAME_DAY_MACHINE));
    sagemaker.on(DescribeEndpointConfigCommand).resolves({ EndpointConfigName: 'c', EndpointConfigArn: 'a', CreationTime: new Date(), ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'm', InstanceType: 'ml.g6e.2xlarge', InitialInstanceCount: 1 }] });
    sagemaker.on(CreateModelCommand).resolves({});
    sagemaker.on(CreateEndpointConfigCommand).resolves({});
    sagemaker.on(UpdateEndpointCommand).callsFake(async () => {
      await endpoint.deployCandidateVariant(drillPlan!);
      return {};
    });
    await expect(selfCanary({ rollout: drillPlan }, ctx)).rejects.toHaveProperty('name', 'TrafficTargetBusy');
    expect(await selfCanary({ rollout: drillPlan }, ctx)).toEqual(expect.objectContaining({ observed: { currentPercent: 90, candidatePercent: 10 } }));
    expect(await drillCheck({ rolloutId: 'drill-1' }, ctx)).toEqual({ rolloutId: 'drill-1', rolledBack: false });
    await store.recordRollback({ rolloutId: 'drill-1', targetModelId: 'qwen3-4b', reason: 'forced', by: 'alarm-lambda', breachAt: '2026-05-06T10:00:00.000Z', verifiedAt: '2026-05-06T10:01:00.000Z', weights: { currentPercent: 100, candidatePercent: 0 } });
    expect(await drillMeasure({ rolloutId: 'drill-1' }, ctx)).toEqual(expect.objectContaining({ rollbackSeconds: 60, withinBound: true }));
  });
});
