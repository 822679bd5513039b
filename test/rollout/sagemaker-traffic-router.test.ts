import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  UpdateModelPackageCommand,
  type DescribeEndpointOutput,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { SageMakerModelRegistry } from '../../lambdas/pipeline/aws/sagemaker-model-registry';
import { SageMakerTrafficRouter } from '../../lambdas/rollout/aws/sagemaker-traffic-router';
import { TrafficTargetBusy, WeightsNotApplied } from '../../lambdas/rollout/errors';
import { endpointConfigNameFor, modelNameFor } from '../../lambdas/rollout/sagemaker/variants';
import { packageArn, sageMakerPlan } from './helpers';

const sagemaker = mockClient(SageMakerClient);
const client = new SageMakerClient({ region: 'us-east-1' });
const plan = sageMakerPlan();
const ENDPOINT = 'sial-dev-qwen3-4b';
const ROLE = 'arn:aws:iam::123456789012:role/sial-dev-sagemaker-execution';

function endpoint(status: DescribeEndpointOutput['EndpointStatus'], variants: NonNullable<DescribeEndpointOutput['ProductionVariants']>, extra: Partial<DescribeEndpointOutput> = {}): DescribeEndpointOutput {
  return {
    EndpointName: ENDPOINT,
    EndpointArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${ENDPOINT}`,
    EndpointConfigName: 'serving-config-1',
    EndpointStatus: status,
    ProductionVariants: variants,
    CreationTime: new Date(),
    LastModifiedTime: new Date(),
    ...extra,
  };
}

function validation(message: string): Error {
  return Object.assign(new Error(message), { name: 'ValidationException' });
}

beforeEach(() => sagemaker.reset());

describe('SageMakerTrafficRouter weights', () => {
  const router = new SageMakerTrafficRouter(client);

  it('reads what serves from CurrentWeight', async () => {
    sagemaker.on(DescribeEndpointCommand, { EndpointName: ENDPOINT }).resolves(endpoint('InService', [
      { VariantName: 'AllTraffic', CurrentWeight: 90, DesiredWeight: 90 },
      { VariantName: 'qwen3-4b-v4', CurrentWeight: 10, DesiredWeight: 10 },
    ]));
    expect(await router.readWeights(plan.target, plan)).toEqual({ currentPercent: 90, candidatePercent: 10 });
  });

  it('reports a weight that has not taken (Updating, DesiredWeight not yet CurrentWeight) as the old split', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('Updating', [
      { VariantName: 'AllTraffic', CurrentWeight: 1, DesiredWeight: 90 },
      { VariantName: 'qwen3-4b-v4', CurrentWeight: 0, DesiredWeight: 10 },
    ]));
    expect(await router.readWeights(plan.target, plan)).toEqual({ currentPercent: 100, candidatePercent: 0 });
  });

  it('refuses a split with a third serving variant as WeightsNotApplied', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', [{ VariantName: 'AllTraffic', CurrentWeight: 1 }, { VariantName: 'other', CurrentWeight: 1 }]));
    await expect(router.readWeights(plan.target, plan)).rejects.toBeInstanceOf(WeightsNotApplied);
  });

  it('sets DesiredWeight per variant: current = plan.current.servingName, candidate = plan.candidate.servingName', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', [
      { VariantName: 'AllTraffic', CurrentWeight: 1, DesiredWeight: 1 },
      { VariantName: 'qwen3-4b-v4', CurrentWeight: 0, DesiredWeight: 0 },
    ]));
    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({ EndpointArn: 'arn' });
    await router.setWeights(plan.target, plan, { currentPercent: 50, candidatePercent: 50 });
    expect(sagemaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)[0]!.args[0].input).toEqual({
      EndpointName: ENDPOINT,
      DesiredWeightsAndCapacities: [
        { VariantName: 'AllTraffic', DesiredWeight: 50 },
        { VariantName: 'qwen3-4b-v4', DesiredWeight: 50 },
      ],
    });
  });

  it('makes no call when the endpoint already serves the split', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', [{ VariantName: 'AllTraffic', CurrentWeight: 1, DesiredWeight: 1 }, { VariantName: 'qwen3-4b-v4', CurrentWeight: 0, DesiredWeight: 0 }]));
    await router.setWeights(plan.target, plan, { currentPercent: 100, candidatePercent: 0 });
    expect(sagemaker.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)).toHaveLength(0);
  });

  it('is busy while the endpoint updates, and when SageMaker refuses an in-progress update', async () => {
    sagemaker.on(DescribeEndpointCommand).resolvesOnce(endpoint('Updating', [{ VariantName: 'AllTraffic', CurrentWeight: 1 }]));
    await expect(router.setWeights(plan.target, plan, { currentPercent: 100, candidatePercent: 0 })).rejects.toBeInstanceOf(TrafficTargetBusy);
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', [{ VariantName: 'AllTraffic', CurrentWeight: 1 }, { VariantName: 'qwen3-4b-v4', CurrentWeight: 0 }]));
    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(validation(`Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/${ENDPOINT}".`));
    await expect(router.setWeights(plan.target, plan, { currentPercent: 90, candidatePercent: 10 })).rejects.toBeInstanceOf(TrafficTargetBusy);
    sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(validation('The variant(s) "[nope]" are not present'));
    await expect(router.setWeights(plan.target, plan, { currentPercent: 90, candidatePercent: 10 })).rejects.toThrow('are not present');
  });
});

