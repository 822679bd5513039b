/**
 * A Firehose Direct PUT stream delivering into the lake's Iceberg tables (Glue catalog), optionally
 * through a Lambda transformation. Firehose has no L2 for Iceberg destinations, so this wraps
 * `CfnDeliveryStream.icebergDestinationConfiguration` with a least-privilege delivery role.
 */
import { ArnFormat, CfnElement, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './private/acknowledge';
import type { TraceLake } from './trace-lake';

/** The Lambda transformation in front of the Iceberg destination. */
export interface IcebergStreamProcessor {
  /** The function Firehose invokes with each buffered batch. */
  readonly function: lambda.IFunction;
  /** Seconds Firehose buffers records before invoking the function (0-900). */
  readonly bufferIntervalSeconds: number;
  /** MiB Firehose buffers before invoking the function (0.2-3; the response must stay under Lambda's 6 MB). */
  readonly bufferSizeMiB: number;
  /**
   * Invocation retries before the batch goes to error output.
   *
   * @default 3
   */
  readonly retries?: number;
}

/** Properties of {@link IcebergDeliveryStream}. */
export interface IcebergDeliveryStreamProps {
  /** The lake whose Glue catalog, tables, bucket and key the stream uses. */
  readonly lake: TraceLake;
  /**
   * The lake tables the stream writes. With one table every record goes there; with several, the
   * processor routes each record with Firehose `metadata.otfMetadata`.
   */
  readonly tableNames: readonly string[];
  /**
   * Short label of the stream; names its error-output prefix (`errors/<label>/`) and log stream.
   */
  readonly label: string;
  /** Seconds Firehose buffers before committing to Iceberg (0-900). */
  readonly bufferIntervalSeconds: number;
  /** MiB Firehose buffers before committing to Iceberg (1-128). */
  readonly bufferSizeMiB: number;
  /**
   * Transformation in front of the destination.
   *
   * @default - records are delivered as sent
   */
  readonly processor?: IcebergStreamProcessor;
  /**
   * Retention of the delivery error log group.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the delivery log group when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** Firehose's documented ranges for Iceberg destination and Lambda processor buffering. */
export const ICEBERG_BUFFER_LIMITS = {
  intervalSeconds: { min: 0, max: 900 },
  sizeMiB: { min: 1, max: 128 },
  processorIntervalSeconds: { min: 0, max: 900 },
  processorSizeMiB: { min: 0.2, max: 3 },
} as const;

/**
 * Direct PUT -> (optional Lambda) -> Iceberg tables in the Glue catalog; failed records go to
 * `errors/<label>/` in the lake bucket, encrypted with the lake key; delivery errors are logged to
 * CloudWatch; the stream itself is encrypted at rest with the lake's customer managed key.
 */
export class IcebergDeliveryStream extends Construct {
  /** The delivery stream. */
  public readonly deliveryStream: firehose.CfnDeliveryStream;
  /** The role Firehose assumes to write the tables, the error output and the logs. */
  public readonly role: iam.Role;
  /** Delivery error log group. */
  public readonly logGroup: logs.LogGroup;
  /** The log stream Firehose writes delivery errors to. */
  public readonly logStream: logs.LogStream;
  /** Name of the stream (what producers pass as DeliveryStreamName). */
  public readonly deliveryStreamName: string;
  /** ARN of the stream. */
  public readonly deliveryStreamArn: string;
  /** S3 key prefix of this stream's error output (under the lake's expiring error prefix). */
  public readonly errorOutputPrefix: string;

  constructor(scope: Construct, id: string, props: IcebergDeliveryStreamProps) {
    super(scope, id);
    validateProps(props);
    const { lake } = props;
    const stack = Stack.of(this);

    this.errorOutputPrefix = `${lake.errorOutputPrefix}${props.label}/`;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.logStream = new logs.LogStream(this, 'LogStream', {
      logGroup: this.logGroup,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      // Firehose passes the account id as the external id: blocks use of this role by other accounts' streams.
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'sts:ExternalId': stack.account } },
      }),
      description: `Firehose ${props.label} stream: writes ${props.tableNames.join(', ')} and its error output`,
    });

    const tablesGrant = lake.grantIcebergWrite(this.role, props.tableNames);
    const errorsGrant = lake.grantErrorOutputWrite(this.role, props.label);
    const logStreamArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${this.logGroup.logGroupName}:log-stream:${this.logStream.logStreamName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const logsGrant = iam.Grant.addToPrincipal({ grantee: this.role, actions: ['logs:PutLogEvents'], resourceArns: [logStreamArn] });

    let processorGrant: iam.Grant | undefined;
    if (props.processor !== undefined) {
      processorGrant = props.processor.function.grantInvoke(this.role);
      // Firehose reads the function's configuration to check its timeout against the buffer.
      iam.Grant.addToPrincipal({
        grantee: this.role,
        actions: ['lambda:GetFunctionConfiguration'],
        resourceArns: [props.processor.function.functionArn],
      });
      const fnResource = props.processor.function.node.defaultChild;
      if (fnResource instanceof CfnElement) {
        acknowledgeWildcardResource(
          this.role,
          fnResource,
          'Arn',
          ':*',
          'grantInvoke also allows the versions and aliases of this one processor function (function-arn:*); no other function is reachable.',
        );
      }
    }
    const bucketResource = lake.bucket.node.defaultChild as CfnElement;
    for (const name of props.tableNames) {
      acknowledgeWildcardResource(
        this.role,
        bucketResource,
        'Arn',
        `/${lake.tablesPrefix}${name}/*`,
        `Iceberg data and metadata file names are generated per commit; access is limited to the "${name}" table's own prefix.`,
      );
    }
    acknowledgeWildcardResource(
      this.role,
      bucketResource,
      'Arn',
      `/${this.errorOutputPrefix}*`,
      "Error output object names are generated by Firehose; writes are limited to this stream's own error prefix.",
    );

    const destinationTables = props.tableNames.map((name) => ({
      destinationDatabaseName: lake.database.ref,
      destinationTableName: name,
      s3ErrorOutputPrefix: `${this.errorOutputPrefix}${name}/`,
    }));

    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'Resource', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: {
        keyType: 'CUSTOMER_MANAGED_CMK',
        keyArn: lake.key.keyArn,
      },
      icebergDestinationConfiguration: {
        catalogConfiguration: { catalogArn: lake.catalogArn },
        roleArn: this.role.roleArn,
        destinationTableConfigurationList: destinationTables,
        // Rows are only ever inserted; append-only lets Firehose scale past the Direct PUT default.
        appendOnly: true,
        bufferingHints: { intervalInSeconds: props.bufferIntervalSeconds, sizeInMBs: props.bufferSizeMiB },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: this.logGroup.logGroupName,
          logStreamName: this.logStream.logStreamName,
        },
        s3BackupMode: 'FailedDataOnly',
        s3Configuration: {
          bucketArn: lake.bucket.bucketArn,
          roleArn: this.role.roleArn,
          // Without an explicit error prefix Firehose writes failures outside errors/, where no lifecycle rule expires them.
          prefix: `${this.errorOutputPrefix}backup/!{timestamp:yyyy/MM/dd}/`,
          errorOutputPrefix: `${this.errorOutputPrefix}!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`,
          compressionFormat: 'GZIP',
          encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: lake.key.keyArn } },
          bufferingHints: { intervalInSeconds: 300, sizeInMBs: 5 },
        },
        processingConfiguration:
          props.processor === undefined
            ? { enabled: false }
            : {
                enabled: true,
                processors: [
                  {
                    type: 'Lambda',
                    parameters: [
                      { parameterName: 'LambdaArn', parameterValue: props.processor.function.functionArn },
                      { parameterName: 'BufferSizeInMBs', parameterValue: String(props.processor.bufferSizeMiB) },
                      { parameterName: 'BufferIntervalInSeconds', parameterValue: String(props.processor.bufferIntervalSeconds) },
                      { parameterName: 'NumberOfRetries', parameterValue: String(props.processor.retries ?? 3) },
                    ],
                  },
                ],
              },
      },
    });

    // Firehose checks the role's Glue, S3 and Lambda access when the stream is created: the policy and
    // the tables must exist first, not merely the role.
    let grants = tablesGrant.combine(errorsGrant).combine(logsGrant);
    if (processorGrant !== undefined) grants = grants.combine(processorGrant);
    grants.applyBefore(this.deliveryStream);
    for (const name of props.tableNames) {
      const table = lake.tables[name];
      if (table !== undefined) this.deliveryStream.node.addDependency(table);
    }

    this.deliveryStreamName = this.deliveryStream.ref;
    this.deliveryStreamArn = this.deliveryStream.attrArn;
  }

  /** Lets a producer put single records (firehose:PutRecord) on this stream and no other. */
  public grantPutRecord(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['firehose:PutRecord'], resourceArns: [this.deliveryStreamArn] });
  }

  /** Lets a producer put records one at a time or in batches on this stream and no other. */
  public grantPutRecords(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
      resourceArns: [this.deliveryStreamArn],
    });
  }
}

