import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { loadStageConfig } from '../../config';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import { IcebergDeliveryStream, type IcebergDeliveryStreamProps } from '../../lib/constructs/iceberg-delivery-stream';
import { TraceLake } from '../../lib/constructs/trace-lake';
import { PINNED_LOGICAL_IDS } from '../../lib/stacks/data-stack';
import { STAGE_NAMES, bareApp, dataTemplate, resourcesOfType, withoutRetentionDenies } from '../helpers/app';

const ids = PINNED_LOGICAL_IDS;

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

function destination(template: Template, logicalId: string): Record<string, unknown> {
  const stream = template.toJSON().Resources[logicalId] as { Type: string; Properties: Record<string, unknown> };
  expect(stream.Type).toBe('AWS::KinesisFirehose::DeliveryStream');
  return stream.Properties;
}

/** The statements of the policy attached to a stream's delivery role. */
function roleStatements(template: Template, streamLogicalId: string): Statement[] {
  const props = destination(template, streamLogicalId).IcebergDestinationConfiguration as { RoleARN: { 'Fn::GetAtt': [string, string] } };
  const roleId = props.RoleARN['Fn::GetAtt'][0];
  const policies = resourcesOfType(template, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]));
  expect(policies).toHaveLength(1);
  return withoutRetentionDenies((policies[0]![1].Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

function actionsOf(s: Statement): string[] {
  return Array.isArray(s.Action) ? s.Action : [s.Action];
}

function resourcesOf(s: Statement): unknown[] {
  return Array.isArray(s.Resource) ? s.Resource : [s.Resource];
}

function glueArn(region: string, resource: string) {
  return { 'Fn::Join': ['', [`arn:aws:glue:${region}:`, { Ref: 'AWS::AccountId' }, `:${resource}`]] };
}

const bucketObjects = (suffix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.lakeBucket, 'Arn'] }, suffix]] });

