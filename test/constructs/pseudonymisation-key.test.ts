import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { PseudonymisationKey } from '../../lib/constructs/pseudonymisation-key';
import { bareApp } from '../helpers/app';

function build(removalPolicy?: RemovalPolicy) {
  const stack = new Stack(bareApp(), 'S');
  const key = new kms.Key(stack, 'Key');
  const pseudonymisationKey = new PseudonymisationKey(stack, 'PseudonymisationKey', { stage: 'dev', encryptionKey: key, ...(removalPolicy ? { removalPolicy } : {}) });
  return { stack, key, pseudonymisationKey };
}

describe('PseudonymisationKey', () => {
  test('generates 64 alphanumeric characters, KMS-encrypted, without a physical name, retained by default', () => {
    const { stack, key } = build();
    const template = Template.fromStack(stack);
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
        GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
      },
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('"Name"');
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
  });

  test('follows the removal policy it is given (dev stacks are torn down)', () => {
    const { stack } = build(RemovalPolicy.DESTROY);
    Template.fromStack(stack).hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
  });

  test('records why it is not rotated, for cdk-nag', () => {
    const { pseudonymisationKey } = build();
    const acks = pseudonymisationKey.secret.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data as Record<string, string>);
    const entries = acks.flatMap((a) => Object.entries(a)).filter(([id]) => id.endsWith('AwsSolutions-SMG4'));
    expect(entries).toHaveLength(1);
    expect(entries[0]![1]).toMatch(/breaking joins/);
  });

  test('grants read to a role: GetSecretValue on the secret, Decrypt through Secrets Manager', () => {
    const { stack, pseudonymisationKey } = build();
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    pseudonymisationKey.grantRead(role);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: { Ref: stack.getLogicalId(pseudonymisationKey.secret.node.defaultChild as never) } }] },
    });
  });
});
