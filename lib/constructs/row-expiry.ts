/**
 * The lake's row retention, enforced: a daily state machine that runs one Athena `DELETE` per table
 * with a retention (`lake.rowRetentionDays`, stepfunctions/row-expiry.ts) and its EventBridge Scheduler
 * schedule (off unless `schedules.enabled`). No Lambda. The rows' bytes are then physically removed by
 * the Glue table optimizers (lake-table-maintenance.ts: compaction rewrites the files without them,
 * snapshot retention expires the snapshots that still reference the old files).
 *
 * Least privilege: the state machine's role may run queries in the stage's workgroup only, read and
 * write that workgroup's result prefix, and delete rows of exactly the tables with a retention (Glue
 * update of those tables, read and write of their files, the lake key); it deletes no S3 object.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RowRetentionRule } from '../../lambdas/shared/row-retention';
import { buildRowExpiryDefinition } from '../../stepfunctions/row-expiry';
import type { ArtifactStore } from './artifact-store';
import { failedExecutionsAlarm } from './private/failed-executions-alarm';
import { createLambdaStateMachine } from './private/state-machine';
import { scheduleStateMachine } from './private/state-machine-schedule';
import type { TraceLake } from './trace-lake';

/** When the expiry runs where the stage sets no `schedules.rowExpiry`: 04:30 every day. */
export const DEFAULT_ROW_EXPIRY_SCHEDULE = 'cron(30 4 * * ? *)';

export interface RowExpiryProps {
  readonly stage: string;
  readonly lake: TraceLake;
  readonly artifacts: ArtifactStore;
  /** The stage's Athena workgroup (encrypted results under athena-results/, enforced). */
  readonly workGroupName: string;
  /** At least one (rowRetentionRules of `lake.rowRetentionDays`). */
  readonly rules: readonly RowRetentionRule[];
  readonly schedule: string;
  readonly timezone: string;
  readonly schedulesEnabled: boolean;
  /** Where a failed expiry is announced (the stage's notifications topic). */
  readonly failureTopic: sns.ITopic;
  readonly logRetention?: logs.RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class RowExpiry extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly schedule: scheduler.Schedule;
  /** In alarm when an expiry execution failed: rows past their retention are still in the lake. */
  public readonly failedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RowExpiryProps) {
    super(scope, id);
    const { lake, artifacts, rules } = props;
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;

    const definition = buildRowExpiryDefinition(this, { databaseName: lake.databaseName, workGroupName: props.workGroupName, rules });
    this.stateMachine = createLambdaStateMachine(this, {
      comment: `Self-Improving Agent Loop ${props.stage}: row expiry of the lake (${rules.map((r) => `${r.table} ${r.days} d`).join(', ')})`,
      definition,
      functions: {},
      logRetention,
      logRemovalPolicy,
    });
    const role = this.stateMachine.role;
    // The native integration starts, polls and (on a timeout) stops the query; it resolves the catalog.
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution', 'athena:GetWorkGroup', 'athena:GetDataCatalog'],
      resourceArns: [
        stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workGroupName }),
        stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' }),
      ],
    });
    artifacts.grantRead(role, artifacts.queryResultsPrefix);
    artifacts.grantWrite(role, artifacts.queryResultsPrefix);
    // Athena's DML acts with the caller's permissions on the tables and their files.
    lake.grantRowDelete(role, rules.map((r) => r.table));

    this.schedule = scheduleStateMachine(this, {
      stateMachine: this.stateMachine,
      roleDescription: `EventBridge Scheduler: starts ${props.stage} row expiry executions`,
      description: `${props.stage}: deletes lake rows older than their table's retention`,
      expression: props.schedule,
      timezone: props.timezone,
      enabled: props.schedulesEnabled,
    });

    // A retention that silently stops working breaks the promise as surely as none: a failed run is
    // announced, not only left in the execution history. The next day's run retries what was left.
    this.failedAlarm = failedExecutionsAlarm(
      this,
      this.stateMachine,
      props.failureTopic,
      `${props.stage}: a row expiry execution failed; rows past their retention are still in the lake. See the execution's failed statement, fix the cause, and start the state machine again (or wait for the next day's run).`,
    );
  }
}