describe.each(STAGE_NAMES)('delivery streams in %s', (stage) => {
  const config = loadStageConfig(stage);
  const template = dataTemplate(stage);
  const traceStream = destination(template, ids.traceStream);
  const trace = traceStream.IcebergDestinationConfiguration as Record<string, unknown>;
  const feedback = destination(template, ids.feedbackStream).IcebergDestinationConfiguration as Record<string, unknown>;

  test('the trace stream is Direct PUT, encrypted with the lake key', () => {
    expect(traceStream.DeliveryStreamType).toBe('DirectPut');
    expect(traceStream.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: { 'Fn::GetAtt': [ids.lakeKey, 'Arn'] } });
  });

  test('it delivers to the Glue catalog of its own region, into traces and gate_audit', () => {
    expect(trace.CatalogConfiguration).toEqual({ CatalogArn: glueArn(config.region, 'catalog') });
    expect(trace.DestinationTableConfigurationList).toEqual([
      { DestinationDatabaseName: { Ref: ids.database }, DestinationTableName: TRACES_TABLE.name, S3ErrorOutputPrefix: 'errors/traces/traces/' },
      { DestinationDatabaseName: { Ref: ids.database }, DestinationTableName: GATE_AUDIT_TABLE.name, S3ErrorOutputPrefix: 'errors/traces/gate_audit/' },
    ]);
    expect(trace.AppendOnly).toBe(true);
  });

  test(`it buffers ${config.lake.delivery.bufferSizeMiB} MiB / ${config.lake.delivery.bufferIntervalSeconds} s before committing`, () => {
    expect(trace.BufferingHints).toEqual({ SizeInMBs: config.lake.delivery.bufferSizeMiB, IntervalInSeconds: config.lake.delivery.bufferIntervalSeconds });
  });

  test('the gate function is its processor with the stage buffer settings', () => {
    expect(trace.ProcessingConfiguration).toEqual({
      Enabled: true,
      Processors: [
        {
          Type: 'Lambda',
          Parameters: [
            { ParameterName: 'LambdaArn', ParameterValue: { 'Fn::GetAtt': [expect.stringMatching(/^GateFunction/), 'Arn'] } },
            { ParameterName: 'BufferSizeInMBs', ParameterValue: String(config.lake.processor.bufferSizeMiB) },
            { ParameterName: 'BufferIntervalInSeconds', ParameterValue: String(config.lake.processor.bufferIntervalSeconds) },
            { ParameterName: 'NumberOfRetries', ParameterValue: '3' },
          ],
        },
      ],
    });
  });

  test('failed records go under errors/ (the prefix the lifecycle rule expires), encrypted with the lake key', () => {
    expect(trace.s3BackupMode).toBe('FailedDataOnly');
    expect(trace.S3Configuration).toMatchObject({
      BucketARN: { 'Fn::GetAtt': [ids.lakeBucket, 'Arn'] },
      ErrorOutputPrefix: 'errors/traces/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/',
      Prefix: 'errors/traces/backup/!{timestamp:yyyy/MM/dd}/',
      EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: { 'Fn::GetAtt': [ids.lakeKey, 'Arn'] } } },
    });
    const expiring = (template.toJSON().Resources[ids.lakeBucket].Properties.LifecycleConfiguration.Rules as Array<{ Prefix?: string; ExpirationInDays?: number }>)
      .filter((r) => r.ExpirationInDays !== undefined)
      .map((r) => r.Prefix);
    for (const prefix of [(trace.S3Configuration as { ErrorOutputPrefix: string }).ErrorOutputPrefix, (feedback.S3Configuration as { ErrorOutputPrefix: string }).ErrorOutputPrefix]) {
      expect(expiring.some((p) => p !== undefined && prefix.startsWith(p))).toBe(true);
    }
  });

  test('delivery errors are logged to its own log stream', () => {
    const logging = trace.CloudWatchLoggingOptions as { Enabled: boolean; LogGroupName: { Ref: string }; LogStreamName: { Ref: string } };
    expect(logging.Enabled).toBe(true);
    template.hasResourceProperties('AWS::Logs::LogStream', { LogGroupName: { Ref: logging.LogGroupName.Ref } });
    expect(template.toJSON().Resources[logging.LogStreamName.Ref].Type).toBe('AWS::Logs::LogStream');
  });

  test('the stream is created after its role policy and its tables (Firehose checks them at creation)', () => {
    const dependsOn = (template.toJSON().Resources[ids.traceStream] as { DependsOn: string[] }).DependsOn;
    expect(dependsOn).toEqual(expect.arrayContaining([ids.tracesTable, ids.gateAuditTable, expect.stringMatching(/^TraceStreamRoleDefaultPolicy/)]));
  });

  test('the delivery role trusts only Firehose calling on behalf of this account', () => {
    const roleId = (trace.RoleARN as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId] as { Properties: { AssumeRolePolicyDocument: { Statement: unknown[] }; ManagedPolicyArns?: unknown } };
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' }, Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } } },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('Glue access is scoped to the catalog, the database and exactly the two tables, never *', () => {
    const statements = roleStatements(template, ids.traceStream);
    const glue = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('glue:')));
    expect(glue).toHaveLength(1);
    expect(actionsOf(glue[0]!).sort()).toEqual(['glue:GetDatabase', 'glue:GetTable', 'glue:UpdateTable']);
    const expected = [
      glueArn(config.region, 'catalog'),
      glueArn(config.region, `database/${config.lake.databaseName}`),
      glueArn(config.region, `table/${config.lake.databaseName}/traces`),
      glueArn(config.region, `table/${config.lake.databaseName}/gate_audit`),
    ];
    // IAM policy minimization may reorder resources: compare as sets.
    expect(resourcesOf(glue[0]!)).toHaveLength(expected.length);
    expect(resourcesOf(glue[0]!)).toEqual(expect.arrayContaining(expected));
    expect(JSON.stringify(glue[0]!.Resource)).not.toContain('*');
  });

  test('S3 access is on the lake bucket only: bucket-level actions, the two table prefixes and its error prefix', () => {
    const s3 = roleStatements(template, ids.traceStream).filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    const resources = s3.flatMap(resourcesOf);
    expect(resources).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [ids.lakeBucket, 'Arn'] },
        bucketObjects('/tables/traces/*'),
        bucketObjects('/tables/gate_audit/*'),
        bucketObjects('/errors/traces/*'),
      ]),
    );
    for (const resource of resources) expect(JSON.stringify(resource)).toContain(`"${ids.lakeBucket}"`);
    expect(s3.flatMap(actionsOf).every((a) => !a.includes('*'))).toBe(true);
  });

  test('KMS access is the lake key only, for decrypt and data keys', () => {
    const kms = roleStatements(template, ids.traceStream).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(new Set(kms.flatMap(actionsOf))).toEqual(new Set(['kms:Decrypt', 'kms:GenerateDataKey']));
    for (const s of kms) expect(resourcesOf(s)).toEqual([{ 'Fn::GetAtt': [ids.lakeKey, 'Arn'] }]);
  });

  test('Lambda access is invoking and reading the configuration of the gate function only', () => {
    const fn = roleStatements(template, ids.traceStream).filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
    expect(new Set(fn.flatMap(actionsOf))).toEqual(new Set(['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration']));
    for (const resource of fn.flatMap(resourcesOf)) expect(JSON.stringify(resource)).toMatch(/"GateFunction[0-9A-F]+","Arn"/);
  });

  test('logs access is PutLogEvents on its own log stream', () => {
    const logs = roleStatements(template, ids.traceStream).filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
    expect(logs).toHaveLength(1);
    expect(actionsOf(logs[0]!)).toEqual(['logs:PutLogEvents']);
    expect(JSON.stringify(logs[0]!.Resource)).toMatch(/:log-group:.*TraceStreamLogGroup.*:log-stream:.*TraceStreamLogStream/);
  });

  test('the feedback stream writes only the feedback table, without a processor', () => {
    expect(feedback.DestinationTableConfigurationList).toEqual([
      { DestinationDatabaseName: { Ref: ids.database }, DestinationTableName: FEEDBACK_TABLE.name, S3ErrorOutputPrefix: 'errors/feedback/feedback/' },
    ]);
    expect(feedback.ProcessingConfiguration).toEqual({ Enabled: false });
    const statements = roleStatements(template, ids.feedbackStream);
    expect(statements.flatMap(actionsOf).some((a) => a.startsWith('lambda:'))).toBe(false);
    const glue = statements.find((s) => actionsOf(s).includes('glue:UpdateTable'));
    expect(resourcesOf(glue!)).toContainEqual(glueArn(config.region, `table/${config.lake.databaseName}/feedback`));
    expect(JSON.stringify(glue!.Resource)).not.toContain('/traces');
  });
});

