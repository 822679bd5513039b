/**
 * Retention that holds in AWS: the artifact bucket's Deny statements, the Deny every loop role carries,
 * the break-glass role and its alert. Each test names exactly the actions, resources and principals, so
 * it fails when a Deny is removed, narrowed, or its prefix moves away from the registered artifacts.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { ARTIFACT_REMOVAL_ACTIONS, breakGlassRoleName, REGISTERED_ARTIFACT_KEYS, REGISTRY_REMOVAL_ACTIONS, RETENTION_SIDS } from '../../lib/constructs/retention-guard';
import { MODEL_ARTIFACT_FILE } from '../../lambdas/pipeline/register-model/register-model';
import { runUris } from '../../lambdas/pipeline/validate-request/run-uris';
import { loadStageConfig } from '../../config';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { STAGE_NAMES, resourcesOfType, synthesizedStage } from '../helpers/app';

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const BUCKET = PINNED_LOGICAL_IDS.artifactBucket;
const registeredArtifacts = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [BUCKET, 'Arn'] }, `/${REGISTERED_ARTIFACT_KEYS}`]] };

function bucketStatements(template: Template): Statement[] {
  const policies = resourcesOfType(template, 'AWS::S3::BucketPolicy').filter(([, p]) => JSON.stringify(p.Properties?.Bucket) === JSON.stringify({ Ref: BUCKET }));
  expect(policies).toHaveLength(1);
  return (policies[0]![1].Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
}

function bySid(statements: readonly Statement[], sid: string): Statement {
  const found = statements.filter((s) => s.Sid === sid);
  expect(found).toHaveLength(1);
  return found[0]!;
}

function logicalIdOfRole(template: Template, roleName: string): string {
  const found = resourcesOfType(template, 'AWS::IAM::Role').filter(([, r]) => r.Properties?.RoleName === roleName);
  expect(found).toHaveLength(1);
  return found[0]![0];
}

/** Roles of CDK's own custom-resource providers are plain CloudFormation, not iam.Role: no aspect reaches them. */
const CDK_PROVIDER_ROLE = /^Custom[A-Za-z0-9]+CustomResourceProviderRole[0-9A-F]{8}$/;

test('the protected key pattern is where register-model points every registered version (ModelDataUrl)', () => {
  const uris = runUris('artifact-bucket', 'run-1');
  const modelDataUrl = `${uris.output}${MODEL_ARTIFACT_FILE}`;
  const pattern = new RegExp(`^s3://artifact-bucket/${REGISTERED_ARTIFACT_KEYS.replace(/[.]/g, '\\.').replace('*', '[^/]+')}$`);
  expect(modelDataUrl).toMatch(pattern);
});

