import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { loadStageConfig } from '../../config';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import { TraceLake, type TraceLakeProps } from '../../lib/constructs/trace-lake';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { STAGE_NAMES, bareApp, dataTemplate, resourcesOfType } from '../helpers/app';

const ids = PINNED_LOGICAL_IDS;

function tableProps(template: Template, logicalId: string) {
  const table = template.toJSON().Resources[logicalId] as { Type: string; Properties: Record<string, unknown> };
  expect(table.Type).toBe('AWS::Glue::Table');
  return table.Properties as {
    Name: string;
    DatabaseName: unknown;
    OpenTableFormatInput: {
      IcebergInput: {
        MetadataOperation: string;
        Version: string;
        IcebergTableInput: {
          Location: unknown;
          Schema: { Type: string; Fields: Array<{ Id: number; Name: string; Type: string; Required: boolean }> };
          PartitionSpec: { Fields: Array<{ Name: string; SourceId: number; Transform: string; FieldId: number }> };
          WriteOrder?: { Fields: Array<{ SourceId: number }> };
          Properties: Record<string, string>;
        };
      };
    };
  };
}

describe.each(STAGE_NAMES)('trace lake in %s', (stage) => {
  const config = loadStageConfig(stage);
  const template = dataTemplate(stage);

  test('the KMS key rotates', () => {
    template.hasResource('AWS::KMS::Key', { Properties: Match.objectLike({ EnableKeyRotation: true }) });
    // The lake key, and the retention guard's key of its break-glass alert topic (EventBridge may use that one).
    expect(Object.keys(template.findResources('AWS::KMS::Key')).sort()).toEqual([ids.lakeKey, ids.retentionAlertKey].sort());
  });

  test('the lake bucket is SSE-KMS with the lake key, versioned, private and access-logged', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [ids.lakeKey, 'Arn'] } }, BucketKeyEnabled: true },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: ids.accessLogBucket }, LogFilePrefix: 'lake-bucket/' },
    });
  });

  test('the lake bucket policy denies plain HTTP and TLS below 1.2', () => {
    const policies = resourcesOfType(template, 'AWS::S3::BucketPolicy').filter(([, r]) => JSON.stringify(r.Properties?.Bucket) === JSON.stringify({ Ref: ids.lakeBucket }));
    expect(policies).toHaveLength(1);
    const statements = (policies[0]![1].Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      ]),
    );
  });

  test(`error output under errors/ expires after ${config.lake.errorOutputRetentionDays} days, noncurrent versions too`, () => {
    const bucket = template.toJSON().Resources[ids.lakeBucket] as { Properties: { LifecycleConfiguration: { Rules: Array<Record<string, unknown>> } } };
    const rules = bucket.Properties.LifecycleConfiguration.Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        {
          Id: 'expire-firehose-error-output',
          Prefix: 'errors/',
          Status: 'Enabled',
          ExpirationInDays: config.lake.errorOutputRetentionDays,
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        },
        { Id: 'expire-noncurrent-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
      ]),
    );
  });

  test(`access logs are private, TLS-only and expire after ${config.lake.accessLogRetentionDays} days`, () => {
    const bucket = template.toJSON().Resources[ids.accessLogBucket] as { Properties: Record<string, unknown> };
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: config.lake.accessLogRetentionDays, Status: 'Enabled' }] },
    });
  });

  test(`the Glue database is ${config.lake.databaseName}, located in the lake bucket`, () => {
    template.hasResourceProperties('AWS::Glue::Database', {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseInput: Match.objectLike({ Name: config.lake.databaseName, LocationUri: { 'Fn::Join': ['', ['s3://', { Ref: ids.lakeBucket }, '/tables/']] } }),
    });
  });

  test('traces is an Iceberg v2 table partitioned by day(ts), identity(model), identity(consent)', () => {
    const props = tableProps(template, ids.tracesTable);
    expect(props.Name).toBe('traces');
    expect(props.DatabaseName).toEqual({ Ref: ids.database });
    expect(props).not.toHaveProperty('TableInput');
    const iceberg = props.OpenTableFormatInput.IcebergInput;
    expect(iceberg.MetadataOperation).toBe('CREATE');
    expect(iceberg.Version).toBe('2');
    expect(iceberg.IcebergTableInput.Location).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: ids.lakeBucket }, '/tables/traces/']] });
    expect(iceberg.IcebergTableInput.PartitionSpec.Fields).toEqual([
      { Name: 'ts_day', SourceId: 2, Transform: 'day', FieldId: 1000 },
      { Name: 'model', SourceId: 6, Transform: 'identity', FieldId: 1001 },
      { Name: 'consent', SourceId: 10, Transform: 'identity', FieldId: 1002 },
    ]);
  });

  test('traces keeps the field ids and types of lake-tables.ts, nested types included', () => {
    const fields = tableProps(template, ids.tracesTable).OpenTableFormatInput.IcebergInput.IcebergTableInput.Schema.Fields;
    expect(fields.map((f) => f.Id)).toEqual(TRACES_TABLE.fields.map((f) => f.id));
    const byName = new Map(fields.map((f) => [f.Name, f]));
    expect(byName.get('trace_id')).toMatchObject({ Id: 1, Type: 'string', Required: true });
    expect(byName.get('ts')).toMatchObject({ Id: 2, Type: 'timestamp', Required: true });
    expect(byName.get('consent')).toMatchObject({ Id: 10, Type: 'boolean', Required: true });
    expect(byName.get('input_tokens')).toMatchObject({ Id: 24, Type: 'long', Required: false });
    expect(byName.get('pii_entities_masked')).toMatchObject({ Id: 30, Type: 'int' });
    expect(JSON.parse(byName.get('retrieved_contexts')!.Type)).toEqual({ type: 'list', 'element-id': 103, element: 'string', 'element-required': true });
    const toolCalls = JSON.parse(byName.get('tool_calls')!.Type) as { element: { fields: Array<{ id: number; name: string; required: boolean }> } };
    expect(toolCalls.element.fields.map((f) => [f.id, f.name, f.required])).toEqual([
      [111, 'name', true],
      [112, 'arguments', true],
      [113, 'result', false],
      [114, 'status', true],
    ]);
  });

  test('gate_audit holds no content columns and is partitioned by day(discarded_at)', () => {
    const input = tableProps(template, ids.gateAuditTable).OpenTableFormatInput.IcebergInput.IcebergTableInput;
    expect(input.Schema.Fields.map((f) => f.Name)).toEqual(GATE_AUDIT_TABLE.fields.map((f) => f.name));
    for (const contentColumn of ['input_messages', 'output', 'retrieved_contexts', 'tool_calls']) {
      expect(input.Schema.Fields.map((f) => f.Name)).not.toContain(contentColumn);
    }
    expect(input.PartitionSpec.Fields).toEqual([{ Name: 'discarded_day', SourceId: 4, Transform: 'day', FieldId: 1000 }]);
  });

  test('feedback is partitioned by day(received_at) and agent_id and sorted by request_id', () => {
    const input = tableProps(template, ids.feedbackTable).OpenTableFormatInput.IcebergInput.IcebergTableInput;
    expect(input.Schema.Fields.map((f) => [f.Id, f.Name, f.Type])).toEqual(FEEDBACK_TABLE.fields.map((f) => [f.id, f.name, f.type]));
    expect(input.PartitionSpec.Fields).toEqual([
      { Name: 'received_day', SourceId: 9, Transform: 'day', FieldId: 1000 },
      { Name: 'agent_id', SourceId: 2, Transform: 'identity', FieldId: 1001 },
    ]);
    expect(input.WriteOrder?.Fields.map((f) => f.SourceId)).toEqual([3]);
  });

  test('no custom resource creates or describes a table', () => {
    const customTypes = Object.values(template.toJSON().Resources as Record<string, { Type: string }>)
      .map((r) => r.Type)
      .filter((t) => t.startsWith('Custom::') || t === 'AWS::CloudFormation::CustomResource');
    // The only custom resources allowed are the bucket-emptying ones of disposable stages (the lake,
    // access-log and artifact buckets).
    expect(customTypes.every((t) => t === 'Custom::S3AutoDeleteObjects')).toBe(true);
    expect(customTypes.length).toBe(config.production ? 0 : 3);
  });
});

