/**
 * The trace lake: a customer managed KMS key, the lake bucket and its access-log bucket, the Glue
 * database and one Apache Iceberg table per lake table definition, all declared in plain CloudFormation.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { LAKE_TABLES, type LakeTableDefinition } from '../../lambdas/shared/lake-tables';
import { renderIcebergInput, validateLakeTable } from './iceberg-table-input';
import { acknowledgeWildcardResourceToken } from './private/acknowledge';

/** Properties of {@link TraceLake}. */
export interface TraceLakeProps {
  /** Glue database name (lower case; Firehose routes rows by it, so it is a real name, not generated). */
  readonly databaseName: string;

  /**
   * Production lakes keep their key, buckets, database and tables when the stack is deleted; other
   * stages destroy them (buckets emptied first) so a dev stack can be torn down and recreated.
   */
  readonly production: boolean;

  /** Days Firehose error output (raw, unmasked records) is kept under {@link errorOutputPrefix}. */
  readonly errorOutputRetentionDays: number;

  /** Days S3 server access logs are kept. */
  readonly accessLogRetentionDays: number;

  /**
   * Days a noncurrent object version (an overwritten or deleted Iceberg file) is kept before it expires.
   * Bounds how long erased data survives in old versions.
   *
   * @default 30
   */
  readonly noncurrentVersionRetentionDays?: number;

  /**
   * The Iceberg tables to declare.
   *
   * @default LAKE_TABLES (traces, gate_audit, feedback)
   */
  readonly tables?: readonly LakeTableDefinition[];
}

/** S3 key prefix under which Iceberg table locations live. */
const TABLES_PREFIX = 'tables/';
/** S3 key prefix of all Firehose error output; the lifecycle rule that expires it matches it exactly. */
const ERROR_OUTPUT_PREFIX = 'errors/';
const MAX_ERROR_RETENTION_DAYS = 90;

/**
 * KMS key, lake bucket (SSE-KMS, TLS only, versioned, public access blocked, access-logged, lifecycle
 * for error output and old versions), Glue database and Iceberg tables.
 *
 * Wiring: writers get access with {@link grantIcebergWrite} and {@link grantErrorOutputWrite}; the
 * ARNs those grants need are derived with `Stack.formatArn`, never concatenated by hand.
 */
export class TraceLake extends Construct {
  /** Customer managed key for the lake bucket, the Firehose streams and their error output. */
  public readonly key: kms.Key;
  /** Target of the lake bucket's server access logs. */
  public readonly accessLogBucket: s3.Bucket;
  /** Iceberg data and metadata (under `tables/`) and Firehose error output (under `errors/`). */
  public readonly bucket: s3.Bucket;
  /** The Glue database the Iceberg tables are catalogued in. */
  public readonly database: glue.CfnDatabase;
  /** The Iceberg tables by lake table name (`traces`, `gate_audit`, `feedback`). */
  public readonly tables: Readonly<Record<string, glue.CfnTable>>;
  /** The lake table definitions the tables were rendered from. */
  public readonly tableDefinitions: readonly LakeTableDefinition[];
  /** Glue database name. */
  public readonly databaseName: string;
  /** S3 key prefix of every Firehose error output; expires after `errorOutputRetentionDays`. */
  public readonly errorOutputPrefix: string = ERROR_OUTPUT_PREFIX;
  /** S3 key prefix under which each table has its own `<table>/` location. */
  public readonly tablesPrefix: string = TABLES_PREFIX;
  /** ARN of this account's Glue Data Catalog in the stack's region. */
  public readonly catalogArn: string;
  /** ARN of the Glue database. */
  public readonly databaseArn: string;

