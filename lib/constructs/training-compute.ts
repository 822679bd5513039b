/**
 * GPU capacity for the training pipeline: the network, a managed EC2 Spot compute environment (and an
 * optional on-demand one after it), the job queue, and the training and eval job definitions with
 * their roles. Single node only: AWS Batch multi-node parallel jobs cannot run on Spot.
 */
import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { TrainingConfig } from '../../config/schema';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import type { ArtifactStore } from './artifact-store';
import { acknowledgeWildcardResourceToken } from './private/acknowledge';

/** An existing network to run the compute environments in (no lookups: every id is given). */
export interface ExistingTrainingNetwork {
  readonly vpcId: string;
  readonly availabilityZones: readonly string[];
  /** Private subnets, one per availability zone, in the same order. They must reach S3, ECR, ECS, CloudWatch Logs and STS. */
  readonly privateSubnetIds: readonly string[];
}

/** Properties of {@link TrainingCompute}. */
export interface TrainingComputeProps {
  /** Stage name, used in descriptions. */
  readonly stage: string;
  /** Capacity, job shape and retry settings of the stage (`config.training`). */
  readonly training: Pick<
    TrainingConfig,
    | 'instanceTypes'
    | 'gpusPerJob'
    | 'vcpusPerJob'
    | 'memoryMiBPerJob'
    | 'maxSpotVcpus'
    | 'onDemandFallbackMaxVcpus'
    | 'maxJobHours'
    | 'maxEvalJobHours'
    | 'attempts'
    | 'baseModelUris'
  >;
  /** The trainer image (built from training/ as an asset, or an existing image). */
  readonly image: ecs.ContainerImage;
  /** Where datasets are read and runs are written (`runs/<runId>/`). */
  readonly artifacts: ArtifactStore;

  /**
   * The stage's reward policy, given to both jobs as SIAL_REWARD_POLICY (JSON): the GRPO reward and the
   * evaluator's scores apply its `generation` rules.
   *
   * @default - none: GRPO and eval jobs then stop with exit 64 naming the missing variable
   */
  readonly rewardPolicy?: RewardPolicy;

  /**
   * Run in this network instead of creating an isolated VPC.
   *
   * @default - a new VPC without internet access, with the VPC endpoints Batch on EC2 needs
   */
  readonly network?: ExistingTrainingNetwork;

  /**
   * Availability zones of the created VPC (ignored with {@link network}). More zones, more Spot pools.
   *
   * @default 3
   */
  readonly maxAzs?: number;

  /**
   * Root volume of each instance: the image, the base weights and the checkpoints being written.
   *
   * @default Size.gibibytes(1000)
   */
  readonly rootVolumeSize?: Size;

  /**
   * Shared memory of the container (PyTorch data loaders and NCCL use /dev/shm).
   *
   * @default Size.gibibytes(64)
   */
  readonly sharedMemorySize?: Size;

  /**
   * How long a job may wait RUNNABLE for capacity before Batch cancels it (the pipeline then fails
   * cleanly and records the GPU-hours, usually none).
   *
   * @default Duration.hours(24)
   */
  readonly maxCapacityWait?: Duration;

