/**
 * The loop's durable records: the GPU-hour ledger (what each stage spent per month, the FinOps
 * evidence), the approvals (who decided what, when; the task token while a run waits) and the
 * deployments (which version serves each target model, which stay deployable, the active rollout and
 * every rollback record), the judge-calibration review queue (which sampled traces wait for a person),
 * the erasure ledger (each erasure request, its deadline and its verified deletion) and the job records
 * (each Batch job of a training run and how it ended). All are
 * stateful and live in the data stack; the loop stack's functions receive them as props.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ERASURE_LEDGER_KEY } from '../../lambdas/erasure/aws/dynamodb-erasure-ledger';
import { REVIEW_QUEUE_TABLE_SCHEMA } from '../../lambdas/judge/calibration/review-item';
import { APPROVALS_TABLE_SCHEMA } from '../../lambdas/pipeline/approvals/approval-record';
import { JOB_RECORDS_TABLE_SCHEMA } from '../../lambdas/pipeline/jobs/job-record';

/** Key schema of a table (attribute names of type string). */
export interface TableKeySchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
}

/** Properties of {@link PipelineTables}. */
export interface PipelineTablesProps {
  /** Customer managed key both tables are encrypted with. */
  readonly key: kms.IKey;
  /** Production tables are retained, deletion-protected and survive the stack; other stages delete them. */
  readonly production: boolean;
  /** Key schema of the GPU-hour ledger, as the budget Lambdas read and write it. */
  readonly ledgerKeys: TableKeySchema;

  /**
   * Key schema of the deployments table, as the rollout's DeploymentStore adapter reads and writes it.
   *
   * @default { partitionKey: 'pk', sortKey: 'sk' }
   */
  readonly deploymentKeys?: TableKeySchema;

  /**
   * Key schema, TTL attribute and waiting index of the approvals table, as the approvals Lambdas use them.
   *
   * @default APPROVALS_TABLE_SCHEMA (lambdas/pipeline/approvals/approval-record.ts)
   */
  readonly approvalsSchema?: typeof APPROVALS_TABLE_SCHEMA;
}

const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

/** Key schema of the deployments table unless the caller names another. */
export const DEFAULT_DEPLOYMENT_KEYS: TableKeySchema = { partitionKey: 'pk', sortKey: 'sk' };

/**
 * Six on-demand tables, SSE-KMS with the given key and point-in-time recovery. The approvals table
 * expires records through DynamoDB TTL (attribute `ttl`, set by the Lambdas well after expiry so that
 * decisions stay auditable) and has the sparse `waiting-by-stage` index the CLI lists pending
 * approvals from.
 */
export class PipelineTables extends Construct {
  /** GPU-hours per stage and month, and per run. */
  public readonly ledgerTable: dynamodb.Table;
  /** Approval records. */
  public readonly approvalsTable: dynamodb.Table;
  /** Name of the approvals table's waiting index. */
  public readonly approvalsWaitingIndexName: string;
  /**
   * Deployment state per target model (current version, the deployable versions kept for rollback, the
   * active rollout) and rollback records: what the rollout, the alarm rollback and game days agree on.
   */
  public readonly deploymentsTable: dynamodb.Table;
  /**
   * The weekly review queue of judge calibration: one item per sampled judged trace (ids, week and score
   * band; no content), open until a person reviewed it. The sparse `open-items` index lists the open ones.
   */
  public readonly reviewQueueTable: dynamodb.Table;
  /**
   * The erasure ledger: one item per erasure request (the pseudonymised subject, never the raw id), its
   * deadline and the verified deletion; the evidence a data protection officer asks for.
   */
  public readonly erasureLedgerTable: dynamodb.Table;
  /**
   * The job records: one item per Batch job of a training run (its kind, run, target, dataset, output,
   * status history, attempts, error name), written by the training pipeline's state machine and read by
   * `sial jobs`.
   */
  public readonly jobsTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: PipelineTablesProps) {
    super(scope, id);
    const approvals = props.approvalsSchema ?? APPROVALS_TABLE_SCHEMA;
    const deployments = props.deploymentKeys ?? DEFAULT_DEPLOYMENT_KEYS;
    for (const [what, name] of [
      ['ledgerKeys.partitionKey', props.ledgerKeys.partitionKey],
      ['ledgerKeys.sortKey', props.ledgerKeys.sortKey],
      ['deploymentKeys.partitionKey', deployments.partitionKey],
      ['deploymentKeys.sortKey', deployments.sortKey],
      ['approvalsSchema.partitionKey', approvals.partitionKey],
      ['approvalsSchema.ttlAttribute', approvals.ttlAttribute],
      ['approvalsSchema.waitingIndex.partitionKey', approvals.waitingIndex.partitionKey],
      ['approvalsSchema.waitingIndex.sortKey', approvals.waitingIndex.sortKey],
    ] as const) {
      if (name !== undefined && !ATTRIBUTE_NAME.test(name)) {
        throw new Error(`PipelineTables: ${what} is "${name}"; expected a DynamoDB attribute name (letters, digits, underscores)`);
      }
    }

    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // A production ledger, approval or deployment history is audit evidence: never deleted by a stack operation.
      deletionProtection: props.production,
      removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    } as const;

    this.ledgerTable = new dynamodb.Table(this, 'Ledger', {
      ...common,
      partitionKey: { name: props.ledgerKeys.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: props.ledgerKeys.sortKey === undefined ? undefined : { name: props.ledgerKeys.sortKey, type: dynamodb.AttributeType.STRING },
    });

    this.approvalsTable = new dynamodb.Table(this, 'Approvals', {
      ...common,
      partitionKey: { name: approvals.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: approvals.ttlAttribute,
    });
    this.approvalsWaitingIndexName = approvals.waitingIndex.name;
    this.approvalsTable.addGlobalSecondaryIndex({
      indexName: approvals.waitingIndex.name,
      partitionKey: { name: approvals.waitingIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: approvals.waitingIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    // Rollback records and the current-version pointer decide what serves production: recoverable to any
    // second of the last 35 days, like the other records.
    this.deploymentsTable = new dynamodb.Table(this, 'Deployments', {
      ...common,
      partitionKey: { name: deployments.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: deployments.sortKey === undefined ? undefined : { name: deployments.sortKey, type: dynamodb.AttributeType.STRING },
    });

    // Which items were reviewed is part of the calibration evidence: recoverable like the other records.
    this.reviewQueueTable = new dynamodb.Table(this, 'ReviewQueue', {
      ...common,
      partitionKey: { name: REVIEW_QUEUE_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
    });
    this.reviewQueueTable.addGlobalSecondaryIndex({
      indexName: REVIEW_QUEUE_TABLE_SCHEMA.openIndex.name,
      partitionKey: { name: REVIEW_QUEUE_TABLE_SCHEMA.openIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: REVIEW_QUEUE_TABLE_SCHEMA.openIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.erasureLedgerTable = new dynamodb.Table(this, 'ErasureLedger', {
      ...common,
      partitionKey: { name: ERASURE_LEDGER_KEY, type: dynamodb.AttributeType.STRING },
    });

    // Which jobs ran, how often they were retried and how they ended is the GPU spend's other half of
    // the evidence (the ledger has the hours): recoverable and retained like the other records.
    this.jobsTable = new dynamodb.Table(this, 'Jobs', {
      ...common,
      partitionKey: { name: JOB_RECORDS_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
    });
  }
}
