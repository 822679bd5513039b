/**
 * The right to erasure in a stage: the erasure function and its state machine (stepfunctions/erasure.ts), the alarm on failed
 * executions, and the daily deadline check with its alarm (requests past `erasure.deadlineDays`
 * without a verified deletion). Both alarms go to the stage's notifications topic. The ledger itself
 * (DynamoDB, lake key, PITR) is stateful and lives in the data stack (PipelineTables).
 *
 * Least privilege of the erasure role: Athena on the stage's workgroup and its result prefix; Glue
 * read and update of exactly the lake tables (DELETE, OPTIMIZE, VACUUM and ALTER commit new table
 * metadata); S3 get, put, delete (VACUUM deletes the expired files: without s3:DeleteObject it
 * reports success and deletes nothing) and delete-version on exactly the tables' prefixes, and
 * list-versions on the bucket; the ledger's items; the registry's versions (read, add metadata);
 * read of the runs' dataset manifests. Nothing on `*` but what has no resource-level permissions.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, TimeZone, Validations, type CfnElement } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ERASURE_VACUUM_SNAPSHOT_AGE_SECONDS } from '../../lambdas/erasure/erasure-workflow';
import { ERASURE_ENV, ERASURES_OVERDUE_METRIC, type ErasureSettings } from '../../lambdas/erasure/settings';
import { SUBJECT_TABLES } from '../../lambdas/shared/lake-tables';
import { buildErasureDefinition } from '../../stepfunctions/erasure';
import type { Approvals } from './approvals';
import type { ArtifactStore } from './artifact-store';
import type { ModelRegistry } from './model-registry';
import { acknowledgeWildcardResource } from './private/acknowledge';
import { failedExecutionsAlarm } from './private/failed-executions-alarm';
import { createStepFunctions } from './private/esm-function';
import { PROJECT_ROOT } from './private/esm-function';
import type { TraceLake } from './trace-lake';

/** Seconds waited beyond the VACUUM snapshot age, so the rewritten-away snapshots are surely older. */
const SNAPSHOT_AGE_MARGIN_SECONDS = 60;

