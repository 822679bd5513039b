import { registryKeyOf } from '../../config/schema';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../config';
import { APPROVALS_TABLE_ENV, approvalsCommand } from '../../bin/cli/approvals';
import { ROLLOUT_ENV, rolloutCommand } from '../../bin/cli/rollout';
import { JOBS_TABLE_ENV, jobsCommand } from '../../bin/cli/jobs';
import { PINNED_LOGICAL_IDS, modelPackageGroupLogicalId } from '../../lib/stacks/data-stack';
import { STAGE_NAMES, synthesizedStage } from '../helpers/app';

const STATEFUL_TYPES: Record<keyof typeof PINNED_LOGICAL_IDS, string> = {
  lakeKey: 'AWS::KMS::Key',
  pseudonymisationKey: 'AWS::SecretsManager::Secret',
  lakeBucket: 'AWS::S3::Bucket',
  accessLogBucket: 'AWS::S3::Bucket',
  database: 'AWS::Glue::Database',
  tracesTable: 'AWS::Glue::Table',
  gateAuditTable: 'AWS::Glue::Table',
  feedbackTable: 'AWS::Glue::Table',
  judgmentsTable: 'AWS::Glue::Table',
  reviewsTable: 'AWS::Glue::Table',
  confidenceScoresTable: 'AWS::Glue::Table',
  traceStream: 'AWS::KinesisFirehose::DeliveryStream',
  feedbackStream: 'AWS::KinesisFirehose::DeliveryStream',
  judgmentStream: 'AWS::KinesisFirehose::DeliveryStream',
  reviewStream: 'AWS::KinesisFirehose::DeliveryStream',
  artifactBucket: 'AWS::S3::Bucket',
  gpuLedgerTable: 'AWS::DynamoDB::Table',
  approvalsTable: 'AWS::DynamoDB::Table',
  deploymentsTable: 'AWS::DynamoDB::Table',
  reviewQueueTable: 'AWS::DynamoDB::Table',
  erasureLedgerTable: 'AWS::DynamoDB::Table',
  jobsTable: 'AWS::DynamoDB::Table',
  retentionAlertKey: 'AWS::KMS::Key',
};

