/**
 * Retention that holds in AWS, not only in a computed list: registered model and router artifacts and
 * the registry's versions cannot be deleted or overwritten by the loop or by anyone using its roles.
 *
 * - The artifact bucket's policy denies deleting a registered artifact (`runs/<runId>/output/model.tar.gz`,
 *   the ModelDataUrl of every registered version) and writing one except as a create-only write
 *   (`If-None-Match: *`), to every principal but the break-glass role. A bucket policy's Deny binds
 *   every role of the account, the loop's and an operator's alike.
 * - Every IAM role of the stage's stacks gets an explicit Deny on deleting registry versions and groups
 *   (and on their resource policies) and on deleting registered artifacts ({@link denyRetentionBreakingActions}).
 *   The same statements are a managed policy an administrator attaches to operator roles.
 * - One break-glass role may remove an old version on purpose; assuming it raises an alert (EventBridge
 *   rule on CloudTrail's AssumeRole event, to an encrypted SNS topic).
 *
 * "The newest N" moves with every promotion, so it cannot be written into a static policy: the policies
 * protect every registered version, and `sial retention remove` refuses the newest N even to break-glass.
 */
import { Aspects, CustomResourceProviderBase, Duration, RemovalPolicy, Stack, Validations, type IAspect } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, type IConstruct } from 'constructs';
import { MODEL_ARTIFACT_FILE } from '../../lambdas/pipeline/register-model/register-model';
import { RUNS_PREFIX, type ArtifactStore } from './artifact-store';
import { acknowledgeWildcardResourceToken } from './private/acknowledge';

/** Key pattern of registered artifacts: the model archive of every run (register-model's ModelDataUrl). */
export const REGISTERED_ARTIFACT_KEYS = `${RUNS_PREFIX}*/output/${MODEL_ARTIFACT_FILE}`;

/** Registry actions nobody but break-glass may take: they remove a version or open the group to others. */
export const REGISTRY_REMOVAL_ACTIONS: readonly string[] = [
  'sagemaker:DeleteModelPackage',
  'sagemaker:DeleteModelPackageGroup',
  'sagemaker:DeleteModelPackageGroupPolicy',
  'sagemaker:PutModelPackageGroupPolicy',
];

/** S3 actions that remove a registered artifact (its current object or any version of it). */
export const ARTIFACT_REMOVAL_ACTIONS: readonly string[] = ['s3:DeleteObject', 's3:DeleteObjectVersion'];

/** Name of a stage's break-glass role: physical, so that policies and the alert rule can name it. */
export function breakGlassRoleName(stage: string): string {
  return `sial-${stage}-retention-break-glass`;
}

/** Sids of the guard's statements: tests and auditors find them by these names. */
export const RETENTION_SIDS = {
  bucketDenyDelete: 'RetentionDenyRegisteredArtifactDelete',
  bucketDenyOverwrite: 'RetentionDenyRegisteredArtifactOverwrite',
  roleDenyRegistry: 'RetentionDenyRegistryRemoval',
  roleDenyArtifacts: 'RetentionDenyRegisteredArtifactDelete',
} as const;

/**
 * The Deny statements every loop role carries: no registry version or group removed, no registered
 * artifact deleted. Registry removal is denied on every resource: the loop never deletes a version of any
 * group, so there is nothing narrower to allow.
 */
export function retentionDenyStatements(artifactBucketArn: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ sid: RETENTION_SIDS.roleDenyRegistry, effect: iam.Effect.DENY, actions: [...REGISTRY_REMOVAL_ACTIONS], resources: ['*'] }),
    new iam.PolicyStatement({
      sid: RETENTION_SIDS.roleDenyArtifacts,
      effect: iam.Effect.DENY,
      actions: [...ARTIFACT_REMOVAL_ACTIONS],
      resources: [`${artifactBucketArn}/${REGISTERED_ARTIFACT_KEYS}`],
    }),
  ];
}

/** Adds {@link retentionDenyStatements} to every IAM role under a scope, except the break-glass role. */
class DenyRetentionBreakingActions implements IAspect {
  constructor(
    private readonly artifactBucketArn: string,
    private readonly exempt: (role: iam.Role) => boolean,
  ) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof iam.Role) || this.exempt(node)) return;
    for (const statement of retentionDenyStatements(this.artifactBucketArn)) node.addToPrincipalPolicy(statement);
  }
}

/**
 * Gives every role under `scope` (a stack: the loop's Lambdas, state machines, Batch jobs, SageMaker
 * roles) the retention Deny statements. Roles added later are covered too: aspects run at synthesis.
 */
export function denyRetentionBreakingActions(scope: IConstruct, artifactBucketArn: string): void {
  Aspects.of(scope).add(new DenyRetentionBreakingActions(artifactBucketArn, (role) => role.node.scope instanceof RetentionGuard && role === role.node.scope.breakGlassRole));
}

/** Properties of {@link RetentionGuard}. */
export interface RetentionGuardProps {
  /** Stage name: part of the break-glass role's name. */
  readonly stage: string;
  /** The artifact bucket whose registered artifacts are protected. */
  readonly artifacts: ArtifactStore;
  /** Production buckets are retained; other stages let the stack's auto-delete empty the bucket on destroy. */
  readonly production: boolean;
  /** Who is told when the break-glass role is assumed. */
  readonly alertEmails: readonly string[];
}