describe.each(STAGE_NAMES)('retention guard in %s', (stage) => {
  const { template, loopTemplate } = synthesizedStage(stage);
  const config = loadStageConfig(stage);
  const breakGlass = logicalIdOfRole(template, breakGlassRoleName(stage));
  const breakGlassArn = { 'Fn::GetAtt': [breakGlass, 'Arn'] };

  test('the bucket policy denies deleting a registered artifact to every principal but break-glass', () => {
    const deny = bySid(bucketStatements(template), RETENTION_SIDS.bucketDenyDelete);
    const exempt = config.production ? [breakGlassArn] : [breakGlassArn, { 'Fn::GetAtt': ['CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092', 'Arn'] }];
    expect(deny).toEqual({
      Sid: RETENTION_SIDS.bucketDenyDelete,
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: [...ARTIFACT_REMOVAL_ACTIONS],
      Resource: registeredArtifacts,
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': exempt } },
    });
  });

  test('the bucket policy denies overwriting a registered artifact: only create-only writes (If-None-Match) pass', () => {
    expect(bySid(bucketStatements(template), RETENTION_SIDS.bucketDenyOverwrite)).toEqual({
      Sid: RETENTION_SIDS.bucketDenyOverwrite,
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Resource: registeredArtifacts,
      Condition: {
        Null: { 's3:if-none-match': 'true' },
        Bool: { 's3:ObjectCreationOperation': 'true' },
        ArnNotEquals: { 'aws:PrincipalArn': [breakGlassArn] },
      },
    });
  });

  test('no lifecycle rule expires current objects under runs/ (registered artifacts never age out)', () => {
    const bucket = template.toJSON().Resources[BUCKET] as { Properties: { LifecycleConfiguration: { Rules: Array<{ Id: string; Prefix?: string; ExpirationInDays?: number; ExpirationDate?: string }> } } };
    const expiring = bucket.Properties.LifecycleConfiguration.Rules.filter((r) => r.ExpirationInDays !== undefined || r.ExpirationDate !== undefined);
    expect(expiring.length).toBeGreaterThan(0);
    for (const rule of expiring) {
      expect({ id: rule.Id, prefix: rule.Prefix }).toEqual({ id: rule.Id, prefix: expect.any(String) });
      expect({ id: rule.Id, coversRuns: 'runs/'.startsWith(rule.Prefix!) || rule.Prefix!.startsWith('runs/') }).toEqual({ id: rule.Id, coversRuns: false });
    }
  });

  test.each([
    ['data', () => template],
    ['loop', () => loopTemplate],
  ])('every role of the %s stack but break-glass carries the registry and artifact Deny', (_name, templateOf) => {
    const t = templateOf();
    const policies = resourcesOfType(t, 'AWS::IAM::Policy').map(([, p]) => p.Properties as { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Statement[] } });
    const roles = resourcesOfType(t, 'AWS::IAM::Role').map(([id]) => id).filter((id) => id !== breakGlass && !CDK_PROVIDER_ROLE.test(id));
    expect(roles.length).toBeGreaterThan(0);
    const bucketArn = _name === 'data' ? { 'Fn::GetAtt': [BUCKET, 'Arn'] } : expect.anything();
    for (const role of roles) {
      const statements = policies.filter((p) => p.Roles.some((r) => r.Ref === role)).flatMap((p) => p.PolicyDocument.Statement);
      expect({ role, statement: statements.find((s) => s.Sid === RETENTION_SIDS.roleDenyRegistry) }).toEqual({
        role,
        statement: { Sid: RETENTION_SIDS.roleDenyRegistry, Effect: 'Deny', Action: [...REGISTRY_REMOVAL_ACTIONS], Resource: '*' },
      });
      expect({ role, statement: statements.find((s) => s.Sid === RETENTION_SIDS.roleDenyArtifacts) }).toEqual({
        role,
        statement: { Sid: RETENTION_SIDS.roleDenyArtifacts, Effect: 'Deny', Action: [...ARTIFACT_REMOVAL_ACTIONS], Resource: { 'Fn::Join': ['', [bucketArn, `/${REGISTERED_ARTIFACT_KEYS}`]] } },
      });
    }
  });

  test('break-glass needs MFA, lasts an hour, and carries no Deny of its own', () => {
    const role = template.toJSON().Resources[breakGlass] as { Properties: { MaxSessionDuration: number; AssumeRolePolicyDocument: { Statement: Statement[] } } };
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Action: 'sts:AssumeRole', Effect: 'Allow', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }),
    ]);
    const own = resourcesOfType(template, 'AWS::IAM::Policy')
      .map(([, p]) => p.Properties as { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Statement[] } })
      .filter((p) => p.Roles.some((r) => r.Ref === breakGlass))
      .flatMap((p) => p.PolicyDocument.Statement);
    expect(own.filter((s) => s.Effect === 'Deny')).toEqual([]);
    expect(own.flatMap((s) => ([] as string[]).concat(s.Action)).sort()).toEqual(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:ListBucketVersions', 'sagemaker:DeleteModelPackage', 'sagemaker:DescribeModelPackage', 'sagemaker:ListModelPackages']);
  });

  test('assuming break-glass alerts the stage by SNS (CloudTrail AssumeRole event rule), encrypted topic', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties?.EventPattern).includes('AssumeRole'));
    expect(rules).toHaveLength(1);
    const rule = rules[0]![1].Properties as { EventPattern: unknown; Targets: Array<{ Arn: unknown }> };
    expect(rule.EventPattern).toEqual({
      source: ['aws.sts'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: { eventSource: ['sts.amazonaws.com'], eventName: ['AssumeRole'], requestParameters: { roleArn: [breakGlassArn] } },
    });
    expect(rule.Targets).toHaveLength(1);
    const topicId = (rule.Targets[0]!.Arn as { Ref: string }).Ref;
    const topic = template.toJSON().Resources[topicId] as { Type: string; Properties: { KmsMasterKeyId?: unknown } };
    expect(topic.Type).toBe('AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    const subscribed = resourcesOfType(template, 'AWS::SNS::Subscription').filter(([, s]) => JSON.stringify(s.Properties?.TopicArn) === JSON.stringify({ Ref: topicId }));
    expect(subscribed.map(([, s]) => s.Properties?.Endpoint).sort()).toEqual([...config.approvals.notificationEmails].sort());
  });

  test('the operator managed policy holds exactly the two Deny statements', () => {
    const policies = resourcesOfType(template, 'AWS::IAM::ManagedPolicy').filter(([id]) => id.startsWith('RetentionGuardOperatorDenyPolicy'));
    expect(policies).toHaveLength(1);
    const statements = (policies[0]![1].Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(statements.map((s) => [s.Sid, s.Effect, s.Action])).toEqual([
      [RETENTION_SIDS.roleDenyRegistry, 'Deny', [...REGISTRY_REMOVAL_ACTIONS]],
      [RETENTION_SIDS.roleDenyArtifacts, 'Deny', [...ARTIFACT_REMOVAL_ACTIONS]],
    ]);
  });
});