describe.each(STAGE_NAMES)('data stack of %s', (stage) => {
  const config = loadStageConfig(stage);
  const { template, dataStack } = synthesizedStage(stage);
  const resources = template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

  test('stateful resources keep their pinned logical ids', () => {
    for (const [key, logicalId] of Object.entries(PINNED_LOGICAL_IDS)) {
      expect({ logicalId, type: resources[logicalId]?.Type }).toEqual({ logicalId, type: STATEFUL_TYPES[key as keyof typeof PINNED_LOGICAL_IDS] });
    }
    const families = [...new Set(config.targetModels.map(registryKeyOf))];
    for (const family of families) expect(resources[modelPackageGroupLogicalId(family)]?.Type).toBe('AWS::SageMaker::ModelPackageGroup');
    // Nothing stateful escapes pinning: every key, bucket, database, table, stream and group is pinned.
    const pinned = new Set<string>([...Object.values(PINNED_LOGICAL_IDS), ...families.map(modelPackageGroupLogicalId)]);
    const statefulTypes = [
      'AWS::KMS::Key',
      'AWS::SecretsManager::Secret',
      'AWS::S3::Bucket',
      'AWS::Glue::Database',
      'AWS::Glue::Table',
      'AWS::KinesisFirehose::DeliveryStream',
      'AWS::DynamoDB::Table',
      'AWS::SageMaker::ModelPackageGroup',
    ];
    for (const [id, r] of Object.entries(resources)) {
      if (statefulTypes.includes(r.Type)) expect({ id, pinned: pinned.has(id) }).toEqual({ id, pinned: true });
    }
  });

  const expectedPolicy = config.production ? 'Retain' : 'Delete';
  test(`the key, buckets, database and tables are ${config.production ? 'retained' : 'deleted'} with the stack`, () => {
    for (const id of ['lakeKey', 'pseudonymisationKey', 'lakeBucket', 'accessLogBucket', 'database', 'tracesTable', 'gateAuditTable', 'feedbackTable', 'artifactBucket', 'gpuLedgerTable', 'approvalsTable', 'deploymentsTable', 'reviewQueueTable', 'erasureLedgerTable', 'jobsTable'] as const) {
      const r = resources[PINNED_LOGICAL_IDS[id]]!;
      expect({ id, DeletionPolicy: r.DeletionPolicy, UpdateReplacePolicy: r.UpdateReplacePolicy }).toEqual({
        id,
        DeletionPolicy: expectedPolicy,
        UpdateReplacePolicy: expectedPolicy,
      });
    }
  });

  test(config.production ? 'buckets are never emptied automatically' : 'buckets are emptied before deletion', () => {
    const autoDelete = Object.values(resources).filter((r) => r.Type === 'Custom::S3AutoDeleteObjects');
    // Lake, access-log and artifact buckets.
    expect(autoDelete).toHaveLength(config.production ? 0 : 3);
  });

  test('generates the pseudonymisation key in Secrets Manager, encrypted with the lake key, with no physical name', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [PINNED_LOGICAL_IDS.lakeKey, 'Arn'] },
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
      Name: Match.absent(),
    });
    // Not rotated: a new key would change every pseudonym in the lake.
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::SecretsManager::RotationSchedule')).toEqual([]);
  });

  test(`termination protection is ${config.production ? 'on' : 'off'}, region ${config.region}`, () => {
    expect(dataStack.terminationProtection).toBe(config.production);
    expect(dataStack.region).toBe(config.region);
    expect(dataStack.stackName).toBe(`sial-${stage}-data`);
  });

  test('resources are tagged with project, stage and data boundary', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      Tags: Match.arrayWith([
        { Key: 'data-boundary', Value: config.dataBoundary },
        { Key: 'project', Value: 'self-improving-agent-loop' },
        { Key: 'stage', Value: stage },
      ]),
    });
  });

  test('outputs tell producers where to send traces and feedback', () => {
    template.hasOutput('TraceStreamName', { Value: { Ref: PINNED_LOGICAL_IDS.traceStream } });
    template.hasOutput('FeedbackEndpoint', Match.objectLike({}));
    template.hasOutput('LakeDatabaseName', { Value: { Ref: PINNED_LOGICAL_IDS.database } });
  });

  test('outputs name the tables operators use, and say which CLI option or variable takes them', () => {
    template.hasOutput('ApprovalsTableName', { Value: { Ref: PINNED_LOGICAL_IDS.approvalsTable }, Description: Match.stringLikeRegexp(`sial approvals --table.*\\$${APPROVALS_TABLE_ENV}`) });
    template.hasOutput('DeploymentsTableName', { Value: { Ref: PINNED_LOGICAL_IDS.deploymentsTable }, Description: Match.stringLikeRegexp(`sial rollout --table.*\\$${ROLLOUT_ENV.table}`) });
    template.hasOutput('GpuLedgerTableName', { Value: { Ref: PINNED_LOGICAL_IDS.gpuLedgerTable }, Description: Match.stringLikeRegexp('GPU-hours') });
    template.hasOutput('JobsTableName', { Value: { Ref: PINNED_LOGICAL_IDS.jobsTable }, Description: Match.stringLikeRegexp(`sial jobs --table.*\\$${JOBS_TABLE_ENV}`) });
    // The CLIs point operators at these outputs by name.
    expect(approvalsCommand.usage).toContain('stack output ApprovalsTableName of sial-<stage>-data');
    expect(rolloutCommand.usage).toMatch(/stack output DeploymentsTableName of\s+sial-<stage>-data/);
    expect(jobsCommand.usage).toMatch(/stack output JobsTableName of\s+sial-<stage>-data/);
  });

  test('synthesis raises no warning or error annotation', () => {
    const annotations = Annotations.fromStack(dataStack);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
  });
});
