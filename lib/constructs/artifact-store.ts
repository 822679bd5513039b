/**
 * The artifact bucket of the training pipeline: datasets, checkpoints, trained models and eval output
 * of every run, plus Athena's query results. Datasets are lineage (which traces trained which model,
 * the answer an erasure request needs), so the bucket is stateful and lives in the data stack.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResourceToken } from './private/acknowledge';

/** Properties of {@link ArtifactStore}. */
export interface ArtifactStoreProps {
  /** Customer managed key the bucket is encrypted with (the lake key: the bucket holds masked trace content). */
  readonly key: kms.IKey;
  /** Target of the bucket's server access logs (an SSE-S3 bucket). */
  readonly accessLogBucket: s3.IBucket;
  /** Production buckets are retained with the stack; other stages are emptied and deleted. */
  readonly production: boolean;

  /**
   * Key prefix of the bucket's access logs inside {@link accessLogBucket}.
   *
   * @default 'artifact-bucket/'
   */
  readonly accessLogPrefix?: string;

  /**
   * Days Athena query results are kept. They are intermediate copies of dataset rows.
   *
   * @default 7
   */
  readonly queryResultRetentionDays?: number;

  /**
   * Days a noncurrent object version is kept; bounds how long erased dataset rows survive in old versions.
   *
   * @default 30
   */
  readonly noncurrentVersionRetentionDays?: number;
}

/** Key prefix of everything a run writes: `runs/<runId>/` (dataset, checkpoints, model, eval, metrics). */
export const RUNS_PREFIX = 'runs/';
/** Key prefix of the eval golden sets the eval job reads. */
export const GOLDEN_SETS_PREFIX = 'golden-sets/';
/** The folder of a run (`runs/<runId>/`) the dataset build writes into (validate-request's run URIs). */
export const DATASET_FOLDER = 'dataset/';
/** Key prefix of Athena query results (the dataset build's workgroup output location). */
export const QUERY_RESULTS_PREFIX = 'athena-results/';
/** Key prefix of the judge's daily candidate files (`curation/<execution>/candidates/`). */
export const CURATION_PREFIX = 'curation/';
export const REPORTS_PREFIX = 'reports/';
/** Days the candidate files are kept: long enough to look into a failed run, then gone (they copy lake text). */
export const CURATION_FILE_RETENTION_DAYS = 7;

const PREFIX_PATTERN = /^[a-z0-9][a-z0-9-]*\/$/;

/** Why access to a whole prefix (rather than named objects) is the narrowest possible grant. */
const PREFIX_REASONS: Readonly<Record<string, string>> = {
  [RUNS_PREFIX]: 'Objects under runs/ only: each execution writes its own runs/<runId>/ folder, and run ids exist only at run time.',
  [GOLDEN_SETS_PREFIX]: 'Objects under golden-sets/ only: the eval job reads the golden set of the target model it evaluates, chosen at run time.',
  [QUERY_RESULTS_PREFIX]: 'Objects under athena-results/ only: Athena names each query result object after its query execution id.',
  [CURATION_PREFIX]: 'Objects under curation/ only: each curation execution writes its own curation/<execution>/ folder, named at run time.',
  [REPORTS_PREFIX]: 'Objects under reports/ only: the daily operating reports write reports/<date>/, named at run time.',
};

/**
 * A versioned SSE-KMS bucket (TLS only, public access blocked, access-logged) with lifecycle rules for
 * query results and old versions. Consumers get access per key prefix with {@link grantRead} and
 * {@link grantWrite}; the KMS grant comes with them.
 */