describe('SageMakerTrafficRouter.deployCandidateVariant', () => {
  const router = new SageMakerTrafficRouter(client, { executionRoleArn: ROLE });
  const configName = endpointConfigNameFor(ENDPOINT, plan.rolloutId);
  const modelName = modelNameFor(plan.targetModelId, 4, packageArn(4));

  it('creates the model from the package, a configuration with the live variants plus the candidate at 0, and updates the endpoint', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', [
      { VariantName: 'AllTraffic', CurrentWeight: 1, CurrentInstanceCount: 2 },
      { VariantName: 'qwen3-4b-v2', CurrentWeight: 0, CurrentInstanceCount: 1 },
    ]));
    sagemaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: 'serving-config-1' }).resolves({
      EndpointConfigName: 'serving-config-1',
      EndpointConfigArn: 'arn:config',
      CreationTime: new Date(),
      KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/abc',
      DataCaptureConfig: { InitialSamplingPercentage: 5, DestinationS3Uri: 's3://capture/', CaptureOptions: [{ CaptureMode: 'Input' }] },
      ProductionVariants: [
        { VariantName: 'AllTraffic', ModelName: 'serving-model-v3', InstanceType: 'ml.g6e.2xlarge', InitialInstanceCount: 1, InitialVariantWeight: 1, ContainerStartupHealthCheckTimeoutInSeconds: 900 },
        { VariantName: 'qwen3-4b-v2', ModelName: 'old', InstanceType: 'ml.g6e.2xlarge', InitialInstanceCount: 1, InitialVariantWeight: 0 },
      ],
    });
    sagemaker.on(CreateModelCommand).resolves({ ModelArn: 'arn:model' });
    sagemaker.on(CreateEndpointConfigCommand).resolves({ EndpointConfigArn: 'arn:new-config' });
    sagemaker.on(UpdateEndpointCommand).resolves({ EndpointArn: 'arn:endpoint' });

    expect(await router.deployCandidateVariant(plan)).toEqual({ endpointName: ENDPOINT, variantName: 'qwen3-4b-v4', modelName, endpointConfigName: configName, status: 'updating' });
    expect(sagemaker.commandCalls(CreateModelCommand)[0]!.args[0].input).toEqual({
      ModelName: modelName,
      ExecutionRoleArn: ROLE,
      PrimaryContainer: { ModelPackageName: packageArn(4) },
      Tags: [{ Key: 'sial:targetModelId', Value: 'qwen3-4b' }],
    });
    const created = sagemaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input;
    expect(created.EndpointConfigName).toBe(configName);
    expect(created.KmsKeyId).toBe('arn:aws:kms:us-east-1:123456789012:key/abc');
    expect(created.DataCaptureConfig?.InitialSamplingPercentage).toBe(5);
    expect(created.ProductionVariants).toEqual([
      { VariantName: 'AllTraffic', ModelName: 'serving-model-v3', InstanceType: 'ml.g6e.2xlarge', InitialInstanceCount: 2, InitialVariantWeight: 1, ContainerStartupHealthCheckTimeoutInSeconds: 900 },
      { VariantName: 'qwen3-4b-v4', ModelName: modelName, InstanceType: 'ml.g6e.2xlarge', InitialInstanceCount: 1, InitialVariantWeight: 0, ContainerStartupHealthCheckTimeoutInSeconds: 900 },
    ]);
    expect(sagemaker.commandCalls(UpdateEndpointCommand)[0]!.args[0].input).toEqual({ EndpointName: ENDPOINT, EndpointConfigName: configName, RetainAllVariantProperties: false });
  });

  it('finds its own work on a retry: existing model and configuration, or the update already under way', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', [{ VariantName: 'AllTraffic', CurrentWeight: 1 }]));
    sagemaker.on(DescribeEndpointConfigCommand).resolves({ EndpointConfigName: 'serving-config-1', EndpointConfigArn: 'a', CreationTime: new Date(), ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'm', InstanceType: 'ml.g6e.2xlarge', InitialInstanceCount: 1 }] });
    sagemaker.on(CreateModelCommand).rejects(validation(`Cannot create already existing model "arn:aws:sagemaker:us-east-1:123456789012:model/${modelName}".`));
    sagemaker.on(CreateEndpointConfigCommand).rejects(validation('Cannot create already existing endpoint configuration'));
    sagemaker.on(UpdateEndpointCommand).resolves({});
    expect((await router.deployCandidateVariant(plan)).status).toBe('updating');

    sagemaker.reset();
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('Updating', [{ VariantName: 'AllTraffic', CurrentWeight: 1 }], { PendingDeploymentSummary: { EndpointConfigName: configName } }));
    expect((await router.deployCandidateVariant(plan)).status).toBe('updating');
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);

    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', [{ VariantName: 'AllTraffic', CurrentWeight: 1 }, { VariantName: 'qwen3-4b-v4', CurrentWeight: 0 }]));
    expect((await router.deployCandidateVariant(plan)).status).toBe('in-place');
  });

  it('waits out an endpoint updating for another reason, and needs the execution role', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('Updating', [{ VariantName: 'AllTraffic', CurrentWeight: 1 }], { PendingDeploymentSummary: { EndpointConfigName: 'someone-else' } }));
    await expect(router.deployCandidateVariant(plan)).rejects.toBeInstanceOf(TrafficTargetBusy);
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', [{ VariantName: 'AllTraffic', CurrentWeight: 1 }]));
    await expect(new SageMakerTrafficRouter(client).deployCandidateVariant(plan)).rejects.toThrow('SAGEMAKER_EXECUTION_ROLE_ARN');
  });

  it('reports the endpoint status for the wait loop', async () => {
    sagemaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(endpoint('Updating', [{ VariantName: 'AllTraffic', CurrentWeight: 1 }]))
      .resolvesOnce(endpoint('InService', [{ VariantName: 'AllTraffic', CurrentWeight: 1 }, { VariantName: 'qwen3-4b-v4', CurrentWeight: 0 }]))
      .resolvesOnce(endpoint('InService', [{ VariantName: 'AllTraffic', CurrentWeight: 1 }], { FailureReason: 'health check failed' }))
      .resolvesOnce(endpoint('Failed', []));
    expect(await router.endpointStatus(plan)).toEqual({ endpointName: ENDPOINT, status: 'Updating', inService: false, failed: false, candidateDeployed: false });
    expect(await router.endpointStatus(plan)).toEqual(expect.objectContaining({ status: 'InService', inService: true, failed: false, candidateDeployed: true }));
    expect(await router.endpointStatus(plan)).toEqual(expect.objectContaining({ inService: false, failed: true, failureReason: 'health check failed' }));
    expect((await router.endpointStatus(plan)).failed).toBe(true);
  });
});

describe('SageMakerModelRegistry.setApprovalStatus', () => {
  it('sets the status with UpdateModelPackage and says who decided', async () => {
    sagemaker.on(UpdateModelPackageCommand).resolves({ ModelPackageArn: packageArn(4) });
    await new SageMakerModelRegistry(client).setApprovalStatus(packageArn(4), 'Approved', 'canary rollout rollout-1');
    expect(sagemaker.commandCalls(UpdateModelPackageCommand)[0]!.args[0].input).toEqual({
      ModelPackageArn: packageArn(4),
      ModelApprovalStatus: 'Approved',
      ApprovalDescription: 'Approved by canary rollout rollout-1',
    });
  });
});
