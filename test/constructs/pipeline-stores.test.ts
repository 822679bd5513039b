/**
 * The training pipeline's stateful parts in the data stack: artifact bucket, GPU ledger, approvals and
 * jobs tables, model package groups.
 */
import { registryKeyOf } from '../../config/schema';
import { Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Match } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../config';
import { APPROVALS_TABLE_SCHEMA } from '../../lambdas/pipeline/approvals/approval-record';
import { LEDGER_KEYS } from '../../lambdas/pipeline/budget/dynamodb-ledger';
import { JOB_RECORDS_TABLE_SCHEMA } from '../../lambdas/pipeline/jobs/job-record';
import { modelPackageGroupName } from '../../lambdas/pipeline/settings';
import { ArtifactStore } from '../../lib/constructs/artifact-store';
import { ModelRegistry } from '../../lib/constructs/model-registry';
import { PipelineTables } from '../../lib/constructs/pipeline-tables';
import { PINNED_LOGICAL_IDS, modelPackageGroupLogicalId } from '../../lib/stacks/data-stack';
import { STAGE_NAMES, bareApp, dataTemplate } from '../helpers/app';

describe.each(STAGE_NAMES)('pipeline stores of %s', (stage) => {
  const config = loadStageConfig(stage);
  const template = dataTemplate(stage);
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;
  const keyArn = { 'Fn::GetAtt': [PINNED_LOGICAL_IDS.lakeKey, 'Arn'] };

  test('the artifact bucket is SSE-KMS with the lake key, versioned, private, access-logged and expires query results', () => {
    const bucket = resources[PINNED_LOGICAL_IDS.artifactBucket]!.Properties;
    expect(bucket).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: PINNED_LOGICAL_IDS.accessLogBucket }, LogFilePrefix: 'artifact-bucket/' },
    });
    const rules = (bucket.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Id: 'expire-query-results', Prefix: 'athena-results/', ExpirationInDays: 7, Status: 'Enabled' }),
        expect.objectContaining({ Id: 'expire-noncurrent-versions', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
      ]),
    );
    // TLS only: the bucket policy denies every request without aws:SecureTransport.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: PINNED_LOGICAL_IDS.artifactBucket },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the ledger, approvals and jobs tables are on-demand, KMS-encrypted with the lake key and recoverable to a point in time', () => {
    for (const id of [PINNED_LOGICAL_IDS.gpuLedgerTable, PINNED_LOGICAL_IDS.approvalsTable, PINNED_LOGICAL_IDS.jobsTable]) {
      expect({ id, props: resources[id]!.Properties }).toMatchObject({
        id,
        props: {
          BillingMode: 'PAY_PER_REQUEST',
          SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: config.production,
        },
      });
      expect(resources[id]!.DeletionPolicy).toBe(config.production ? 'Retain' : 'Delete');
    }
  });

  test("the ledger's keys are the ones the budget Lambdas write", () => {
    const key = LEDGER_KEYS.month(stage, '2025-01');
    expect(Object.keys(key)).toEqual(['pk', 'sk']);
    expect(resources[PINNED_LOGICAL_IDS.gpuLedgerTable]!.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
  });

  test('the jobs table is keyed by job id alone, as the state machine writes and sial jobs reads it; nothing expires', () => {
    expect(JOB_RECORDS_TABLE_SCHEMA).toEqual({ partitionKey: 'jobId' });
    const props = resources[PINNED_LOGICAL_IDS.jobsTable]!.Properties;
    expect(props).toMatchObject({ KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'jobId', AttributeType: 'S' }] });
    expect(props.TimeToLiveSpecification).toBeUndefined();
    expect(props.GlobalSecondaryIndexes).toBeUndefined();
  });

  test('the approvals table expires records through TTL attribute `ttl` and has the sparse waiting index', () => {
    expect(resources[PINNED_LOGICAL_IDS.approvalsTable]!.Properties).toMatchObject({
      KeySchema: [{ AttributeName: APPROVALS_TABLE_SCHEMA.partitionKey, KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'waiting-by-stage',
          KeySchema: [
            { AttributeName: 'waitingStage', KeyType: 'HASH' },
            { AttributeName: 'expiresAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  test('one model package group per target family, named as the Lambdas expect', () => {
    const families = [...new Set(config.targetModels.map(registryKeyOf))];
    const groups = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SageMaker::ModelPackageGroup');
    expect(groups.map(([id]) => id).sort()).toEqual(families.map(modelPackageGroupLogicalId).sort());
    for (const family of families) {
      const group = resources[modelPackageGroupLogicalId(family)]!;
      expect(group.Properties.ModelPackageGroupName).toBe(modelPackageGroupName(stage, family));
      expect(group.DeletionPolicy).toBe(config.production ? 'Retain' : 'Delete');
    }
  });
});

describe('pipeline store validation', () => {
  const stack = (): Stack => new Stack(bareApp(), 'S');

  test('ArtifactStore refuses a prefix that is not one top-level folder', () => {
    const s = stack();
    const store = new ArtifactStore(s, 'A', { key: new kms.Key(s, 'K'), accessLogBucket: new s3.Bucket(s, 'L'), production: false });
    expect(() => store.uriOf('runs')).toThrow('ArtifactStore: prefix "runs" is invalid');
    expect(() => new ArtifactStore(s, 'B', { key: new kms.Key(s, 'K2'), accessLogBucket: new s3.Bucket(s, 'L2'), production: false, queryResultRetentionDays: 0 })).toThrow(
      'ArtifactStore: queryResultRetentionDays is 0; expected a whole number of days from 1 to 365',
    );
  });

  test('PipelineTables refuses an attribute name DynamoDB would reject', () => {
    const s = stack();
    expect(() => new PipelineTables(s, 'T', { key: new kms.Key(s, 'K'), production: false, ledgerKeys: { partitionKey: 'p k' } })).toThrow(
      'PipelineTables: ledgerKeys.partitionKey is "p k"',
    );
  });

  test('ModelRegistry refuses duplicate and malformed families', () => {
    expect(() => new ModelRegistry(stack(), 'R', { stage: 'dev', families: ['qwen3', 'qwen3'], production: false })).toThrow('family "qwen3" is listed twice');
    expect(() => new ModelRegistry(stack(), 'R', { stage: 'dev', families: ['Qwen_3'], production: false })).toThrow('family "Qwen_3" is invalid');
    expect(() => new ModelRegistry(stack(), 'R', { stage: 'dev', families: [], production: false })).toThrow('families is empty');
  });
});