describe('IcebergDeliveryStream validation', () => {
  function setup() {
    const stack = new Stack(bareApp(), 'S');
    const lake = new TraceLake(stack, 'Lake', { databaseName: 'lake', production: true, errorOutputRetentionDays: 7, accessLogRetentionDays: 30 });
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=()=>{}') });
    const base: IcebergDeliveryStreamProps = { lake, label: 'traces', tableNames: ['traces'], bufferIntervalSeconds: 60, bufferSizeMiB: 64 };
    return { stack, lake, fn, base };
  }

  test('refuses a destination buffer above 128 MiB, naming the value and the range', () => {
    const { stack, base } = setup();
    expect(() => new IcebergDeliveryStream(stack, 'X', { ...base, bufferSizeMiB: 256 })).toThrow(
      'IcebergDeliveryStream: bufferSizeMiB is 256; Firehose accepts a whole number from 1 to 128 for Iceberg destinations',
    );
  });

  test('refuses a processor buffer above 3 MB (Lambda payload limit)', () => {
    const { stack, base, fn } = setup();
    expect(() => new IcebergDeliveryStream(stack, 'X', { ...base, processor: { function: fn, bufferIntervalSeconds: 10, bufferSizeMiB: 4 } })).toThrow(
      'processor.bufferSizeMiB is 4; Firehose accepts a number from 0.2 to 3',
    );
  });

  test('refuses several tables without a processor to route rows', () => {
    const { stack, base } = setup();
    expect(() => new IcebergDeliveryStream(stack, 'X', { ...base, tableNames: ['traces', 'gate_audit'] })).toThrow(
      '2 tables (traces, gate_audit) but no processor',
    );
  });

  test('refuses a table the lake does not declare', () => {
    const { stack, base } = setup();
    expect(() => new IcebergDeliveryStream(stack, 'X', { ...base, tableNames: ['events'] })).toThrow(
      'table "events" is not in the lake; expected one of traces, gate_audit, feedback',
    );
  });

  test('grantPutRecord allows firehose:PutRecord on this stream only', () => {
    const { stack, base, fn } = setup();
    const stream = new IcebergDeliveryStream(stack, 'X', base);
    stream.grantPutRecord(fn);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'firehose:PutRecord', Resource: { 'Fn::GetAtt': [stack.getLogicalId(stream.deliveryStream), 'Arn'] } }] },
    });
  });
});
