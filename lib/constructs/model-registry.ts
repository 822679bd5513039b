/**
 * The SageMaker Model Registry of a stage: one model package group per target model family. The groups
 * hold every registered candidate, its metrics and its approval status, the record of which model
 * version may serve traffic, so they are stateful and live in the data stack.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { acknowledgeWildcardResourceToken } from './private/acknowledge';
import { modelPackageGroupName } from '../../lambdas/pipeline/settings';

/** Properties of {@link ModelRegistry}. */
export interface ModelRegistryProps {
  /** Stage name; part of every group name (`sial-<stage>-<family>`, a contract with the Lambdas). */
  readonly stage: string;
  /** Model families of the stage's target models; one group each. */
  readonly families: readonly string[];
  /** Production groups are retained with the stack; other stages delete them (CloudFormation refuses while they hold packages). */
  readonly production: boolean;
}

const FAMILY_PATTERN = /^[a-z0-9][a-z0-9-]{0,30}$/;

/**
 * One `AWS::SageMaker::ModelPackageGroup` per family, named by {@link modelPackageGroupName}: the
 * pipeline's Lambdas find a group by that name, so it is a physical name on purpose.
 */
export class ModelRegistry extends Construct {
  /** The groups by family. */
  public readonly groups: Readonly<Record<string, sagemaker.CfnModelPackageGroup>>;
  /** Group names by family (the PIPELINE_SETTINGS `modelPackageGroups` value). */
  public readonly groupNames: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: ModelRegistryProps) {
    super(scope, id);
    if (props.families.length === 0) throw new Error('ModelRegistry: families is empty; expected the family of at least one target model');
    const groups: Record<string, sagemaker.CfnModelPackageGroup> = {};
    const names: Record<string, string> = {};
    for (const family of props.families) {
      if (!FAMILY_PATTERN.test(family)) {
        throw new Error(`ModelRegistry: family "${family}" is invalid; expected lower-case letters, digits and dashes (at most 31)`);
      }
      if (groups[family] !== undefined) throw new Error(`ModelRegistry: family "${family}" is listed twice; expected unique families`);
      const name = modelPackageGroupName(props.stage, family);
      const group = new sagemaker.CfnModelPackageGroup(this, `Group-${family}`, {
        modelPackageGroupName: name,
        modelPackageGroupDescription: `Self-Improving Agent Loop ${props.stage}: ${family} candidates from the training pipeline`,
      });
      group.applyRemovalPolicy(props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
      groups[family] = group;
      names[family] = name;
    }
    this.groups = groups;
    this.groupNames = names;
  }

  /** ARNs of the groups. */
  public get groupArns(): string[] {
    return Object.values(this.groups).map((g) => g.attrModelPackageGroupArn);
  }

  /**
   * ARNs of the model packages (versions) inside the groups: `model-package/<group>/<version>`.
   * SageMaker writes resource names lower-case in ARNs; group names are lower-case already.
   */
  public get packageArns(): string[] {
    const stack = Stack.of(this);
    return Object.values(this.groupNames).map((name) => stack.formatArn({ service: 'sagemaker', resource: 'model-package', resourceName: `${name}/*` }));
  }

  /**
   * Describe the groups and their packages, and list packages (the eval gate reads production's metrics).
   * `sagemaker:ListModelPackages` is on `*`: the grantee's role must acknowledge that IAM5 finding.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const packages = iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:DescribeModelPackage'],
      resourceArns: this.packageArns,
    });
    const groups = iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:DescribeModelPackageGroup'],
      resourceArns: this.groupArns,
    });
    // ListModelPackages supports no resource-level permissions; callers filter by group name.
    const list = iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:ListModelPackages'], resourceArns: ['*'] });
    this.acknowledgePackages(grantee);
    return packages.combine(groups).combine(list);
  }

  /** Register new versions (pending manual approval) in the groups, and read them back. */
  public grantRegister(grantee: iam.IGrantable): iam.Grant {
    const create = iam.Grant.addToPrincipal({
      grantee,
      // CreateModelPackage is authorized on the new version and on its group.
      actions: ['sagemaker:CreateModelPackage'],
      resourceArns: [...this.packageArns, ...this.groupArns],
    });
    return create.combine(this.grantRead(grantee));
  }

  /**
   * Read the versions and add metadata to them (UpdateModelPackage): the erasure lineage's flag
   * "trained on erased data". UpdateModelPackage also changes approval status; the erasure function's
   * code never sends one (SageMakerModelRegistry.setMetadata sends metadata only).
   */
  public grantFlagVersions(grantee: iam.IGrantable): iam.Grant {
    const update = iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:UpdateModelPackage'], resourceArns: this.packageArns });
    return update.combine(this.grantRead(grantee));
  }

  /** Records why `model-package/<group>/*` is needed (cdk-nag IAM5): versions are numbered by SageMaker. */
  private acknowledgePackages(grantee: iam.IGrantable): void {
    const principal = grantee.grantPrincipal;
    if (!(principal instanceof Construct)) return;
    for (const arn of this.packageArns) {
      acknowledgeWildcardResourceToken(principal, arn, 'The versions of one model package group (model-package/<group>/<version>): SageMaker numbers each registered version, so they cannot be named in advance.');
    }
  }
}
