/**
 * CPU capacity for the router classifier (Phase 1): a Fargate compute environment in the training
 * network, its own job queue, and the router image's `train` job definition with its role. No GPU, no
 * Spot: a router trains in minutes on a couple of vCPUs, and Fargate bills exactly the vCPU-seconds the
 * pipeline records. The same image serves the router on SageMaker (`serve`), so its URI is what router
 * model packages name.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FARGATE_MEMORY_MIB, type RouterTargetModel } from '../../config/schema';
import type { ArtifactStore } from './artifact-store';

/** Properties of {@link RouterTrainingCompute}. */
export interface RouterTrainingComputeProps {
  /** Stage name, used in descriptions. */
  readonly stage: string;
  /** The stage's router targets: the job definition is sized for the largest; each run overrides its own size. */
  readonly routers: readonly RouterTargetModel[];
  /** The training network (TrainingCompute's): Fargate tasks reach S3, ECR and Logs through its endpoints. */
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Where datasets are read and runs are written. */
  readonly artifacts: ArtifactStore;
  /**
   * Folder holding `router.Dockerfile` (the build context).
   *
   * @default the repository's training/ folder
   */
  readonly imageDirectory?: string;
  /**
   * Retention of the job log group.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** Batch status reasons of a lost Fargate task (capacity reclaimed, host problems): retried; the job itself is idempotent. */
export const FARGATE_RETRY_STATUS_REASON = 'ResourceInitializationError*';

export class RouterTrainingCompute extends Construct {
  /** The router image, built from router.Dockerfile: trains on Batch, serves on SageMaker. */
  public readonly image: ecrAssets.DockerImageAsset;
  /** Security group of the Fargate tasks: no inbound rule, HTTPS out only. */
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly computeEnvironment: batch.FargateComputeEnvironment;
  public readonly jobQueue: batch.JobQueue;
  public readonly jobDefinition: batch.EcsJobDefinition;
  /** Role of the router container: reads datasets, golden sets and earlier runs' models, writes runs/. */
  public readonly jobRole: iam.Role;
  /** Role ECS uses to pull the image and ship logs. */
  public readonly executionRole: iam.Role;
  public readonly jobLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RouterTrainingComputeProps) {
    super(scope, id);
    if (props.routers.length === 0) throw new Error('RouterTrainingCompute: no router targets; create it only for a stage that has one');
    const largest = props.routers.reduce((a, b) => (b.resources.vcpus > a.resources.vcpus || (b.resources.vcpus === a.resources.vcpus && b.resources.memoryMiB > a.resources.memoryMiB) ? b : a));
    if (FARGATE_MEMORY_MIB[String(largest.resources.vcpus)] === undefined) throw new Error(`RouterTrainingCompute: ${largest.resources.vcpus} vCPU is not a Fargate size`);

    this.image = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: props.imageDirectory ?? path.join(__dirname, '..', '..', 'training'),
      file: 'router.Dockerfile',
      platform: ecrAssets.Platform.LINUX_AMD64,
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: `Router training tasks of ${props.stage}: no inbound, HTTPS out (S3, ECR, Logs)`,
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS endpoints; the subnets route nowhere else');

    this.computeEnvironment = new batch.FargateComputeEnvironment(this, 'FargateEnvironment', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      // A few routers' jobs at once at most; a router job is one task.
      maxvCpus: Math.max(16, largest.resources.vcpus * 2),
      spot: false,
    });
    this.jobQueue = new batch.JobQueue(this, 'JobQueue', {
      priority: 1,
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
    });

    this.jobLogGroup = new logs.LogGroup(this, 'JobLogs', { retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS, removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Pulls the ${props.stage} router image and writes its logs`,
    });
    Validations.of(this.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Only ecr:GetAuthorizationToken is on *: it has no resource-level permissions. Image layer pulls are granted on the one repository the image lives in.',
    });
    this.jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Router training container of ${props.stage}: reads runs/ (dataset, current version) and golden-sets/, writes runs/`,
    });
    props.artifacts.grantRead(this.jobRole, props.artifacts.runsPrefix);
    props.artifacts.grantRead(this.jobRole, props.artifacts.goldenSetsPrefix);
    props.artifacts.grantWrite(this.jobRole, props.artifacts.runsPrefix);

    this.jobDefinition = new batch.EcsJobDefinition(this, 'TrainJobDefinition', {
      container: new batch.EcsFargateContainerDefinition(this, 'TrainContainer', {
        image: ecs.ContainerImage.fromDockerImageAsset(this.image),
        cpu: largest.resources.vcpus,
        memory: Size.mebibytes(largest.resources.memoryMiB),
        // Each run sets its command (`train --dataset ... --out ...`) and size; this is the shape of one.
        command: ['train', '--help'],
        jobRole: this.jobRole,
        executionRole: this.executionRole,
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.jobLogGroup, streamPrefix: 'router' }),
        assignPublicIp: false,
        fargatePlatformVersion: ecs.FargatePlatformVersion.LATEST,
        environment: { SIAL_STAGE: props.stage },
      }),
      // A lost task is retried; an application error (exit 64/65/66/70/74) is not: a second attempt would fail the same way.
      retryAttempts: 2,
      retryStrategies: [
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onStatusReason: FARGATE_RETRY_STATUS_REASON })),
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onStatusReason: '*' })),
      ],
      timeout: Duration.hours(Math.max(...props.routers.map((r) => r.resources.maxJobHours))),
      propagateTags: true,
    });
  }
}