function validateProps(props: IcebergDeliveryStreamProps): void {
  const limits = ICEBERG_BUFFER_LIMITS;
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(props.label)) {
    throw new Error(`IcebergDeliveryStream: label "${props.label}" is invalid; expected up to 31 lower-case letters, digits and dashes`);
  }
  if (props.tableNames.length === 0) {
    throw new Error('IcebergDeliveryStream: tableNames is empty; expected at least one lake table');
  }
  const known = props.lake.tableDefinitions.map((d) => d.name);
  for (const name of props.tableNames) {
    if (!known.includes(name)) {
      throw new Error(`IcebergDeliveryStream: table "${name}" is not in the lake; expected one of ${known.join(', ')}`);
    }
  }
  if (props.tableNames.length > 1 && props.processor === undefined) {
    throw new Error(
      `IcebergDeliveryStream: ${props.tableNames.length} tables (${props.tableNames.join(', ')}) but no processor; routing records to several tables needs a processor that sets otfMetadata`,
    );
  }
  checkRange('bufferIntervalSeconds', props.bufferIntervalSeconds, limits.intervalSeconds, true);
  checkRange('bufferSizeMiB', props.bufferSizeMiB, limits.sizeMiB, true);
  if (props.processor !== undefined) {
    checkRange('processor.bufferIntervalSeconds', props.processor.bufferIntervalSeconds, limits.processorIntervalSeconds, true);
    checkRange('processor.bufferSizeMiB', props.processor.bufferSizeMiB, limits.processorSizeMiB, false);
    if (props.processor.retries !== undefined) checkRange('processor.retries', props.processor.retries, { min: 0, max: 300 }, true);
  }
}

function checkRange(name: string, value: number, range: { readonly min: number; readonly max: number }, integer: boolean): void {
  if (!Number.isFinite(value) || value < range.min || value > range.max || (integer && !Number.isInteger(value))) {
    throw new Error(
      `IcebergDeliveryStream: ${name} is ${value}; Firehose accepts ${integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max} for Iceberg destinations`,
    );
  }
}