  /**
   * Retention of the job and flow log groups.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log groups when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** GPUs per instance of the types the pipeline accepts (GPU counts are what the job definition reserves). */
export const GPUS_PER_INSTANCE: Readonly<Record<string, number>> = {
  'p5en.48xlarge': 8,
  'p5e.48xlarge': 8,
  'p5.48xlarge': 8,
  'p5.4xlarge': 1,
  'p4de.24xlarge': 8,
  'p4d.24xlarge': 8,
  'p6-b200.48xlarge': 8,
  'g6e.48xlarge': 8,
  'g6e.24xlarge': 4,
  'g6e.12xlarge': 4,
  'g6e.xlarge': 1,
  'g6.48xlarge': 8,
  'g6.12xlarge': 4,
  'g6.xlarge': 1,
  'g5.48xlarge': 8,
  'g5.12xlarge': 4,
  'g5.xlarge': 1,
};

/** Batch statusReason of a job whose instance was reclaimed (Spot) or lost: retried, resuming from checkpoints. */
export const HOST_EC2_STATUS_REASON = 'Host EC2*';

/**
 * Batch on EC2 with a GPU AMI (ECS AL2023 NVIDIA), Spot first with SPOT_PRICE_CAPACITY_OPTIMIZED,
 * scaled from zero. The job definitions retry only `Host EC2*` (Spot reclaims, lost hosts) and exit on
 * anything else, so an application error never burns a second node-hour; the trainer resumes from
 * the newest checkpoint on each attempt (`AWS_BATCH_JOB_ATTEMPT`).
 */
export class TrainingCompute extends Construct {
  /** The network the instances run in. */
  public readonly vpc: ec2.IVpc;
  /** The subnets the instances run in. */
  public readonly subnets: ec2.SubnetSelection;
  /** Security group of the instances: no inbound rule, HTTPS out only. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** Flow log of the created VPC (none for an existing network). */
  public readonly flowLog?: ec2.FlowLog;
  /** Root volume size and IMDSv2 for every instance. */
  public readonly launchTemplate: ec2.LaunchTemplate;
  /** The Spot environment (first in the queue). */
  public readonly spotEnvironment: batch.ManagedEc2EcsComputeEnvironment;
  /** The on-demand fallback, when `onDemandFallbackMaxVcpus` > 0 (second in the queue). */
  public readonly onDemandEnvironment?: batch.ManagedEc2EcsComputeEnvironment;
  /** The queue both job definitions are submitted to. */
  public readonly jobQueue: batch.JobQueue;
  /** The training job (SIAL_MODE=train). */
  public readonly trainJobDefinition: batch.EcsJobDefinition;
  /** The eval job (SIAL_MODE=eval). */
  public readonly evalJobDefinition: batch.EcsJobDefinition;
  /** Role of the training container: reads datasets and base weights, writes the run's outputs. */
  public readonly trainJobRole: iam.Role;
  /** Role of the eval container: reads the run and the golden sets, writes the run's eval output. */
  public readonly evalJobRole: iam.Role;
  /** Role ECS uses to pull the image and ship logs. */
  public readonly executionRole: iam.Role;
  /** Container logs of both jobs. */
  public readonly jobLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TrainingComputeProps) {
    super(scope, id);
    validate(props);
    const { training } = props;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;

    if (props.network === undefined) {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: props.maxAzs ?? 3,
        natGateways: 0,
        // Isolated: the trainer needs no internet; base weights, datasets and images come through endpoints.
        subnetConfiguration: [{ name: 'training', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
        restrictDefaultSecurityGroup: true,
      });
      this.vpc = vpc;
      this.subnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
      const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
      this.flowLog = vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
      vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [this.subnets] });
      const interfaceEndpoints: Array<[string, ec2.InterfaceVpcEndpointAwsService]> = [
        ['EcrApi', ec2.InterfaceVpcEndpointAwsService.ECR],
        ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
        ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
        ['Ecs', ec2.InterfaceVpcEndpointAwsService.ECS],
        ['EcsAgent', ec2.InterfaceVpcEndpointAwsService.ECS_AGENT],
        ['EcsTelemetry', ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY],
        ['Sts', ec2.InterfaceVpcEndpointAwsService.STS],
      ];
      for (const [endpointId, service] of interfaceEndpoints) {
        // `open` (the default) admits HTTPS from the VPC's CIDR only.
        const endpoint = vpc.addInterfaceEndpoint(endpointId, { service, subnets: this.subnets, privateDnsEnabled: true });
        Validations.of(endpoint).acknowledge({
          id: 'AwsSolutions-EC23',
          reason: "The endpoint's security group admits TCP 443 from the VPC's own CIDR block only; cdk-nag cannot evaluate the CIDR because it is a reference (Fn::GetAtt Vpc.CidrBlock).",
        });
      }
    } else {
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: props.network.vpcId,
        availabilityZones: [...props.network.availabilityZones],
        privateSubnetIds: [...props.network.privateSubnetIds],
      });
      this.subnets = { subnets: this.vpc.privateSubnets };
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: this.vpc,
      description: `Batch GPU instances of ${props.stage}: no inbound, HTTPS out (S3, ECR, ECS, Logs, STS)`,
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS endpoints; the subnets route nowhere else');

    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      requireImdsv2: true,
      // Containers reach the instance metadata through one extra hop (the docker bridge).
      httpPutResponseHopLimit: 2,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs((props.rootVolumeSize ?? Size.gibibytes(1000)).toGibibytes(), {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    const instanceTypes = training.instanceTypes.map((t) => new ec2.InstanceType(t));
    const environmentProps = {
      vpc: this.vpc,
      vpcSubnets: this.subnets,
      securityGroups: [this.securityGroup],
      instanceTypes,
      useOptimalInstanceClasses: false,
      // The ECS-optimized Amazon Linux 2023 NVIDIA AMI: drivers, the container toolkit and the ECS GPU agent.
      images: [{ imageType: batch.EcsMachineImageType.ECS_AL2023_NVIDIA }],
      launchTemplate: this.launchTemplate,
      minvCpus: 0,
    };
    this.spotEnvironment = new batch.ManagedEc2EcsComputeEnvironment(this, 'SpotEnvironment', {
      ...environmentProps,
      spot: true,
      allocationStrategy: batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED,
      maxvCpus: training.maxSpotVcpus,
    });
    if (training.onDemandFallbackMaxVcpus > 0) {
      this.onDemandEnvironment = new batch.ManagedEc2EcsComputeEnvironment(this, 'OnDemandEnvironment', {
        ...environmentProps,
        spot: false,
        allocationStrategy: batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
        maxvCpus: training.onDemandFallbackMaxVcpus,
      });
    }
    for (const environment of [this.spotEnvironment, this.onDemandEnvironment]) {
      if (environment === undefined) continue;
      Validations.of(environment).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]',
        reason:
          'The Batch instance role needs the ECS container-instance policy (register with the cluster, pull images, ship logs); AWS maintains it as the ECS agent evolves. Job code runs under its own job role, not this one.',
      });
    }

    const maxCapacityWait = props.maxCapacityWait ?? Duration.hours(24);
    this.jobQueue = new batch.JobQueue(this, 'JobQueue', {
      priority: 1,
      computeEnvironments: [
        { computeEnvironment: this.spotEnvironment, order: 1 },
        ...(this.onDemandEnvironment === undefined ? [] : [{ computeEnvironment: this.onDemandEnvironment, order: 2 }]),
      ],
      // A job that can never be placed (no capacity, or a shape no environment fits) is cancelled instead
      // of waiting for ever; the state machine then reports the failure.
      jobStateTimeLimitActions: [
        {
          action: batch.JobStateTimeLimitActionsAction.CANCEL,
          maxTime: maxCapacityWait,
          reason: batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY,
          state: batch.JobStateTimeLimitActionsState.RUNNABLE,
        },
        {
          action: batch.JobStateTimeLimitActionsAction.CANCEL,
          maxTime: Duration.minutes(10),
          reason: batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT,
          state: batch.JobStateTimeLimitActionsState.RUNNABLE,
        },
      ],
    });

    this.jobLogGroup = new logs.LogGroup(this, 'JobLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Pulls the ${props.stage} trainer image and writes its logs`,
    });
    Validations.of(this.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Only ecr:GetAuthorizationToken is on *: it has no resource-level permissions. Image layer pulls are granted on the one repository the image lives in.',
    });

    this.trainJobRole = new iam.Role(this, 'TrainJobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Training container of ${props.stage}: reads datasets and base weights, writes runs/`,
    });
    props.artifacts.grantRead(this.trainJobRole, props.artifacts.runsPrefix);
    props.artifacts.grantWrite(this.trainJobRole, props.artifacts.runsPrefix);
    grantBaseModelRead(this.trainJobRole, training.baseModelUris);

    this.evalJobRole = new iam.Role(this, 'EvalJobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Eval container of ${props.stage}: reads the run and golden sets, writes the run's eval output`,
    });
    props.artifacts.grantRead(this.evalJobRole, props.artifacts.runsPrefix);
    props.artifacts.grantRead(this.evalJobRole, props.artifacts.goldenSetsPrefix);
    props.artifacts.grantWrite(this.evalJobRole, props.artifacts.runsPrefix);

    const retryStrategies = [
      batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onStatusReason: HOST_EC2_STATUS_REASON })),
      batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onStatusReason: '*' })),
    ];
    const container = (containerId: string, jobRole: iam.Role, mode: 'train' | 'eval'): batch.EcsEc2ContainerDefinition =>
      new batch.EcsEc2ContainerDefinition(this, containerId, {
        image: props.image,
        cpu: training.vcpusPerJob,
        memory: Size.mebibytes(training.memoryMiBPerJob),
        gpu: training.gpusPerJob,
        jobRole,
        executionRole: this.executionRole,
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.jobLogGroup, streamPrefix: mode }),
        linuxParameters: new batch.LinuxParameters(this, `${containerId}Linux`, {
          sharedMemorySize: props.sharedMemorySize ?? Size.gibibytes(64),
          initProcessEnabled: true,
        }),
        // The state machine adds the run's URIs; the mode makes a job definition's purpose unambiguous.
        environment: {
          SIAL_MODE: mode,
          SIAL_STAGE: props.stage,
          ...(props.rewardPolicy === undefined ? {} : { SIAL_REWARD_POLICY: JSON.stringify(props.rewardPolicy) }),
        },
      });

    this.trainJobDefinition = new batch.EcsJobDefinition(this, 'TrainJobDefinition', {
      container: container('TrainContainer', this.trainJobRole, 'train'),
      retryAttempts: training.attempts,
      retryStrategies,
      // The per-attempt ceiling; each submission shortens it to what the GPU budget still allows.
      timeout: Duration.hours(training.maxJobHours),
      propagateTags: true,
    });
    this.evalJobDefinition = new batch.EcsJobDefinition(this, 'EvalJobDefinition', {
      container: container('EvalContainer', this.evalJobRole, 'eval'),
      retryAttempts: training.attempts,
      retryStrategies,
      // Golden-set inference and scoring. The budget check charges this same bound for the eval job
      // (training.maxEvalJobHours x gpusPerJob), so it is config, never a construct-only override.
      timeout: Duration.hours(training.maxEvalJobHours),
      propagateTags: true,
    });
  }
}

/** Read access to each base model's S3 prefix (buckets outside this stack: ARNs from the configured URIs). */
function grantBaseModelRead(role: iam.Role, baseModelUris: Readonly<Record<string, string>>): void {
  const parsed = Object.values(baseModelUris).map(parseS3Uri);
  const buckets = [...new Set(parsed.map((p) => p.bucket))].sort();
  const partition = Stack.of(role).partition;
  const objectArns = [...new Set(parsed.map((p) => `arn:${partition}:s3:::${p.bucket}/${p.key}*`))].sort();
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: objectArns }));
  for (const arn of objectArns) {
    acknowledgeWildcardResourceToken(role, arn, 'Read-only on one base model prefix from training.baseModelUris: the weights are many files (shards, tokenizer, config) under it.');
  }
  for (const bucket of buckets) {
    const prefixes = parsed.filter((p) => p.bucket === bucket).map((p) => `${p.key}*`);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [`arn:${partition}:s3:::${bucket}`],
        conditions: { StringLike: { 's3:prefix': [...new Set(prefixes)].sort() } },
      }),
    );
  }
}

/** Bucket and key of an `s3://bucket/key` URI (the config schema guarantees the shape). */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (match === null) throw new Error(`TrainingCompute: base model URI "${uri}" is invalid; expected s3://bucket/prefix/`);
  return { bucket: match[1]!, key: match[2]! };
}