export interface ErasureProps {
  readonly stage: string;
  readonly production: boolean;
  readonly deadlineDays: number;
  readonly lake: TraceLake;
  readonly artifacts: ArtifactStore;
  readonly registry: ModelRegistry;
  readonly approvals: Approvals;
  /** The erasure ledger (stateful, so it lives in the data stack with the other records). */
  readonly ledgerTable: dynamodb.ITable;
  /** The stage's Athena workgroup (encrypted results under the artifact store's query-results prefix). */
  readonly workGroupName: string;
  readonly lineage: ErasureSettings['lineage'];
  readonly metricsNamespace: string;
  readonly timezone: string;
  readonly logRetention?: logs.RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class Erasure extends Construct {
  public readonly erasureFunction: nodejs.NodejsFunction;
  /** The erasure role: every grant the workflow holds. */
  public readonly role: iam.Role;
  public readonly deadlineFunction: nodejs.NodejsFunction;
  public readonly stateMachine: sfn.StateMachine;
  public readonly failedAlarm: cloudwatch.Alarm;
  public readonly deadlineAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ErasureProps) {
    super(scope, id);
    const { lake, artifacts, approvals } = props;
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;

    const ledgerTable = props.ledgerTable;

    const tables = SUBJECT_TABLES.map((t) => t.table.name);
    const environment: Record<string, string> = {
      [ERASURE_ENV.ledgerTable]: ledgerTable.tableName,
      [ERASURE_ENV.workGroup]: props.workGroupName,
      [ERASURE_ENV.database]: lake.databaseName,
      [ERASURE_ENV.lakeBucket]: lake.bucket.bucketName,
      [ERASURE_ENV.tablesPrefix]: lake.tablesPrefix,
      [ERASURE_ENV.artifactBucket]: artifacts.bucket.bucketName,
      [ERASURE_ENV.deadlineDays]: String(props.deadlineDays),
      [ERASURE_ENV.lineage]: JSON.stringify(props.lineage),
      POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
    };
    const { functions, roles } = createStepFunctions(
      this,
      {
        erase: {
          entry: path.join(PROJECT_ROOT, 'lambdas/erasure/handler.ts'),
          description: `${props.stage}: erasure steps (ledger, Athena DELETE/OPTIMIZE/VACUUM, S3 version expiry, verification, lineage flags)`,
          memorySize: 512,
          timeout: Duration.minutes(15),
          environment: { ...environment, POWERTOOLS_SERVICE_NAME: 'erasure' },
        },
        deadline: {
          entry: path.join(PROJECT_ROOT, 'lambdas/erasure/deadline-handler.ts'),
          description: `${props.stage}: erasure deadline check: requests past ${props.deadlineDays} days without a verified deletion`,
          memorySize: 256,
          timeout: Duration.minutes(2),
          environment: { [ERASURE_ENV.ledgerTable]: ledgerTable.tableName, POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace, POWERTOOLS_SERVICE_NAME: 'erasure-deadline' },
        },
      },
      { logRetention, logRemovalPolicy },
    );
    this.erasureFunction = functions.erase;
    this.deadlineFunction = functions.deadline;
    this.role = roles.erase;

    ledgerTable.grant(this.role, 'dynamodb:GetItem', 'dynamodb:PutItem');
    ledgerTable.encryptionKey?.grant(this.role, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
    ledgerTable.grant(roles.deadline, 'dynamodb:Scan');
    ledgerTable.encryptionKey?.grantDecrypt(roles.deadline);

    const workGroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workGroupName });
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
      resourceArns: [workGroupArn],
    });
    artifacts.grantRead(this.role, artifacts.queryResultsPrefix);
    artifacts.grantWrite(this.role, artifacts.queryResultsPrefix);
    // Athena's DML and maintenance act with the caller's permissions on the tables and their files.
    lake.grantIcebergWrite(this.role, tables);
    lake.grantVersionExpiry(this.role, tables);
    props.registry.grantFlagVersions(this.role);
    artifacts.grantRead(this.role, artifacts.runsPrefix);
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'sagemaker:ListModelPackages and the X-Ray actions added for active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) support no resource-level permissions; nothing else is on *.',
    });

    const definition = buildErasureDefinition(this, {
      erasureFunction: this.erasureFunction,
      alarmTopic: approvals.notificationsTopic,
      snapshotAgeWait: Duration.seconds(ERASURE_VACUUM_SNAPSHOT_AGE_SECONDS + SNAPSHOT_AGE_MARGIN_SECONDS),
    });
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: `Self-Improving Agent Loop ${props.stage}: erasure of a data subject, session or traces from every lake table, verified`,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      tracingEnabled: true,
      // Events only: the state holds pseudonyms, trace ids and file keys, which stay out of the logs.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    approvals.grantPublish(approvals.notificationsTopic, this.stateMachine);
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'On * only what has no resource-level permissions: the CloudWatch Logs delivery actions of execution logging and the X-Ray actions of tracing.',
    });
    acknowledgeWildcardResource(this.stateMachine.role, this.erasureFunction.node.defaultChild as CfnElement, 'Arn', ':*', 'lambda:InvokeFunction on the versions and aliases of the erasure function (function-arn:*), as the invoke task grants it.');

    const alarmAction = new cloudwatchActions.SnsAction(approvals.notificationsTopic);
    this.failedAlarm = failedExecutionsAlarm(this, this.stateMachine, approvals.notificationsTopic, `${props.stage}: an erasure execution failed; its ledger entry says failed. Fix the cause and start the request again.`);
    this.deadlineAlarm = new cloudwatch.Alarm(this, 'DeadlineAlarm', {
      alarmDescription: `${props.stage}: erasure requests are past their ${props.deadlineDays}-day deadline without a verified deletion (sial erase --ledger)`,
      metric: new cloudwatch.Metric({ namespace: props.metricsNamespace, metricName: ERASURES_OVERDUE_METRIC, dimensionsMap: { service: 'erasure-deadline' }, period: Duration.days(1), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // The check publishes every day, 0 included: a missing day means the check itself did not run.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.deadlineAlarm.addAlarmAction(alarmAction);

    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `EventBridge Scheduler: runs the ${props.stage} erasure deadline check`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }) } },
      }),
    });
    acknowledgeWildcardResource(schedulerRole, this.deadlineFunction.node.defaultChild as CfnElement, 'Arn', ':*', 'lambda:InvokeFunction on the versions and aliases of the deadline check function (function-arn:*), as the schedule target grants it.');
    // Always enabled, whatever the stage's schedules switch: the deadline is a legal duty, not a pipeline run.
    new scheduler.Schedule(this, 'DeadlineSchedule', {
      description: `${props.stage}: daily erasure deadline check`,
      schedule: scheduler.ScheduleExpression.expression('cron(0 6 * * ? *)', TimeZone.of(props.timezone)),
      target: new schedulerTargets.LambdaInvoke(this.deadlineFunction, { role: schedulerRole, retryAttempts: 3, maxEventAge: Duration.hours(6) }),
    });
  }
}