describe('TraceLake validation', () => {
  const base: TraceLakeProps = { databaseName: 'lake', production: false, errorOutputRetentionDays: 7, accessLogRetentionDays: 30 };

  function build(props: Partial<TraceLakeProps>): TraceLake {
    return new TraceLake(new Stack(bareApp(), 'S'), 'Lake', { ...base, ...props });
  }

  test('names the invalid database name and what is expected', () => {
    expect(() => build({ databaseName: 'Sial-Dev' })).toThrow('TraceLake: databaseName "Sial-Dev" is invalid; expected lower-case letters, digits and underscores');
  });

  test('refuses an error-output retention beyond 90 days', () => {
    expect(() => build({ errorOutputRetentionDays: 120 })).toThrow('TraceLake: errorOutputRetentionDays is 120; expected a whole number of days from 1 to 90');
  });

  test('refuses a table defined twice', () => {
    expect(() => build({ tables: [FEEDBACK_TABLE, FEEDBACK_TABLE] })).toThrow('table "feedback" is defined twice');
  });

  test('refuses grants on a table it does not have', () => {
    const lake = build({ tables: [FEEDBACK_TABLE] });
    const role = new iam.Role(lake, 'R', { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
    expect(() => lake.grantIcebergWrite(role, ['traces'])).toThrow('TraceLake: no table "traces" in database lake; expected one of feedback');
  });

  test('grantIcebergWrite scopes Glue to the catalog, the database and the named tables only', () => {
    const lake = build({});
    const role = new iam.Role(lake, 'R', { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
    lake.grantIcebergWrite(role, ['feedback']);
    const template = Template.fromStack(Stack.of(lake));
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['glue:GetDatabase', 'glue:GetTable', 'glue:UpdateTable'],
            Resource: [
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':glue:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':catalog']] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':glue:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':database/lake']] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':glue:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':table/lake/feedback']] },
            ],
          },
        ]),
      },
    });
  });
});