function validate(props: TrainingComputeProps): void {
  const t = props.training;
  if (t.instanceTypes.length === 0) throw new Error('TrainingCompute: training.instanceTypes is empty; expected at least one GPU instance type');
  for (const type of t.instanceTypes) {
    const gpus = GPUS_PER_INSTANCE[type];
    if (gpus === undefined) {
      throw new Error(`TrainingCompute: instance type "${type}" is not a known GPU type; expected one of ${Object.keys(GPUS_PER_INSTANCE).join(', ')}`);
    }
    if (t.gpusPerJob > gpus) {
      throw new Error(`TrainingCompute: gpusPerJob is ${t.gpusPerJob} but ${type} has ${gpus} GPUs; a single-node job must fit one instance`);
    }
  }
  for (const [name, value] of [
    ['gpusPerJob', t.gpusPerJob],
    ['vcpusPerJob', t.vcpusPerJob],
    ['memoryMiBPerJob', t.memoryMiBPerJob],
    ['maxSpotVcpus', t.maxSpotVcpus],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`TrainingCompute: training.${name} is ${value}; expected a positive whole number`);
  }
  if (t.vcpusPerJob > t.maxSpotVcpus) {
    throw new Error(`TrainingCompute: vcpusPerJob ${t.vcpusPerJob} exceeds maxSpotVcpus ${t.maxSpotVcpus}; the Spot environment could never place the job`);
  }
  if (t.onDemandFallbackMaxVcpus > 0 && t.vcpusPerJob > t.onDemandFallbackMaxVcpus) {
    throw new Error(
      `TrainingCompute: vcpusPerJob ${t.vcpusPerJob} exceeds onDemandFallbackMaxVcpus ${t.onDemandFallbackMaxVcpus}; the fallback could never place the job (use 0 for no fallback)`,
    );
  }
  if (!Number.isInteger(t.attempts) || t.attempts < 1 || t.attempts > 10) {
    throw new Error(`TrainingCompute: training.attempts is ${t.attempts}; Batch allows 1 to 10 attempts`);
  }
  for (const [name, hours] of [
    ['maxJobHours', t.maxJobHours],
    ['maxEvalJobHours', t.maxEvalJobHours],
  ] as const) {
    if (!(hours > 0) || hours * 3600 < 60) throw new Error(`TrainingCompute: training.${name} is ${hours}; Batch needs an attempt timeout of at least 60 seconds`);
  }
  if (Object.keys(t.baseModelUris).length === 0) throw new Error('TrainingCompute: training.baseModelUris is empty; expected the base weights of every target model');
  for (const uri of Object.values(t.baseModelUris)) parseS3Uri(uri);
  if (props.network !== undefined && props.network.availabilityZones.length !== props.network.privateSubnetIds.length) {
    throw new Error(
      `TrainingCompute: network has ${props.network.availabilityZones.length} availability zones and ${props.network.privateSubnetIds.length} subnets; expected one private subnet per zone, in the same order`,
    );
  }
  if (props.maxAzs !== undefined && (!Number.isInteger(props.maxAzs) || props.maxAzs < 1)) {
    throw new Error(`TrainingCompute: maxAzs is ${props.maxAzs}; expected a positive whole number`);
  }
}