export class ArtifactStore extends Construct {
  /** The artifact bucket. */
  public readonly bucket: s3.Bucket;
  /** The key the bucket is encrypted with. */
  public readonly key: kms.IKey;
  /** `runs/`: one `runs/<runId>/` folder per pipeline execution. */
  public readonly runsPrefix: string = RUNS_PREFIX;
  /** `golden-sets/`: the eval job's golden sets. */
  public readonly goldenSetsPrefix: string = GOLDEN_SETS_PREFIX;
  /** `athena-results/`: Athena query output, expired after `queryResultRetentionDays`. */
  public readonly queryResultsPrefix: string = QUERY_RESULTS_PREFIX;
  /** The judge's candidate files. */
  public readonly curationPrefix: string = CURATION_PREFIX;
  /** The daily operating reports, one `reports/<date>/` folder per day. */
  public readonly reportsPrefix: string = REPORTS_PREFIX;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps) {
    super(scope, id);
    const queryResultRetentionDays = props.queryResultRetentionDays ?? 7;
    const noncurrentDays = props.noncurrentVersionRetentionDays ?? 30;
    checkDays('queryResultRetentionDays', queryResultRetentionDays, 1, 365);
    checkDays('noncurrentVersionRetentionDays', noncurrentDays, 1, 365);
    const accessLogPrefix = props.accessLogPrefix ?? 'artifact-bucket/';
    if (!PREFIX_PATTERN.test(accessLogPrefix)) {
      throw new Error(`ArtifactStore: accessLogPrefix "${accessLogPrefix}" is invalid; expected lower-case letters, digits and dashes ending in "/"`);
    }

    this.key = props.key;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogBucket,
      serverAccessLogsPrefix: accessLogPrefix,
      lifecycleRules: [
        {
          // Query results are copies of dataset rows that the dataset build already wrote under runs/.
          id: 'expire-query-results',
          prefix: QUERY_RESULTS_PREFIX,
          expiration: Duration.days(queryResultRetentionDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          // The judge's candidate files copy masked lake text for one run's judging: kept a week, no longer.
          id: 'expire-curation-files',
          prefix: CURATION_PREFIX,
          expiration: Duration.days(CURATION_FILE_RETENTION_DAYS),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          // Checkpoints are overwritten many times per run; old versions must not pile up for ever, and
          // erased dataset rows must not outlive GDPR's one-month window in old versions.
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(noncurrentDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
      removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !props.production,
    });
  }

  /** Lets `grantee` list the bucket and read (and decrypt) objects under `prefix`. */
  public grantRead(grantee: iam.IGrantable, prefix: string): iam.Grant {
    checkPrefix(prefix);
    const objects = iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.bucket.arnForObjects(`${prefix}*`)] });
    this.acknowledgePrefix(grantee, prefix);
    return this.grantBucketLevel(grantee).combine(objects).combine(this.key.grantDecrypt(grantee));
  }

  /** Lets `grantee` write (and encrypt) objects under `prefix`; overwrites included, deletes not. */
  public grantWrite(grantee: iam.IGrantable, prefix: string): iam.Grant {
    checkPrefix(prefix);
    const objects = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resourceArns: [this.bucket.arnForObjects(`${prefix}*`)],
    });
    this.acknowledgePrefix(grantee, prefix);
    return this.grantBucketLevel(grantee).combine(objects).combine(this.key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt'));
  }

  /**
   * Lets `grantee` write, read back (to hash) and delete (the build's working tables) the dataset files of
   * any run and nothing else of a run: objects under `runs/<runId>/dataset/`. The dataset build's Athena
   * queries write with its permissions, so this is also the only run folder its UNLOAD and CTAS can reach.
   */
  public grantDatasetWrite(grantee: iam.IGrantable): iam.Grant {
    const datasets = this.bucket.arnForObjects(`${RUNS_PREFIX}*/${DATASET_FOLDER}*`);
    const objects = iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject', 's3:DeleteObject'], resourceArns: [datasets] });
    const principal = grantee.grantPrincipal;
    if (principal instanceof Construct) {
      acknowledgeWildcardResourceToken(principal, datasets, 'Dataset files of a run only (runs/<runId>/dataset/...): the run id and the files the query engine writes are named at run time.');
    }
    return this.grantBucketLevel(grantee).combine(objects).combine(this.key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt'));
  }

  /** `s3://` URI of a key prefix. */
  public uriOf(prefix: string): string {
    checkPrefix(prefix);
    return this.bucket.s3UrlForObject(prefix);
  }

  /** Records why the `<prefix>*` wildcard is needed, on the grantee's role (cdk-nag IAM5). */
  private acknowledgePrefix(grantee: iam.IGrantable, prefix: string): void {
    const principal = grantee.grantPrincipal;
    if (!(principal instanceof Construct)) return;
    acknowledgeWildcardResourceToken(
      principal,
      this.bucket.arnForObjects(`${prefix}*`),
      PREFIX_REASONS[prefix] ?? `Objects under ${prefix} only: the objects are named at run time.`,
    );
  }

  private grantBucketLevel(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetBucketLocation', 's3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
    });
  }
}

function checkPrefix(prefix: string): void {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(`ArtifactStore: prefix "${prefix}" is invalid; expected a top-level folder such as "${RUNS_PREFIX}" (lower-case, ending in "/")`);
  }
}

function checkDays(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`ArtifactStore: ${name} is ${value}; expected a whole number of days from ${min} to ${max}`);
  }
}