  constructor(scope: Construct, id: string, props: TraceLakeProps) {
    super(scope, id);
    validateProps(props);

    const tables = props.tables ?? LAKE_TABLES;
    if (tables.length === 0) throw new Error('TraceLake: tables is empty; expected at least one lake table definition');
    const names = new Set<string>();
    for (const def of tables) {
      validateLakeTable(def);
      if (names.has(def.name)) throw new Error(`TraceLake: table "${def.name}" is defined twice; expected unique table names`);
      names.add(def.name);
    }
    this.tableDefinitions = tables;
    this.databaseName = props.databaseName;

    const removalPolicy = props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    // Emptying buckets on delete needs a custom resource; only non-production lakes are ever deleted.
    const autoDeleteObjects = !props.production;

    this.key = new kms.Key(this, 'Key', {
      description: `Trace lake (${props.databaseName}): lake bucket, Firehose streams, error output`,
      enableKeyRotation: true,
      removalPolicy,
      // Shortest window for disposable stages; production keys are retained and never scheduled.
      pendingWindow: props.production ? Duration.days(30) : Duration.days(7),
    });

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      // S3 server access logging can deliver only to a bucket encrypted with S3-managed keys.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Object ownership is left to CDK: it depends on whether log delivery is granted by bucket policy
      // (feature flag @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy, on in cdk.json) or by ACL.
      versioned: false,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogRetentionDays) }],
      removalPolicy,
      autoDeleteObjects,
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the server access log target of the lake bucket; logging it into itself would recurse and logging it elsewhere adds nothing.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket rather than per object: Firehose writes many small Parquet files.
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'lake-bucket/',
      lifecycleRules: [
        {
          // Error output holds raw records that failed processing, before masking: keep it briefly,
          // and do not let versioning keep the expired copies around.
          id: 'expire-firehose-error-output',
          prefix: ERROR_OUTPUT_PREFIX,
          expiration: Duration.days(props.errorOutputRetentionDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionRetentionDays ?? 30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
      removalPolicy,
      autoDeleteObjects,
    });

    const stack = Stack.of(this);
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: props.databaseName,
        description: 'Self-Improving Agent Loop trace lake: masked traces, gate audit, feedback (Apache Iceberg)',
        locationUri: this.bucket.s3UrlForObject(TABLES_PREFIX),
      },
    });
    this.database.applyRemovalPolicy(removalPolicy);

    this.catalogArn = stack.formatArn({ service: 'glue', resource: 'catalog' });
    this.databaseArn = stack.formatArn({ service: 'glue', resource: 'database', resourceName: props.databaseName });

    const created: Record<string, glue.CfnTable> = {};
    for (const def of tables) {
      const table = new glue.CfnTable(this, `Table-${def.name}`, {
        catalogId: stack.account,
        // Ref of AWS::Glue::Database is its name: the reference also orders the table after the database.
        databaseName: this.database.ref,
        name: def.name,
        openTableFormatInput: renderIcebergInput(def, { location: this.tableLocation(def.name) }),
      });
      table.applyRemovalPolicy(removalPolicy);
      created[def.name] = table;
    }
    this.tables = created;
  }

  /** `s3://` location of a table's data and metadata. */
  public tableLocation(tableName: string): string {
    return this.bucket.s3UrlForObject(`${TABLES_PREFIX}${tableName}/`);
  }

  /** Glue ARN of a lake table; throws when the lake does not declare it. */
  public tableArn(tableName: string): string {
    this.requireTable(tableName);
    return Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${tableName}` });
  }

  /**
   * Lets a writer (a Firehose delivery role) commit to the given Iceberg tables: Glue read and update on
   * exactly the catalog, the database and those tables; S3 on those tables' prefixes; the KMS key.
   */
  public grantIcebergWrite(grantee: iam.IGrantable, tableNames: readonly string[]): iam.Grant {
    if (tableNames.length === 0) throw new Error('TraceLake.grantIcebergWrite: tableNames is empty; expected at least one table');
    const tableArns = tableNames.map((name) => this.tableArn(name));
    const glueGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:UpdateTable'],
      resourceArns: [this.catalogArn, this.databaseArn, ...tableArns],
    });
    const bucketGrant = this.grantBucketLevel(grantee);
    const objectGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resourceArns: tableNames.map((name) => this.bucket.arnForObjects(`${TABLES_PREFIX}${name}/*`)),
    });
    const keyGrant = this.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
    return glueGrant.combine(bucketGrant).combine(objectGrant).combine(keyGrant);
  }

  /**
   * Lets an Athena DELETE's caller (Athena writes with the caller's permissions) delete rows of the given
   * Iceberg tables: Glue read and update on exactly the catalog, the database and those tables; read and
   * write of those tables' files (an Iceberg DELETE writes delete files and a new snapshot's metadata,
   * it removes no object, so no s3:DeleteObject); the lake key.
   */
  public grantRowDelete(grantee: iam.IGrantable & IConstruct, tableNames: readonly string[]): iam.Grant {
    return this.grantRowDml(grantee, tableNames, 'grantRowDelete', 'for its row expiry');
  }

  /**
   * Lets an Athena INSERT or MERGE's caller write rows of the given Iceberg tables: the same grants as
   * {@link grantRowDelete} (Glue read and update of exactly those tables, read and write of their files,
   * no s3:DeleteObject: a MERGE writes data, delete and metadata files and removes none; the lake key).
   */
  public grantRowWrite(grantee: iam.IGrantable & IConstruct, tableNames: readonly string[]): iam.Grant {
    return this.grantRowDml(grantee, tableNames, 'grantRowWrite', 'for the rows the report workflow merges into it');
  }

  private grantRowDml(grantee: iam.IGrantable & IConstruct, tableNames: readonly string[], method: string, purpose: string): iam.Grant {
    if (tableNames.length === 0) throw new Error(`TraceLake.${method}: tableNames is empty; expected at least one table`);
    const glueGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:UpdateTable'],
      resourceArns: [this.catalogArn, this.databaseArn, ...tableNames.map((name) => this.tableArn(name))],
    });
    let grant = glueGrant.combine(this.grantBucketLevel(grantee));
    for (const table of tableNames) {
      const objects = this.bucket.arnForObjects(`${TABLES_PREFIX}${table}/*`);
      grant = grant.combine(iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], resourceArns: [objects] }));
      acknowledgeWildcardResourceToken(grantee, objects, `Read and write of the ${table} Iceberg table's files (data, delete and metadata files under generated names) ${purpose}; no object is deleted.`);
    }
    return grant.combine(this.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey'));
  }

  /**
   * Lets a query's caller read the given Iceberg tables (Athena reads with the caller's permissions):
   * Glue GetDatabase/GetTable on exactly the catalog, the database and those tables; list on the bucket;
   * GetObject on those tables' prefixes; decrypt with the lake key. Nothing is writable.
   */
  public grantTableRead(grantee: iam.IGrantable & IConstruct, tableNames: readonly string[]): iam.Grant {
    if (tableNames.length === 0) throw new Error('TraceLake.grantTableRead: tableNames is empty; expected at least one table');
    const glueGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['glue:GetDatabase', 'glue:GetTable'],
      resourceArns: [this.catalogArn, this.databaseArn, ...tableNames.map((name) => this.tableArn(name))],
    });
    const bucketGrant = iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetBucketLocation', 's3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
    let grant = glueGrant.combine(bucketGrant);
    for (const table of tableNames) {
      const objects = this.bucket.arnForObjects(`${TABLES_PREFIX}${table}/*`);
      grant = grant.combine(iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [objects] }));
      acknowledgeWildcardResourceToken(grantee, objects, `Read-only on the ${table} Iceberg table's data and metadata files, which Firehose commits under generated names.`);
    }
    return grant.combine(this.key.grantDecrypt(grantee));
  }

  /**
   * Lets the erasure workflow remove what an erasure leaves of the given tables in the versioned
   * bucket: list the object versions (bucket level) and delete versions by id, on exactly those tables'
   * prefixes. Comes on top of {@link grantIcebergWrite}, whose s3:DeleteObject Athena's VACUUM needs
   * (without it VACUUM reports success and deletes nothing).
   */
  public grantVersionExpiry(grantee: iam.IGrantable & IConstruct, tableNames: readonly string[]): iam.Grant {
    if (tableNames.length === 0) throw new Error('TraceLake.grantVersionExpiry: tableNames is empty; expected at least one table');
    tableNames.forEach((name) => this.requireTable(name));
    const list = iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucketVersions'], resourceArns: [this.bucket.bucketArn] });
    const objects = tableNames.map((name) => this.bucket.arnForObjects(`${TABLES_PREFIX}${name}/*`));
    const remove = iam.Grant.addToPrincipal({ grantee, actions: ['s3:DeleteObjectVersion'], resourceArns: objects });
    objects.forEach((arn, i) => acknowledgeWildcardResourceToken(grantee, arn, `The ${tableNames[i]} Iceberg table's files (data, delete and metadata files under generated names) and their versions: the erasure workflow rewrites, expires and deletes them.`));
    return list.combine(remove);
  }

  /**
   * Lets a writer put objects under `errors/<subPrefix>/` (and nowhere else under `errors/`), encrypted
   * with the lake key.
   */
  public grantErrorOutputWrite(grantee: iam.IGrantable, subPrefix: string): iam.Grant {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(subPrefix)) {
      throw new Error(`TraceLake.grantErrorOutputWrite: subPrefix "${subPrefix}" is invalid; expected lower-case letters, digits and dashes`);
    }
    const bucketGrant = this.grantBucketLevel(grantee);
    const objectGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resourceArns: [this.bucket.arnForObjects(`${ERROR_OUTPUT_PREFIX}${subPrefix}/*`)],
    });
    const keyGrant = this.key.grant(grantee, 'kms:GenerateDataKey');
    return bucketGrant.combine(objectGrant).combine(keyGrant);
  }

  private grantBucketLevel(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      resourceArns: [this.bucket.bucketArn],
    });
  }

  private requireTable(tableName: string): void {
    if (!this.tableDefinitions.some((d) => d.name === tableName)) {
      throw new Error(
        `TraceLake: no table "${tableName}" in database ${this.databaseName}; expected one of ${this.tableDefinitions.map((d) => d.name).join(', ')}`,
      );
    }
  }
}

function validateProps(props: TraceLakeProps): void {
  if (!/^[a-z][a-z0-9_]{0,254}$/.test(props.databaseName)) {
    throw new Error(`TraceLake: databaseName "${props.databaseName}" is invalid; expected lower-case letters, digits and underscores, starting with a letter`);
  }
  checkDays('errorOutputRetentionDays', props.errorOutputRetentionDays, 1, MAX_ERROR_RETENTION_DAYS);
  checkDays('accessLogRetentionDays', props.accessLogRetentionDays, 1, 3650);
  if (props.noncurrentVersionRetentionDays !== undefined) {
    checkDays('noncurrentVersionRetentionDays', props.noncurrentVersionRetentionDays, 1, 365);
  }
}

function checkDays(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`TraceLake: ${name} is ${value}; expected a whole number of days from ${min} to ${max}`);
  }
}