/** The bucket-policy Denies, the break-glass role, its alert, and the operator managed policy. */
export class RetentionGuard extends Construct {
  /** The only principal the bucket policy lets delete or overwrite a registered artifact. */
  public readonly breakGlassRole: iam.Role;
  /** Told of every assumption of the break-glass role. */
  public readonly alertTopic: sns.Topic;
  /** The alert topic's key (EventBridge may use it; the lake key stays closed to EventBridge). */
  public readonly alertKey: kms.Key;
  /** The Deny statements as a managed policy, for administrators to attach to operator roles. */
  public readonly operatorDenyPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: RetentionGuardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const bucket = props.artifacts.bucket;
    const registered = bucket.arnForObjects(REGISTERED_ARTIFACT_KEYS);

    this.breakGlassRole = new iam.Role(this, 'BreakGlassRole', {
      roleName: breakGlassRoleName(props.stage),
      description: `${props.stage}: deliberate removal of an old registered model/router version (audited; sial retention remove)`,
      // Only people of this account with MFA, and only for an hour: a deliberate act, never a pipeline's.
      assumedBy: new iam.AccountRootPrincipal().withConditions({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } }),
      maxSessionDuration: Duration.hours(1),
    });
    const packages = stack.formatArn({ service: 'sagemaker', resource: 'model-package', resourceName: `sial-${props.stage}-*/*` });
    // sial retention remove lists (and describes) the group to refuse its newest versions, then deletes.
    this.breakGlassRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sagemaker:DeleteModelPackage', 'sagemaker:DescribeModelPackage'], resources: [packages] }));
    this.breakGlassRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sagemaker:ListModelPackages'], resources: ['*'] }));
    this.breakGlassRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...ARTIFACT_REMOVAL_ACTIONS], resources: [registered] }));
    // Every version of the archive is removed, so they are listed first.
    this.breakGlassRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucketVersions'], resources: [bucket.bucketArn] }));
    acknowledgeWildcardResourceToken(this.breakGlassRole, packages, 'Break-glass removes one old version of this stage\'s model package groups (model-package/sial-<stage>-*/<version>); which one is chosen at the time, by a person.');
    acknowledgeWildcardResourceToken(this.breakGlassRole, registered, 'Break-glass removes the artifact of one old registered version (runs/<runId>/output/model.tar.gz); the run is chosen at the time, by a person.');
    Validations.of(this.breakGlassRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Only sagemaker:ListModelPackages is on *: it supports no resource-level permissions, and sial retention remove lists a group to refuse its newest versions.',
    });

    // Non-production stacks empty the bucket on destroy with CDK's auto-delete provider: it must stay able to.
    const exempt = [this.breakGlassRole.roleArn, ...(props.production ? [] : [autoDeleteProviderRoleArn(stack)])];
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: RETENTION_SIDS.bucketDenyDelete,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...ARTIFACT_REMOVAL_ACTIONS],
        resources: [registered],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': exempt } },
      }),
    );
    // Write-once: a PutObject or CompleteMultipartUpload without If-None-Match could replace a registered
    // archive. CreateMultipartUpload and UploadPart carry no conditional header, so they are exempt
    // (s3:ObjectCreationOperation false); the upload still needs the header on its completion.
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: RETENTION_SIDS.bucketDenyOverwrite,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [registered],
        conditions: {
          Null: { 's3:if-none-match': 'true' },
          Bool: { 's3:ObjectCreationOperation': 'true' },
          ArnNotEquals: { 'aws:PrincipalArn': [this.breakGlassRole.roleArn] },
        },
      }),
    );

    this.operatorDenyPolicy = new iam.ManagedPolicy(this, 'OperatorDenyPolicy', {
      description: `${props.stage}: attach to operator roles and permission sets; no registry version or registered artifact removed outside break-glass`,
      statements: retentionDenyStatements(bucket.bucketArn),
    });

    this.alertKey = new kms.Key(this, 'AlertKey', {
      enableKeyRotation: true,
      description: `${props.stage}: break-glass alert topic`,
      removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.alertKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.alertTopic = new sns.Topic(this, 'AlertTopic', { displayName: `sial ${props.stage} retention break-glass`, masterKey: this.alertKey, enforceSSL: true });
    for (const email of props.alertEmails) this.alertTopic.addSubscription(new subscriptions.EmailSubscription(email));
    // CloudTrail records AssumeRole as a management event; EventBridge sees it where a trail logs them.
    new events.Rule(this, 'BreakGlassAssumed', {
      description: `${props.stage}: the retention break-glass role was assumed`,
      eventPattern: {
        source: ['aws.sts'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['sts.amazonaws.com'], eventName: ['AssumeRole'], requestParameters: { roleArn: [this.breakGlassRole.roleArn] } },
      },
      targets: [new targets.SnsTopic(this.alertTopic)],
    });
  }
}

/** The role of CDK's S3 auto-delete custom resource provider in `stack` (created on first use). */
function autoDeleteProviderRoleArn(stack: Stack): string {
  const provider = stack.node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
  if (!(provider instanceof CustomResourceProviderBase)) {
    throw new Error(`RetentionGuard: ${stack.stackName} has no S3 auto-delete provider; a non-production artifact bucket is created with autoDeleteObjects`);
  }
  return provider.roleArn;
}
