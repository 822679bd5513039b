/**
 * The stateful stack of one stage: the trace lake and its pseudonymisation key, the gate/score function, the trace and feedback
 * delivery streams, the feedback API, and the loop's stateful parts (artifact bucket, GPU-hour ledger,
 * approvals and deployments tables, model package groups). Composition only; every decision lives in a
 * construct or in the typed stage configuration.
 */
import { CfnElement, CfnOutput, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';
import { registryKeyOf, type StageConfig } from '../../config/schema';
import { CONFIDENCE_SCORES_TABLE, FEEDBACK_TABLE, GATE_AUDIT_TABLE, JUDGMENTS_TABLE, REVIEWS_TABLE, TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { LEDGER_KEYS } from '../../lambdas/pipeline/budget/dynamodb-ledger';
import { ArtifactStore } from '../constructs/artifact-store';
import { FeedbackApi } from '../constructs/feedback-api';
import { IcebergDeliveryStream } from '../constructs/iceberg-delivery-stream';
import { ModelRegistry } from '../constructs/model-registry';
import { PipelineTables } from '../constructs/pipeline-tables';
import { PseudonymisationKey } from '../constructs/pseudonymisation-key';
import { TraceGateFunction } from '../constructs/trace-gate-function';
import { TraceLake } from '../constructs/trace-lake';
import { LakeTableMaintenance } from '../constructs/lake-table-maintenance';
import { denyRetentionBreakingActions, RetentionGuard } from '../constructs/retention-guard';

/** Properties of {@link DataStack}. */
export interface DataStackProps extends StackProps {
  /** The validated stage configuration. */
  readonly config: StageConfig;
  /** The validated reward policy named by `config.rewardPolicyVersion`. */
  readonly rewardPolicy: RewardPolicy;
}

/**
 * Logical ids of the stateful resources. They are pinned so that moving or renaming constructs can
 * never make CloudFormation replace (and so empty) the key, the buckets, the catalog or the streams.
 */
export const PINNED_LOGICAL_IDS = {
  lakeKey: 'LakeKey',
  pseudonymisationKey: 'PseudonymisationKey',
  lakeBucket: 'LakeBucket',
  accessLogBucket: 'LakeAccessLogBucket',
  database: 'LakeDatabase',
  tracesTable: 'LakeTableTraces',
  gateAuditTable: 'LakeTableGateAudit',
  feedbackTable: 'LakeTableFeedback',
  judgmentsTable: 'LakeTableJudgments',
  reviewsTable: 'LakeTableReviews',
  confidenceScoresTable: 'LakeTableConfidenceScores',
  traceStream: 'TraceDeliveryStream',
  feedbackStream: 'FeedbackDeliveryStream',
  judgmentStream: 'JudgmentDeliveryStream',
  reviewStream: 'ReviewDeliveryStream',
  artifactBucket: 'ArtifactBucket',
  gpuLedgerTable: 'GpuLedgerTable',
  approvalsTable: 'ApprovalsTable',
  deploymentsTable: 'DeploymentsTable',
  reviewQueueTable: 'ReviewQueueTable',
  erasureLedgerTable: 'ErasureLedgerTable',
  jobsTable: 'JobsTable',
  retentionAlertKey: 'RetentionAlertKey',
} as const;

/** Pinned logical id of a family's model package group, e.g. `ModelPackageGroupQwen3`. */
export function modelPackageGroupLogicalId(family: string): string {
  return `ModelPackageGroup${family
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
    .join('')}`;
}

/**
 * Concurrency reserved for the gate function in production. Throughput is bounded by Comprehend
 * (20 DetectPiiEntities TPS x 100 KB ~ 2 MB/s of text) and by Direct PUT (1-5 MiB/s per stream): at
 * 3 MB per invocation and up to ~5 s each, 5 concurrent invocations cover it; more would only turn into
 * Comprehend throttling. See docs/decisions.md.
 */
export const GATE_RESERVED_CONCURRENCY = 5;

/** The data stack of one stage. */
export class DataStack extends Stack {
  /** KMS key, buckets, Glue database and Iceberg tables. */
  public readonly lake: TraceLake;
  /** Glue table optimizers (compaction, snapshot retention, orphan files) on every lake table. */
  public readonly tableMaintenance: LakeTableMaintenance;
  /** The key of the lake's keyed pseudonyms (session ids, data-subject ids). */
  public readonly pseudonymisationKey: PseudonymisationKey;
  /** The gate/score transformation. */
  public readonly gate: TraceGateFunction;
  /** Direct PUT stream into `traces` and `gate_audit`, through the gate. */
  public readonly traceStream: IcebergDeliveryStream;
  /** Direct PUT stream into `feedback`. */
  public readonly feedbackStream: IcebergDeliveryStream;
  /** Direct PUT stream into `judgments`, written by the daily curation workflow. */
  public readonly judgmentStream: IcebergDeliveryStream;
  /** Direct PUT stream into `reviews`, written when a person submits a calibration review. */
  public readonly reviewStream: IcebergDeliveryStream;
  /** `POST /agents/{agent-id}/feedback`. */
  public readonly feedbackApi: FeedbackApi;
  /** The training pipeline's artifact bucket: datasets (lineage), checkpoints, models, eval output. */
  public readonly artifacts: ArtifactStore;
  /** The GPU-hour ledger and the approval records. */
  public readonly pipelineTables: PipelineTables;
  /** One SageMaker model package group per target model family. */
  public readonly modelRegistry: ModelRegistry;
  /** Registered versions and artifacts nobody but the audited break-glass role may remove. */
  public readonly retentionGuard: RetentionGuard;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    const { config, rewardPolicy, ...stackProps } = props;
    super(scope, id, {
      description: `Self-Improving Agent Loop data stack (${config.stage}, ${config.dataBoundary} boundary): trace lake, Firehose streams, gate/score function, feedback API, pipeline artifacts, ledger, approvals, deployments, model registry`,
      terminationProtection: config.production,
      ...stackProps,
    });
    const logRemovalPolicy = config.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.lake = new TraceLake(this, 'Lake', {
      databaseName: config.lake.databaseName,
      production: config.production,
      errorOutputRetentionDays: config.lake.errorOutputRetentionDays,
      accessLogRetentionDays: config.lake.accessLogRetentionDays,
    });

    // Compaction, snapshot expiry and orphan-file deletion on every lake table (stage config).
    this.tableMaintenance = new LakeTableMaintenance(this, 'TableMaintenance', { lake: this.lake, settings: config.lake.tableMaintenance });

    this.pseudonymisationKey = new PseudonymisationKey(this, 'PseudonymisationKey', {
      stage: config.stage,
      encryptionKey: this.lake.key,
      removalPolicy: config.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.gate = new TraceGateFunction(this, 'Gate', {
      stage: config.stage,
      dataBoundary: config.dataBoundary,
      pii: config.pii,
      agents: config.agents,
      targetModels: config.targetModels,
      defaultLatencySloMs: config.defaultLatencySloMs,
      operations: config.operations,
      rewardPolicy,
      databaseName: config.lake.databaseName,
      tracesTable: TRACES_TABLE.name,
      auditTable: GATE_AUDIT_TABLE.name,
      metricsNamespace: config.metricsNamespace,
      pseudonymisationKey: this.pseudonymisationKey.secret,
      lake: { hashAgentIds: config.lake.hashAgentIds === true },
      // Dev accounts often have a 10-execution account limit, under which any reservation fails to deploy.
      reservedConcurrentExecutions: config.production ? GATE_RESERVED_CONCURRENCY : undefined,
      logRemovalPolicy,
    });

    this.traceStream = new IcebergDeliveryStream(this, 'TraceStream', {
      lake: this.lake,
      label: 'traces',
      tableNames: [TRACES_TABLE.name, GATE_AUDIT_TABLE.name],
      bufferIntervalSeconds: config.lake.delivery.bufferIntervalSeconds,
      bufferSizeMiB: config.lake.delivery.bufferSizeMiB,
      processor: {
        function: this.gate.function,
        bufferIntervalSeconds: config.lake.processor.bufferIntervalSeconds,
        bufferSizeMiB: config.lake.processor.bufferSizeMiB,
      },
      logRemovalPolicy,
    });

    this.feedbackStream = new IcebergDeliveryStream(this, 'FeedbackStream', {
      lake: this.lake,
      label: 'feedback',
      tableNames: [FEEDBACK_TABLE.name],
      bufferIntervalSeconds: config.lake.delivery.bufferIntervalSeconds,
      bufferSizeMiB: config.lake.delivery.bufferSizeMiB,
      logRemovalPolicy,
    });

    // Judgments and reviews are rows our own code builds (no gate in front): the same Direct PUT path as
    // feedback, so every lake write lands through Firehose's Iceberg commit and its error output.
    this.judgmentStream = new IcebergDeliveryStream(this, 'JudgmentStream', {
      lake: this.lake,
      label: 'judgments',
      tableNames: [JUDGMENTS_TABLE.name],
      bufferIntervalSeconds: config.lake.delivery.bufferIntervalSeconds,
      bufferSizeMiB: config.lake.delivery.bufferSizeMiB,
      logRemovalPolicy,
    });
    this.reviewStream = new IcebergDeliveryStream(this, 'ReviewStream', {
      lake: this.lake,
      label: 'reviews',
      tableNames: [REVIEWS_TABLE.name],
      bufferIntervalSeconds: config.lake.delivery.bufferIntervalSeconds,
      bufferSizeMiB: config.lake.delivery.bufferSizeMiB,
      logRemovalPolicy,
    });

    this.feedbackApi = new FeedbackApi(this, 'FeedbackApi', {
      stream: this.feedbackStream,
      stage: config.stage,
      metricsNamespace: config.metricsNamespace,
      ...(config.lake.hashAgentIds === true ? { agentPseudonymisationKey: this.pseudonymisationKey.secret } : {}),
      logRemovalPolicy,
    });

    // The training pipeline's stateful parts: datasets are lineage, the ledger and approvals are audit
    // evidence, the registry records which model may serve. All encrypted with the lake key.
    this.artifacts = new ArtifactStore(this, 'Artifacts', {
      key: this.lake.key,
      accessLogBucket: this.lake.accessLogBucket,
      production: config.production,
    });
    this.pipelineTables = new PipelineTables(this, 'PipelineTables', {
      key: this.lake.key,
      production: config.production,
      ledgerKeys: ledgerKeySchema(),
    });
    this.modelRegistry = new ModelRegistry(this, 'ModelRegistry', {
      stage: config.stage,
      families: [...new Set(config.targetModels.map(registryKeyOf))],
      production: config.production,
    });

    this.retentionGuard = new RetentionGuard(this, 'RetentionGuard', {
      stage: config.stage,
      artifacts: this.artifacts,
      production: config.production,
      alertEmails: config.approvals.notificationEmails,
    });
    denyRetentionBreakingActions(this, this.artifacts.bucket.bucketArn);

    pin(this.lake.key, PINNED_LOGICAL_IDS.lakeKey);
    pin(this.pseudonymisationKey.secret, PINNED_LOGICAL_IDS.pseudonymisationKey);
    pin(this.lake.bucket, PINNED_LOGICAL_IDS.lakeBucket);
    pin(this.lake.accessLogBucket, PINNED_LOGICAL_IDS.accessLogBucket);
    pin(this.lake.database, PINNED_LOGICAL_IDS.database);
    pin(requireTable(this.lake, TRACES_TABLE.name), PINNED_LOGICAL_IDS.tracesTable);
    pin(requireTable(this.lake, GATE_AUDIT_TABLE.name), PINNED_LOGICAL_IDS.gateAuditTable);
    pin(requireTable(this.lake, FEEDBACK_TABLE.name), PINNED_LOGICAL_IDS.feedbackTable);
    pin(requireTable(this.lake, JUDGMENTS_TABLE.name), PINNED_LOGICAL_IDS.judgmentsTable);
    pin(requireTable(this.lake, REVIEWS_TABLE.name), PINNED_LOGICAL_IDS.reviewsTable);
    pin(requireTable(this.lake, CONFIDENCE_SCORES_TABLE.name), PINNED_LOGICAL_IDS.confidenceScoresTable);
    pin(this.traceStream.deliveryStream, PINNED_LOGICAL_IDS.traceStream);
    pin(this.feedbackStream.deliveryStream, PINNED_LOGICAL_IDS.feedbackStream);
    pin(this.judgmentStream.deliveryStream, PINNED_LOGICAL_IDS.judgmentStream);
    pin(this.reviewStream.deliveryStream, PINNED_LOGICAL_IDS.reviewStream);
    pin(this.artifacts.bucket, PINNED_LOGICAL_IDS.artifactBucket);
    pin(this.pipelineTables.ledgerTable, PINNED_LOGICAL_IDS.gpuLedgerTable);
    pin(this.pipelineTables.approvalsTable, PINNED_LOGICAL_IDS.approvalsTable);
    pin(this.pipelineTables.deploymentsTable, PINNED_LOGICAL_IDS.deploymentsTable);
    pin(this.pipelineTables.reviewQueueTable, PINNED_LOGICAL_IDS.reviewQueueTable);
    pin(this.pipelineTables.erasureLedgerTable, PINNED_LOGICAL_IDS.erasureLedgerTable);
    pin(this.pipelineTables.jobsTable, PINNED_LOGICAL_IDS.jobsTable);
    pin(this.retentionGuard.alertKey, PINNED_LOGICAL_IDS.retentionAlertKey);
    for (const [family, group] of Object.entries(this.modelRegistry.groups)) pin(group, modelPackageGroupLogicalId(family));

    Tags.of(this).add('project', 'self-improving-agent-loop');
    Tags.of(this).add('stage', config.stage);
    Tags.of(this).add('data-boundary', config.dataBoundary);
    // Lets account guardrails (SCPs, backup plans) single out the stateful stack's resources.
    Tags.of(this).add('stateful', 'true');

    new CfnOutput(this, 'TraceStreamName', {
      value: this.traceStream.deliveryStreamName,
      description: 'Firehose stream producers send traces to (PutRecord / PutRecordBatch)',
    });
    new CfnOutput(this, 'FeedbackEndpoint', {
      value: this.feedbackApi.api.urlForPath('/agents/{agent-id}/feedback'),
      description: 'POST agent feedback here (SigV4, IAM authorization)',
    });
    new CfnOutput(this, 'LakeBucketName', { value: this.lake.bucket.bucketName, description: 'Iceberg data (tables/) and error output (errors/)' });
    new CfnOutput(this, 'LakeDatabaseName', { value: this.lake.database.ref, description: 'Glue database of the Iceberg tables' });
    new CfnOutput(this, 'ArtifactBucketName', { value: this.artifacts.bucket.bucketName, description: 'Training pipeline artifacts: runs/<runId>/ (dataset, checkpoints, model, eval), golden-sets/' });
    new CfnOutput(this, 'RetentionBreakGlassRoleArn', {
      value: this.retentionGuard.breakGlassRole.roleArn,
      description: 'The only role that may remove an old registered version (MFA, audited): sial retention remove',
    });
    new CfnOutput(this, 'RetentionOperatorDenyPolicyArn', {
      value: this.retentionGuard.operatorDenyPolicy.managedPolicyArn,
      description: 'Attach to operator roles / permission sets: no registry version or registered artifact removed outside break-glass',
    });
    // The tables have generated names; operators reach them through these outputs (README, Operations).
    new CfnOutput(this, 'ApprovalsTableName', {
      value: this.pipelineTables.approvalsTable.tableName,
      description: 'Approval records: `sial approvals --table` (or $SIAL_APPROVALS_TABLE)',
    });
    new CfnOutput(this, 'DeploymentsTableName', {
      value: this.pipelineTables.deploymentsTable.tableName,
      description: 'Current version, rollout claims and rollback records per target model: `sial rollout --table` (or $SIAL_DEPLOYMENTS_TABLE)',
    });
    new CfnOutput(this, 'ReviewQueueTableName', {
      value: this.pipelineTables.reviewQueueTable.tableName,
      description: 'The weekly judge-calibration review queue (ids and strata only; open items in the open-items index)',
    });
    new CfnOutput(this, 'GpuLedgerTableName', {
      value: this.pipelineTables.ledgerTable.tableName,
      description: "GPU-hours per stage and month (the budget's ledger; FinOps reads and corrects it here)",
    });
    new CfnOutput(this, 'JobsTableName', {
      value: this.pipelineTables.jobsTable.tableName,
      description: 'One record per Batch job of a training run (status history, attempts, error name): sial jobs --table <this> (or $SIAL_JOBS_TABLE)',
    });
    new CfnOutput(this, 'ErasureLedgerTableName', {
      value: this.pipelineTables.erasureLedgerTable.tableName,
      description: 'Erasure ledger: sial erase --ledger --ledger-table <this>',
    });
  }
}

/**
 * The ledger's key attributes, read off the budget Lambdas' own key builder (a month item's key), so
 * the table and the code that reads it cannot disagree: `pk` and `sk`, both strings.
 */
function ledgerKeySchema(): { partitionKey: string; sortKey: string } {
  const [partitionKey, sortKey, ...rest] = Object.keys(LEDGER_KEYS.month('stage', '2000-01'));
  if (partitionKey === undefined || sortKey === undefined || rest.length > 0) {
    throw new Error(`The GPU ledger key has attributes ${Object.keys(LEDGER_KEYS.month('stage', '2000-01')).join(', ')}; expected a partition and a sort key`);
  }
  return { partitionKey, sortKey };
}

/** Overrides the logical id of a construct's CloudFormation resource (itself, or its default child). */
function pin(construct: IConstruct, logicalId: string): void {
  const element = construct instanceof CfnElement ? construct : construct.node.defaultChild;
  if (!(element instanceof CfnElement)) {
    throw new Error(`Cannot pin the logical id of ${construct.node.path}: it has no CloudFormation resource`);
  }
  element.overrideLogicalId(logicalId);
}

function requireTable(lake: TraceLake, name: string): IConstruct {
  const table = lake.tables[name];
  if (table === undefined) throw new Error(`The lake declares no "${name}" table; expected ${Object.keys(lake.tables).join(', ')}`);
  return table;
}
