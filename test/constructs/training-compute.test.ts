/**
 * Batch GPU capacity: Spot first (on-demand after it where configured), single-node GPU job
 * definitions that retry only `Host EC2*`, an isolated VPC with the endpoints Batch on EC2 needs, and
 * job roles scoped to the run prefix and the base model prefixes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { loadStageConfig } from '../../config';
import { P5EN_SPOT_TRAINING } from '../../config/governance-defaults';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { ArtifactStore } from '../../lib/constructs/artifact-store';
import { TrainingCompute, type TrainingComputeProps } from '../../lib/constructs/training-compute';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { STAGE_NAMES, bareApp, loopTemplate, resourcesOfType, statementsOfRole, synthesizedStage } from '../helpers/app';

type Resource = { Type: string; Properties: Record<string, unknown> };

function byType(template: Template, type: string): Array<[string, Resource]> {
  return resourcesOfType(template, type) as Array<[string, Resource]>;
}

describe.each(STAGE_NAMES)('training compute of %s', (stage) => {
  const config = loadStageConfig(stage);
  const template = loopTemplate(stage);
  const environments = byType(template, 'AWS::Batch::ComputeEnvironment');
  const spot = environments.find(([id]) => id.startsWith('TrainingComputeSpotEnvironment'));
  const onDemand = environments.find(([id]) => id.startsWith('TrainingComputeOnDemandEnvironment'));
  const jobDefinitions = byType(template, 'AWS::Batch::JobDefinition');
  const train = jobDefinitions.find(([id]) => id.startsWith('TrainingComputeTrainJobDefinition'))!;
  const evaluation = jobDefinitions.find(([id]) => id.startsWith('TrainingComputeEvalJobDefinition'))!;

  test('the Spot environment: managed, SPOT, SPOT_PRICE_CAPACITY_OPTIMIZED, configured instance types, from 0 vCPUs, GPU AMI', () => {
    expect(spot).toBeDefined();
    expect(spot![1].Properties).toMatchObject({
      Type: 'managed',
      State: 'ENABLED',
      ComputeResources: {
        Type: 'SPOT',
        AllocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED',
        InstanceTypes: config.training.instanceTypes,
        MinvCpus: 0,
        MaxvCpus: config.training.maxSpotVcpus,
        Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
      },
    });
    // No bid cap (Batch recommends none) and no "optimal" classes mixed into the GPU types.
    expect((spot![1].Properties.ComputeResources as Record<string, unknown>).BidPercentage).toBeUndefined();
  });

  const fallback = config.training.onDemandFallbackMaxVcpus;
  test(fallback > 0 ? `an on-demand environment (${fallback} vCPUs) comes after Spot in the queue` : 'no on-demand environment: Spot only', () => {
    const queue = byType(template, 'AWS::Batch::JobQueue').filter(([qid]) => qid.startsWith('TrainingCompute'));
    expect(queue).toHaveLength(1);
    const order = queue[0]![1].Properties.ComputeEnvironmentOrder as Array<{ ComputeEnvironment: { 'Fn::GetAtt': [string, string] }; Order: number }>;
    if (fallback > 0) {
      expect(onDemand![1].Properties).toMatchObject({ ComputeResources: { Type: 'EC2', MinvCpus: 0, MaxvCpus: fallback, InstanceTypes: config.training.instanceTypes } });
      expect(order.map((o) => [o.ComputeEnvironment['Fn::GetAtt'][0], o.Order])).toEqual([
        [spot![0], 1],
        [onDemand![0], 2],
      ]);
    } else {
      expect(onDemand).toBeUndefined();
      expect(order.map((o) => [o.ComputeEnvironment['Fn::GetAtt'][0], o.Order])).toEqual([[spot![0], 1]]);
    }
    // A job that can never be placed is cancelled instead of waiting for ever.
    expect(queue[0]![1].Properties.JobStateTimeLimitActions).toEqual([
      { Action: 'CANCEL', MaxTimeSeconds: 86400, Reason: 'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY', State: 'RUNNABLE' },
      { Action: 'CANCEL', MaxTimeSeconds: 600, Reason: 'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT', State: 'RUNNABLE' },
    ]);
  });

  test('training job: one node with the configured GPUs, vCPUs and memory; retries Host EC2* only; per-attempt timeout', () => {
    expect(train[1].Properties).toMatchObject({
      Type: 'container',
      PlatformCapabilities: ['EC2'],
      PropagateTags: true,
      RetryStrategy: {
        Attempts: config.training.attempts,
        EvaluateOnExit: [
          { Action: 'RETRY', OnStatusReason: 'Host EC2*' },
          { Action: 'EXIT', OnStatusReason: '*' },
        ],
      },
      Timeout: { AttemptDurationSeconds: config.training.maxJobHours * 3600 },
      ContainerProperties: {
        Environment: [
          { Name: 'SIAL_MODE', Value: 'train' },
          { Name: 'SIAL_STAGE', Value: stage },
          // The stage's reward policy: GRPO rewards and eval scores apply its generation rules.
          { Name: 'SIAL_REWARD_POLICY', Value: JSON.stringify(readRewardPolicy(config.rewardPolicyVersion)) },
        ],
        LinuxParameters: { SharedMemorySize: 65536, InitProcessEnabled: true },
      },
    });
    const requirements = (train[1].Properties.ContainerProperties as { ResourceRequirements: Array<{ Type: string; Value: string }> }).ResourceRequirements;
    expect(Object.fromEntries(requirements.map((r) => [r.Type, r.Value]))).toEqual({
      GPU: String(config.training.gpusPerJob),
      VCPU: String(config.training.vcpusPerJob),
      MEMORY: String(config.training.memoryMiBPerJob),
    });
  });

  test(`eval job: same shape and retry strategy, its own role and the ${config.training.maxEvalJobHours}-hour attempt timeout the budget check charges`, () => {
    expect(evaluation[1].Properties).toMatchObject({
      RetryStrategy: (train[1].Properties as { RetryStrategy: unknown }).RetryStrategy,
      // The same setting the budget estimate reads (training.maxEvalJobHours): the two cannot disagree.
      Timeout: { AttemptDurationSeconds: config.training.maxEvalJobHours * 3600 },
      ContainerProperties: {
        Environment: [
          { Name: 'SIAL_MODE', Value: 'eval' },
          { Name: 'SIAL_STAGE', Value: stage },
          { Name: 'SIAL_REWARD_POLICY', Value: JSON.stringify(readRewardPolicy(config.rewardPolicyVersion)) },
        ],
      },
    });
    const roleOf = (def: [string, Resource]): { 'Fn::GetAtt': [string, string] } => (def[1].Properties.ContainerProperties as { JobRoleArn: { 'Fn::GetAtt': [string, string] } }).JobRoleArn;
    expect(roleOf(evaluation)).not.toEqual(roleOf(train));
    // The eval job reads the run and the golden sets; base weights are the trainer's business.
    const evalGrants = JSON.stringify(statementsOfRole(template, roleOf(evaluation)['Fn::GetAtt'][0]));
    expect(evalGrants).toContain('/golden-sets/*');
    for (const uri of Object.values(config.training.baseModelUris)) expect(evalGrants).not.toContain(/^s3:\/\/([^/]+)\//.exec(uri)![1]);
  });

  test('the image is the training/ asset, staged for an amd64 build (no Docker at synth)', () => {
    const image = (train[1].Properties.ContainerProperties as { Image: { 'Fn::Sub': string } }).Image['Fn::Sub'];
    const hash = /container-assets-\$\{AWS::AccountId\}-[a-z0-9-]+:([0-9a-f]{64})$/.exec(image)?.[1];
    expect(hash).toBeDefined();
    const { app, loopStack } = synthesizedStage(stage);
    const assembly = app.synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${loopStack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; platform?: string } }>;
    };
    const asset = manifest.dockerImages[hash!]!;
    expect(asset.source.platform).toBe('linux/amd64');
    expect(fs.readdirSync(path.join(assembly.directory, asset.source.directory))).toContain('Dockerfile');
  });

  test('an isolated VPC: no NAT or internet gateway, 3 zones from Fn::GetAZs, the endpoints Batch on EC2 needs, flow logs', () => {
    expect(byType(template, 'AWS::EC2::NatGateway')).toEqual([]);
    expect(byType(template, 'AWS::EC2::InternetGateway')).toEqual([]);
    const zones = byType(template, 'AWS::EC2::Subnet').map(([, s]) => s.Properties.AvailabilityZone);
    expect(zones).toEqual([0, 1, 2].map((i) => ({ 'Fn::Select': [i, { 'Fn::GetAZs': '' }] })));
    const services = byType(template, 'AWS::EC2::VPCEndpoint').map(([, e]) => {
      const name = e.Properties.ServiceName as string | { 'Fn::Join': [string, unknown[]] };
      const text = typeof name === 'string' ? name : name['Fn::Join'][1].filter((p) => typeof p === 'string').join('');
      return `${e.Properties.VpcEndpointType ?? 'Gateway'} ${text.replace(/^com\.amazonaws\.[a-z0-9-]*\.+/, '')}`;
    });
    expect(services.sort()).toEqual(
      ['Gateway s3', 'Interface ecr.api', 'Interface ecr.dkr', 'Interface ecs', 'Interface ecs-agent', 'Interface ecs-telemetry', 'Interface logs', 'Interface sts'].sort(),
    );
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
  });

  test('instances: IMDSv2, an encrypted gp3 root volume, no inbound rule and HTTPS out only', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeType: 'gp3', VolumeSize: 1000, DeleteOnTermination: true } }],
      },
    });
    const groupId = (spot![1].Properties.ComputeResources as { SecurityGroupIds: Array<{ 'Fn::GetAtt': [string, string] }> }).SecurityGroupIds[0]!['Fn::GetAtt'][0];
    const group = template.toJSON().Resources[groupId] as Resource;
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    expect(group.Properties.SecurityGroupEgress).toEqual([
      { CidrIp: '0.0.0.0/0', Description: 'HTTPS to AWS endpoints; the subnets route nowhere else', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
    ]);
  });

  test('the training role reads and writes runs/ in the artifact bucket and only reads the base model prefixes', () => {
    const roleId = (train[1].Properties.ContainerProperties as { JobRoleArn: { 'Fn::GetAtt': [string, string] } }).JobRoleArn['Fn::GetAtt'][0];
    const statements = statementsOfRole(template, roleId);
    const s3Statements = statements.filter((s) => JSON.stringify(s.Action).includes('s3:'));
    const rendered = JSON.stringify(s3Statements);
    expect(rendered).toContain('/runs/*');
    expect(rendered).not.toContain('s3:DeleteObject');
    for (const uri of Object.values(config.training.baseModelUris)) {
      const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
      const reads = s3Statements.filter((st) => st.Action === 's3:GetObject').flatMap((st) => ([] as unknown[]).concat(st.Resource));
      expect(reads).toContain(`arn:aws:s3:::${bucket}/${key}*`);
      expect(s3Statements).toContainEqual({
        Action: 's3:ListBucket',
        Effect: 'Allow',
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: { StringLike: { 's3:prefix': expect.arrayContaining([`${key}*`]) } },
      });
    }
    // Nothing of the lake: training sees datasets, never the trace tables.
    expect(JSON.stringify(statements)).not.toContain(PINNED_LOGICAL_IDS.lakeBucket);
  });
});

describe('TrainingCompute on its own', () => {
  function props(stack: Stack, overrides: Partial<TrainingComputeProps['training']> = {}, extra: Partial<TrainingComputeProps> = {}): TrainingComputeProps {
    const artifacts = new ArtifactStore(stack, 'Artifacts', { key: new kms.Key(stack, 'Key'), accessLogBucket: new s3.Bucket(stack, 'Logs'), production: false });
    return {
      stage: 't',
      training: { ...P5EN_SPOT_TRAINING, baseModelUris: { m: 's3://models-bucket/base/m/' }, ...overrides },
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/amazonlinux/amazonlinux:2023'),
      artifacts,
      ...extra,
    };
  }
  const stack = (): Stack => new Stack(bareApp(), 'S', { env: { region: 'eu-central-1' } });

  test('an existing network is imported without lookups and no VPC, endpoint or flow log is created', () => {
    const s = stack();
    new TrainingCompute(s, 'Compute', props(s, {}, { network: { vpcId: 'vpc-0abc', availabilityZones: ['eu-central-1a', 'eu-central-1b'], privateSubnetIds: ['subnet-01', 'subnet-02'] } }));
    const template = Template.fromStack(s);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 0);
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', { ComputeResources: { Subnets: ['subnet-01', 'subnet-02'] } });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0abc' });
  });

  test('refuses a job that no instance or environment could hold, naming both sides', () => {
    expect(() => new TrainingCompute(stack(), 'C', props(new Stack(bareApp(), 'X'), { gpusPerJob: 8, instanceTypes: ['g6e.12xlarge'] }))).toThrow(
      'TrainingCompute: gpusPerJob is 8 but g6e.12xlarge has 4 GPUs; a single-node job must fit one instance',
    );
    const s = stack();
    expect(() => new TrainingCompute(s, 'C', props(s, { vcpusPerJob: 192, maxSpotVcpus: 96 }))).toThrow(
      'TrainingCompute: vcpusPerJob 192 exceeds maxSpotVcpus 96; the Spot environment could never place the job',
    );
    const s2 = stack();
    expect(() => new TrainingCompute(s2, 'C', props(s2, { onDemandFallbackMaxVcpus: 96 }))).toThrow('exceeds onDemandFallbackMaxVcpus 96');
    const s3s = stack();
    expect(() => new TrainingCompute(s3s, 'C', props(s3s, { instanceTypes: ['m7i.48xlarge'] }))).toThrow('instance type "m7i.48xlarge" is not a known GPU type');
  });

  test('takes the eval attempt timeout from training.maxEvalJobHours, and refuses one Batch cannot enforce', () => {
    const s = stack();
    new TrainingCompute(s, 'Compute', props(s, { maxEvalJobHours: 0.5 }));
    Template.fromStack(s).hasResourceProperties('AWS::Batch::JobDefinition', { ContainerProperties: { Environment: [{ Name: 'SIAL_MODE', Value: 'eval' }, { Name: 'SIAL_STAGE', Value: 't' }] }, Timeout: { AttemptDurationSeconds: 1800 } });
    const s2 = stack();
    expect(() => new TrainingCompute(s2, 'C', props(s2, { maxEvalJobHours: 0.01 }))).toThrow(
      'TrainingCompute: training.maxEvalJobHours is 0.01; Batch needs an attempt timeout of at least 60 seconds',
    );
  });

  test('refuses a network whose zones and subnets do not pair up', () => {
    const s = stack();
    expect(() => new TrainingCompute(s, 'C', props(s, {}, { network: { vpcId: 'vpc-0abc', availabilityZones: ['eu-central-1a'], privateSubnetIds: ['subnet-01', 'subnet-02'] } }))).toThrow(
      'network has 1 availability zones and 2 subnets',
    );
  });
});
