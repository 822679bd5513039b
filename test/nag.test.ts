/**
 * The cdk-nag plugin is proven to fail synthesis on a finding, in either stack. The checks of every stage
 * (zero unacknowledged findings, every acknowledgement with a specific reason) read the apps of the full
 * synthesis in test/constructs/strict-synth.test.ts, which runs the same plugin: one synthesis per stage
 * for both instead of two.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { buildTestApp } from './helpers/app';

test('the plugin fails synthesis on an unacknowledged wildcard in the canary rollout', () => {
  const { app, loopStack } = buildTestApp('dev', { nag: true });
  loopStack.rollout.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['sagemaker:UpdateEndpointWeightsAndCapacities'], resources: ['arn:aws:sagemaker:us-east-1:123456789012:endpoint/*'] }));
  expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);
});

test('the registered plugin fails synthesis on an unacknowledged finding', () => {
  const { app, dataStack } = buildTestApp('dev', { nag: true });
  new s3.Bucket(Stack.of(dataStack), 'UnloggedBucket');
  expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
});

test('the plugin also fails synthesis on a finding in the loop stack', () => {
  const { app, loopStack } = buildTestApp('dev', { nag: true });
  // Neither encrypted nor TLS-only: SNS3 (AwsSolutions waives TLS-only for encrypted topics).
  new sns.Topic(loopStack, 'PlainTopic');
  expect(() => app.synth()).toThrow(/AwsSolutions-SNS3/);
});
