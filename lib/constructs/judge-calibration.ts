/**
 * Weekly human calibration of the LLM judge: the sampling and report functions on one weekly schedule,
 * the review page (`GET|POST /reviews/{id}` on the approvals API, with the same signed-link secret under
 * its own purpose string), the Athena workgroup they query the lake through, the reviewers' topic, and
 * the agreement alarms (kappa below the floor, too few reviews in the window). The review queue table
 * is stateful and comes from the data stack.
 */
import * as path from 'node:path';
import { CfnElement, Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as athena from 'aws-cdk-lib/aws-athena';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { lakeQueryWorkGroup } from './private/athena-workgroup';
import { Construct } from 'constructs';
import type { JudgeCalibrationConfig } from '../../config/schema';
import { CALIBRATION_DIMENSIONS, CALIBRATION_METRICS } from '../../lambdas/judge/calibration/calibration-report';
import { CALIBRATION_ENV } from '../../lambdas/judge/calibration/calibration-env';
import { calibrationSettingsOf } from '../../lambdas/judge/calibration/calibration-settings';
import { JUDGMENTS_TABLE, REVIEWS_TABLE, TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import { APPROVAL_ID_PARAMETER, type Approvals } from './approvals';
import type { ArtifactStore } from './artifact-store';
import type { IcebergDeliveryStream } from './iceberg-delivery-stream';
import { acknowledgeWildcardResource, acknowledgeWildcardResourceToken } from './private/acknowledge';
import { PROJECT_ROOT, createStepFunctions, type StepFunctionSpec } from './private/esm-function';
import type { TraceLake } from './trace-lake';

/** Where the weekly reports go in the artifact bucket. */
export const CALIBRATION_REPORTS_PREFIX = 'judge-calibration/';

/** Properties of {@link JudgeCalibration}. */
export interface JudgeCalibrationProps {
  /** Stage name, used in descriptions, the workgroup name and the e-mail subject. */
  readonly stage: string;
  /** The stage's `judgeCalibration` section (validated). */
  readonly config: JudgeCalibrationConfig;
  /** Schedules are created disabled when false (the stage's `schedules.enabled`). */
  readonly schedulesEnabled: boolean;
  /** Time zone of the schedule expression (the stage's `schedules.timezone`). */
  readonly timezone: string;
  /** The review queue table (data stack), encrypted with a customer managed key. */
  readonly queueTable: dynamodb.ITable;
  /** The trace lake: traces, judgments and reviews are read through Athena. */
  readonly lake: TraceLake;
  /** The Direct PUT stream into `reviews` (data stack). */
  readonly reviewStream: IcebergDeliveryStream;
  /** The stage's pseudonymisation key: reviewers are stored as keyed pseudonyms. */
  readonly pseudonymisationKey: secretsmanager.ISecret;
  /**
   * Only for a stage with `lake.hashAgentIds`: the declared agent ids. The sampler's e-mail and the review
   * page show a declared agent by this name where a review item holds its pseudonym (the sampler may
   * then read the key too).
   */
  readonly hashedAgents?: readonly string[];
  /** The artifact bucket: Athena results and the reports. */
  readonly artifacts: ArtifactStore;
  /** The approvals construct: its API serves the review page, its secret signs the links, its key encrypts the topic. */
  readonly approvals: Approvals;
  /** CloudWatch namespace of the functions' EMF metrics and of the alarms. */
  readonly metricsNamespace: string;
  /**
   * Retention of the function log groups.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log groups when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The calibration's three functions. */
export type CalibrationFunction = 'sample' | 'report' | 'page';

const ENTRIES: Record<CalibrationFunction, string> = {
  sample: 'lambdas/judge/calibration/aws/sample-handler.ts',
  report: 'lambdas/judge/calibration/aws/report-handler.ts',
  page: 'lambdas/judge/calibration/aws/review-api-handler.ts',
};

/** Sampling, reviewing and reporting on the judge's agreement with people, every week. */
export class JudgeCalibration extends Construct {
  /** The calibration's Athena workgroup (engine v3, enforced encrypted result location). */
  public readonly workGroup: athena.CfnWorkGroup;
  /** Reviewers' e-mail: the weekly signed links. */
  public readonly reviewersTopic: sns.Topic;
  /** The functions, by job. */
  public readonly functions: Readonly<Record<CalibrationFunction, nodejs.NodejsFunction>>;
  /** Their roles, by job. */
  public readonly roles: Readonly<Record<CalibrationFunction, iam.Role>>;
  /** `/reviews/{id}` on the approvals API. */
  public readonly reviewResource: apigw.Resource;
  /** Invokes the weekly functions. */
  public readonly schedulerRole: iam.Role;
  /** The weekly sampling and report schedules. */
  public readonly schedules: Readonly<Record<'sample' | 'report', scheduler.Schedule>>;
  /** Per dimension: kappa below `minKappa`, and fewer than `minReviewed` items in the window. */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: JudgeCalibrationProps) {
    super(scope, id);
    const { approvals, artifacts, lake } = props;
    if (props.queueTable.encryptionKey === undefined) throw new Error('JudgeCalibration: the review queue table has no customer managed key; expected the lake key');
    // Validated again here: the functions receive exactly these settings as JSON.
    const settings = calibrationSettingsOf(props.config);
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;

    this.workGroup = lakeQueryWorkGroup(this, 'WorkGroup', {
      name: `sial-${props.stage}-judge-calibration`,
      description: `Judge calibration of ${props.stage}: review sampling, review pages and the agreement report (${lake.databaseName})`,
      artifacts,
    });
    const workGroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroup.name });

    this.reviewersTopic = new sns.Topic(this, 'ReviewersTopic', { displayName: `sial ${props.stage} judge reviews`, masterKey: approvals.key, enforceSSL: true });
    for (const email of props.config.reviewerEmails) this.reviewersTopic.addSubscription(new subscriptions.EmailSubscription(email));

    const lakeEnv = {
      [CALIBRATION_ENV.athenaWorkGroup]: this.workGroup.name,
      [CALIBRATION_ENV.database]: lake.databaseName,
      [CALIBRATION_ENV.tracesTable]: TRACES_TABLE.name,
      [CALIBRATION_ENV.judgmentsTable]: JUDGMENTS_TABLE.name,
      [CALIBRATION_ENV.reviewsTable]: REVIEWS_TABLE.name,
      [CALIBRATION_ENV.queueTable]: props.queueTable.tableName,
      [CALIBRATION_ENV.settings]: JSON.stringify(settings),
      POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
    };
    const hashedAgentsEnv: Record<string, string> =
      props.hashedAgents === undefined ? {} : { [CALIBRATION_ENV.hashedAgents]: JSON.stringify(props.hashedAgents), [CALIBRATION_ENV.pseudonymisationSecretArn]: props.pseudonymisationKey.secretArn };
    const specs: Record<CalibrationFunction, StepFunctionSpec> = {
      sample: {
        entry: path.join(PROJECT_ROOT, ENTRIES.sample),
        memorySize: 256,
        description: `Judge calibration of ${props.stage}: draws the weekly review sample into the queue and e-mails signed review links`,
        timeout: Duration.minutes(5),
        environment: {
          ...lakeEnv,
          [CALIBRATION_ENV.stage]: props.stage,
          [CALIBRATION_ENV.reviewersTopicArn]: this.reviewersTopic.topicArn,
          [CALIBRATION_ENV.pageBaseUrl]: approvals.pageBaseUrl,
          [CALIBRATION_ENV.signingSecretArn]: approvals.signingSecret.secretArn,
          ...hashedAgentsEnv,
          POWERTOOLS_SERVICE_NAME: 'judge-calibration-sample',
        },
      },
      report: {
        entry: path.join(PROJECT_ROOT, ENTRIES.report),
        memorySize: 256,
        description: `Judge calibration of ${props.stage}: the weekly agreement report (kappa, TPR/TNR, Spearman) and its metrics`,
        timeout: Duration.minutes(5),
        environment: {
          ...lakeEnv,
          [CALIBRATION_ENV.reportBucket]: artifacts.bucket.bucketName,
          [CALIBRATION_ENV.reportPrefix]: CALIBRATION_REPORTS_PREFIX,
          POWERTOOLS_SERVICE_NAME: CALIBRATION_METRICS.service,
        },
      },
      page: {
        entry: path.join(PROJECT_ROOT, ENTRIES.page),
        memorySize: 256,
        description: `Review page of ${props.stage}: verifies signed links, shows the masked trace, records the reviewer's own scores once`,
        // An Athena query of one trace, well inside API Gateway's 29 s.
        timeout: Duration.seconds(28),
        environment: {
          ...lakeEnv,
          [CALIBRATION_ENV.signingSecretArn]: approvals.signingSecret.secretArn,
          [CALIBRATION_ENV.reviewStream]: props.reviewStream.deliveryStreamName,
          [CALIBRATION_ENV.pseudonymisationSecretArn]: props.pseudonymisationKey.secretArn,
          ...(props.hashedAgents === undefined ? {} : { [CALIBRATION_ENV.hashedAgents]: JSON.stringify(props.hashedAgents) }),
          POWERTOOLS_SERVICE_NAME: 'review-page',
        },
      },
    };
    const { functions, roles } = createStepFunctions(this, specs, { logRetention, logRemovalPolicy });
    this.functions = functions;
    this.roles = roles;

    // Athena reads: each job only the lake tables its queries name.
    const tablesOf: Record<CalibrationFunction, readonly string[]> = { sample: [JUDGMENTS_TABLE.name], report: [JUDGMENTS_TABLE.name, REVIEWS_TABLE.name], page: [TRACES_TABLE.name] };
    for (const job of Object.keys(tablesOf) as CalibrationFunction[]) {
      const role = roles[job];
      iam.Grant.addToPrincipal({
        grantee: role,
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
        resourceArns: [workGroupArn],
      });
      iam.Grant.addToPrincipal({ grantee: role, actions: ['glue:GetDatabase', 'glue:GetTable'], resourceArns: [lake.catalogArn, lake.databaseArn, ...tablesOf[job].map((t) => lake.tableArn(t))] });
      iam.Grant.addToPrincipal({ grantee: role, actions: ['s3:GetBucketLocation', 's3:ListBucket'], resourceArns: [lake.bucket.bucketArn] });
      for (const table of tablesOf[job]) {
        const objects = lake.bucket.arnForObjects(`${lake.tablesPrefix}${table}/*`);
        iam.Grant.addToPrincipal({ grantee: role, actions: ['s3:GetObject'], resourceArns: [objects] });
        acknowledgeWildcardResourceToken(role, objects, `Read-only on the ${table} Iceberg table's data and metadata files, which Firehose commits under generated names.`);
      }
      lake.key.grantDecrypt(role);
      // Athena writes and reads query results with the caller's permissions.
      artifacts.grantRead(role, artifacts.queryResultsPrefix);
      artifacts.grantWrite(role, artifacts.queryResultsPrefix);
    }

    // The queue: the sampler checks which items are new and adds them (conditional puts), the page reads
    // and completes; the lake key encrypts it.
    const queueKey = props.queueTable.encryptionKey;
    // On the table only: Table.grant would add its indexes (index/*), which neither job reads.
    iam.Grant.addToPrincipal({ grantee: roles.sample, actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resourceArns: [props.queueTable.tableArn] });
    queueKey.grant(roles.sample, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
    iam.Grant.addToPrincipal({ grantee: roles.page, actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resourceArns: [props.queueTable.tableArn] });
    queueKey.grant(roles.page, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
    // Links: the sampler signs, the page verifies (the approvals secret, another purpose string).
    approvals.signingSecret.grantRead(roles.sample);
    approvals.signingSecret.grantRead(roles.page);
    iam.Grant.addToPrincipal({ grantee: roles.sample, actions: ['sns:Publish'], resourceArns: [this.reviewersTopic.topicArn] });
    approvals.key.grant(roles.sample, 'kms:Decrypt', 'kms:GenerateDataKey');
    // The page writes reviews and pseudonymises reviewers.
    props.reviewStream.grantPutRecord(roles.page);
    // Granted on the role only: Secret.grantRead would also write the role into the key policy of the
    // data stack (a cycle between the stacks). The secret is encrypted with the lake key.
    iam.Grant.addToPrincipal({ grantee: roles.page, actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resourceArns: [props.pseudonymisationKey.secretArn] });
    // lake.hashAgentIds only: the sampler computes the declared agents' pseudonyms to name them in its
    // e-mail (it already decrypts with the lake key for Athena).
    if (props.hashedAgents !== undefined) {
      iam.Grant.addToPrincipal({ grantee: roles.sample, actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resourceArns: [props.pseudonymisationKey.secretArn] });
    }
    artifacts.grantWrite(roles.report, CALIBRATION_REPORTS_PREFIX);

    // The review page lives next to the approval page: one API, one throttle, one access log, the same
    // signed-link rules (and the same reasons for no IAM authoriser, acknowledged on the API).
    this.reviewResource = approvals.api.root.addResource('reviews').addResource('{id}');
    const integration = new apigw.LambdaIntegration(functions.page);
    for (const method of ['GET', 'POST']) {
      this.reviewResource.addMethod(method, integration, {
        authorizationType: apigw.AuthorizationType.NONE,
        requestParameters: { [APPROVAL_ID_PARAMETER]: true },
        requestValidator: approvals.requestValidator,
      });
    }

    // One weekly schedule per job, on the same expression: the report covers the reviews of the window up
    // to then (last week's items, reviewed during the week), the sampling opens this week's items.
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `EventBridge Scheduler: runs the ${props.stage} judge-calibration functions`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
    });
    const timeZone = TimeZone.of(props.timezone);
    const schedule = (job: 'sample' | 'report', description: string): scheduler.Schedule => {
      const fn = functions[job];
      fn.grantInvoke(this.schedulerRole);
      const cfn = fn.node.defaultChild;
      if (cfn instanceof CfnElement) {
        acknowledgeWildcardResource(this.schedulerRole, cfn, 'Arn', ':*', `grantInvoke also allows the versions and aliases of the ${job} function (function-arn:*); no other function is reachable.`);
      }
      return new scheduler.Schedule(this, `${job === 'sample' ? 'Sample' : 'Report'}Schedule`, {
        description,
        schedule: scheduler.ScheduleExpression.expression(props.config.schedule, timeZone),
        enabled: props.schedulesEnabled,
        target: new schedulerTargets.LambdaInvoke(fn, { role: this.schedulerRole, retryAttempts: 2, maxEventAge: Duration.hours(6) }),
      });
    };
    this.schedules = {
      sample: schedule('sample', `${props.stage}: weekly review sample of the LLM judge's verdicts`),
      report: schedule('report', `${props.stage}: weekly judge-human agreement report`),
    };

    // Alarms: the report publishes once a week, so each looks at the last 7 daily periods.
    const alarms: Record<string, cloudwatch.Alarm> = {};
    const metric = (name: string, dimension: string, statistic: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: props.metricsNamespace, metricName: name, dimensionsMap: { [CALIBRATION_METRICS.dimensionName]: dimension, service: CALIBRATION_METRICS.service }, statistic, period: Duration.days(1) });
    for (const dimension of CALIBRATION_DIMENSIONS) {
      const suffix = dimension.split('_').map((p) => `${p.charAt(0).toUpperCase()}${p.slice(1)}`).join('');
      alarms[`kappa-${dimension}`] = new cloudwatch.Alarm(this, `Kappa${suffix}Alarm`, {
        alarmDescription: `${props.stage}: the LLM judge agrees with people on ${dimension} below kappa ${settings.minKappa} over ${settings.windowDays} days (docs/judge.md, Agreement with people)`,
        metric: metric(CALIBRATION_METRICS.kappa, dimension, 'Minimum'),
        threshold: settings.minKappa,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 7,
        datapointsToAlarm: 1,
        // No kappa is published when it is undefined; the count alarm covers that case.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarms[`reviewed-${dimension}`] = new cloudwatch.Alarm(this, `Reviewed${suffix}Alarm`, {
        alarmDescription: `${props.stage}: fewer than ${settings.minReviewed} ${dimension} reviews in ${settings.windowDays} days, too few to trust the agreement figures`,
        metric: metric(CALIBRATION_METRICS.reviewed, dimension, 'Maximum'),
        threshold: settings.minReviewed,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 7,
        datapointsToAlarm: 7,
        // A week without a report is a week nobody knows the agreement: that is breaching.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }
    for (const alarm of Object.values(alarms)) alarm.addAlarmAction(new cloudwatchActions.SnsAction(approvals.notificationsTopic));
    this.alarms = alarms;
  }
}
