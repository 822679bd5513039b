/**
 * The daily operating reports of one stage: one function that runs the report queries on Athena and writes
 * the files under `reports/<date>/` of the artifact bucket, the state machine that notifies on a
 * regression (stepfunctions/operating-reports.ts), and its schedule.
 *
 * Least privilege: the function queries the lake through the stage's Athena workgroup (read of
 * `traces`, `feedback` and `judgments` only), MERGEs into `confidence_scores` (the one table it may
 * write: Glue update of that table, read and write of its prefix, no delete) and writes under
 * `reports/`, deleting nothing; the state machine publishes to the one topic and puts
 * `sial.reports.ready` on the account's default bus only.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SQL_DIR_ENV } from '../../lambdas/pipeline/dataset/sql-files';
import { OPERATING_REPORTS_ENV, type OperatingReportsConfig } from '../../lambdas/operations/report-settings';
import { buildOperatingReportsDefinition } from '../../stepfunctions/operating-reports';
import type { ArtifactStore } from './artifact-store';
import { createStepFunctions, PROJECT_ROOT } from './private/esm-function';
import { createLambdaStateMachine } from './private/state-machine';
import { scheduleStateMachine } from './private/state-machine-schedule';
import type { TraceLake } from './trace-lake';
import { DATASET_SQL_COPY, DATASET_SQL_DIR } from './training-pipeline';

export const OPERATING_REPORTS_HANDLER_ENTRY = 'lambdas/operations/report-handler.ts';

export interface OperatingReportsProps {
  readonly stage: string;
  readonly config: OperatingReportsConfig;
  readonly lake: TraceLake;
  readonly artifacts: ArtifactStore;
  readonly workGroupName: string;
  /** Namespace of the reports' EMF metrics (`config.metricsNamespace`), which the stage dashboard reads. */
  readonly metricsNamespace: string;
  /** Who hears of a regression (the pipeline notifications topic). */
  readonly topic: sns.ITopic;
  /** When it runs (`operations.reportSchedule`), in `schedules.timezone`; off unless `schedules.enabled`. */
  readonly schedule: string;
  readonly timezone: string;
  readonly schedulesEnabled: boolean;
  readonly logRetention?: logs.RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * A stage with `lake.hashAgentIds` (`config.hashAgentIds`): its pseudonymisation key, which the function
   * may read to compute the declared agents' pseudonyms. Absent: no access to the key.
   */
  readonly agentPseudonymisationKey?: secretsmanager.ISecret;
}

export class OperatingReports extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly stateMachine: sfn.StateMachine;
  public readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: OperatingReportsProps) {
    super(scope, id);
    const { artifacts, lake } = props;
    if ((props.config.hashAgentIds === true) !== (props.agentPseudonymisationKey !== undefined)) {
      throw new Error('OperatingReports: config.hashAgentIds and agentPseudonymisationKey go together (the function names hashed agents with the key)');
    }
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
    const { functions, roles } = createStepFunctions(
      this,
      {
        writeReports: {
          entry: path.join(PROJECT_ROOT, OPERATING_REPORTS_HANDLER_ENTRY),
          description: `${props.stage}: Write operating reports: per-agent costs, confidence and regressions (Athena) under reports/<date>/`,
          memorySize: 512,
          timeout: Duration.minutes(12),
          environment: {
            [OPERATING_REPORTS_ENV.settings]: JSON.stringify(props.config),
            [OPERATING_REPORTS_ENV.athenaWorkGroup]: props.workGroupName,
            [OPERATING_REPORTS_ENV.reportsPrefix]: artifacts.uriOf(artifacts.reportsPrefix),
            [SQL_DIR_ENV]: DATASET_SQL_DIR,
            POWERTOOLS_SERVICE_NAME: 'operating-reports',
            POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
            ...(props.agentPseudonymisationKey === undefined ? {} : { [OPERATING_REPORTS_ENV.pseudonymisationKeySecretArn]: props.agentPseudonymisationKey.secretArn }),
          },
          copyIntoBundle: [DATASET_SQL_COPY],
        },
      },
      { logRetention, logRemovalPolicy },
    );
    this.function = functions.writeReports;
    this.role = roles.writeReports;
    // With the option only: that secret's GetSecretValue, and Decrypt of the lake key it is encrypted
    // with (Secrets Manager decrypts with the caller's rights). Granted on the role only, as the judge
    // calibration page's read of the same secret: Secret.grantRead would also write the role into the
    // data stack's key policy (a cycle between the stacks).
    if (props.agentPseudonymisationKey !== undefined) {
      iam.Grant.addToPrincipal({ grantee: this.role, actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resourceArns: [props.agentPseudonymisationKey.secretArn] });
      lake.key.grantDecrypt(this.role);
    }

    const workGroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workGroupName });
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
      resourceArns: [workGroupArn],
    });
    lake.grantTableRead(this.role, [props.config.lake.tracesTable, props.config.lake.feedbackTable, props.config.lake.judgmentsTable]);
    // Athena's MERGE acts with the caller's permissions: the confidence table only.
    lake.grantRowWrite(this.role, [props.config.lake.confidenceTable]);
    artifacts.grantRead(this.role, artifacts.queryResultsPrefix);
    artifacts.grantWrite(this.role, artifacts.queryResultsPrefix);
    // Also what the cost report's Parquet UNLOAD needs: Athena writes those files with this role's
    // credentials (put under reports/, list for the empty-prefix check, the bucket key's data keys) and
    // leaves the data manifest in the query results. No delete: each run writes a folder of its own.
    artifacts.grantWrite(this.role, artifacts.reportsPrefix);

    // sial.reports.ready goes to the account's default bus, as the pipeline's and the rollout's events do.
    const eventBus = events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    const definition = buildOperatingReportsDefinition(this, { writeReports: this.function, topic: props.topic, stage: props.stage, eventBus });
    this.stateMachine = createLambdaStateMachine(this, {
      comment: `Self-Improving Agent Loop ${props.stage}: the daily operating reports per agent (costs, confidence, regressions)`,
      definition,
      functions: { writeReports: this.function },
      logRetention,
      logRemovalPolicy,
    });
    // events:PutEvents on the default bus only.
    eventBus.grantPutEventsTo(this.stateMachine);

    this.schedule = scheduleStateMachine(this, {
      stateMachine: this.stateMachine,
      roleDescription: `EventBridge Scheduler: starts ${props.stage} operating report executions`,
      description: `${props.stage}: the daily operating reports per agent`,
      expression: props.schedule,
      timezone: props.timezone,
      enabled: props.schedulesEnabled,
    });
  }
}
