/**
 * The training pipeline: its Lambda functions (each with PIPELINE_SETTINGS, only the resource variables
 * it reads and only the grants it uses), the Athena workgroup of the dataset build, the Standard state
 * machine built from stepfunctions/training-pipeline.ts, and the EventBridge Scheduler schedules that
 * start it (daily dataset build, weekly training request). Its last state starts the canary rollout.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, TimeZone, Validations, type CfnElement } from 'aws-cdk-lib';
import type * as athena from 'aws-cdk-lib/aws-athena';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { lakeQueryWorkGroup } from './private/athena-workgroup';
import { Construct } from 'constructs';
import type { SchedulesConfig } from '../../config/schema';
import { EXECUTION_STATUS_CHANGE, RELEASE_ON_END_INPUT_PATHS, RELEASE_ON_STATUSES } from '../../lambdas/pipeline/budget/execution-ended';
import { REGISTER_MODEL_ENV } from '../../lambdas/pipeline/register-model/register-model';
import { PIPELINE_ENV, type PipelineSettings } from '../../lambdas/pipeline/settings';
import { SQL_DIR_ENV } from '../../lambdas/pipeline/dataset/sql-files';
import { MATERIALIZED_TABLE_PREFIX } from '../../lambdas/pipeline/dataset/athena-sql-engine';
import { buildTrainingPipelineDefinition, routerTrainPolicies, type TrainingPipelineFunctions } from '../../stepfunctions/training-pipeline';
import type { RouterTrainingCompute } from './router-training-compute';
import type { Approvals } from './approvals';
import type { ArtifactStore } from './artifact-store';
import type { GpuBudget } from './gpu-budget';
import type { ModelRegistry } from './model-registry';
import { PROJECT_ROOT, createEsmFunction, type BundleCopy } from './private/esm-function';
import { acknowledgeWildcardResource, acknowledgeWildcardResourceToken } from './private/acknowledge';
import type { TraceLake } from './trace-lake';
import type { TrainingCompute } from './training-compute';

/** Step key of each pipeline function (the state machine's dependency names). */
export type PipelineStep = keyof TrainingPipelineFunctions;

/** Where each function's handler lives, relative to the repository root. */
export const PIPELINE_HANDLER_ENTRIES: Readonly<Record<PipelineStep, string>> = {
  validateRequest: 'lambdas/pipeline/validate-request/handler.ts',
  buildDataset: 'lambdas/pipeline/dataset/handler.ts',
  checkEligibility: 'lambdas/pipeline/eligibility/handler.ts',
  checkGpuBudget: 'lambdas/pipeline/budget/check-handler.ts',
  recordGpuHours: 'lambdas/pipeline/budget/record-handler.ts',
  prepareApproval: 'lambdas/pipeline/approvals/prepare-handler.ts',
  requestApproval: 'lambdas/pipeline/approvals/request-handler.ts',
  checkEvalGate: 'lambdas/pipeline/eval-gate/handler.ts',
  registerModel: 'lambdas/pipeline/register-model/handler.ts',
  routerJob: 'lambdas/pipeline/router/handler.ts',
};

/** The dataset build's query files, copied into its bundle at `sql/` (read through SIAL_SQL_DIR). */
export const DATASET_SQL_COPY: BundleCopy = { from: 'lambdas/pipeline/dataset/sql', to: 'sql' };
/** Where the query files are at run time. */
export const DATASET_SQL_DIR = '/var/task/sql';

/** Properties of {@link TrainingPipeline}. */
export interface TrainingPipelineProps {
  /** Stage name, used in descriptions, subjects and the Athena workgroup name. */
  readonly stage: string;
  /** The validated PIPELINE_SETTINGS (lambdas/pipeline/settings.ts `pipelineSettingsFromStage`). */
  readonly settings: PipelineSettings;
  /**
   * Required with `settings.hashedAgents` (lake.hashAgentIds), refused without: the stage's
   * pseudonymisation key, which Build dataset alone may read to name the declared agents in its manifest.
   */
  readonly agentPseudonymisationKey?: secretsmanager.ISecret;
  /** CloudWatch namespace of the functions' EMF metrics (the budget alarm watches it). */
  readonly metricsNamespace: string;
  /** The trace lake (data stack): the dataset build reads its Iceberg tables through Athena. */
  readonly lake: TraceLake;
  /** The artifact bucket (data stack): datasets, runs, query results. */
  readonly artifacts: ArtifactStore;
  /** The model package groups (data stack). */
  readonly registry: ModelRegistry;
  /** Ledger access and the budget alarm. */
  readonly budget: GpuBudget;
  /** Approval records, signing secret, topics and the page API. */
  readonly approvals: Approvals;
  /**
   * The jobs table (data stack), encrypted with a customer managed key: the state machine records each
   * Batch job of a run in it (`sial jobs`).
   */
  readonly jobsTable: dynamodb.ITable;
  /** Batch queue and job definitions. */
  readonly compute: TrainingCompute;
  /**
   * The router's CPU queue, job definition and image, for a stage with router targets: adds the router
   * states and their function.
   *
   * @default - no router path (a stage without router targets)
   */
  readonly routerCompute?: RouterTrainingCompute;
  /** When and whether the schedules run (`config.schedules`). */
  readonly schedules: SchedulesConfig;
  /** The serving container image registered with each model package (SERVING_IMAGE_URI). */
  readonly servingImageUri: string;
  /**
   * The canary rollout state machine `Hand over to canary rollout` starts for a registered model
   * (states:StartExecution on exactly this state machine).
   */
  readonly rolloutStateMachine: sfn.IStateMachine;

  /**
   * Handler modules by step, relative to the repository root.
   *
   * @default PIPELINE_HANDLER_ENTRIES
   */
  readonly handlerEntries?: Partial<Record<PipelineStep, string>>;

  /**
   * Retention of the function and state machine log groups.
   *
   * @default logs.RetentionDays.ONE_YEAR (the execution log is the pipeline's audit trail)
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log groups when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

interface FunctionSpec {
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly copyIntoBundle?: readonly BundleCopy[];
}

/**
 * Nine functions, one Athena workgroup, the state machine (Standard, X-Ray, execution log level ALL
 * without execution data) and 2 schedules per target model.
 */
export class TrainingPipeline extends Construct {
  /** The functions by step. */
  public readonly functions: Readonly<Record<PipelineStep, nodejs.NodejsFunction>>;
  /** Their execution roles by step. */
  public readonly roles: Readonly<Record<PipelineStep, iam.Role>>;
  /** The dataset build's workgroup (engine v3, enforced encrypted result location). */
  public readonly workGroup: athena.CfnWorkGroup;
  /** The training pipeline. */
  public readonly stateMachine: sfn.StateMachine;
  /** Execution log of the state machine. */
  public readonly stateMachineLogGroup: logs.LogGroup;
  /** The role EventBridge Scheduler starts executions with. */
  public readonly schedulerRole: iam.Role;
  /** Daily dataset-only runs, by target model id. */
  public readonly datasetSchedules: Readonly<Record<string, scheduler.Schedule>>;
  /** Weekly training requests, by target model id. */
  public readonly trainingSchedules: Readonly<Record<string, scheduler.Schedule>>;
  /**
   * An execution of this state machine that ended ABORTED, TIMED_OUT or FAILED -> the booking function's
   * `release` (a stopped execution runs no release state of its own).
   */
  public readonly reservationReleaseRule: events.Rule;
  /** Releases the rule could not deliver, or the function failed after its retries (alarmed to FinOps). */
  public readonly reservationReleaseDeadLetterQueue: sqs.Queue;
  /** A message in the dead-letter queue: a reservation may still be held. */
  public readonly reservationReleaseDeadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    if ((props.settings.hashedAgents !== undefined) !== (props.agentPseudonymisationKey !== undefined)) {
      throw new Error('TrainingPipeline: settings.hashedAgents and agentPseudonymisationKey go together (Build dataset names hashed agents with the key)');
    }
    const { settings, approvals, artifacts, budget, compute, registry, lake } = props;
    if (props.jobsTable.encryptionKey === undefined) throw new Error('TrainingPipeline: the jobs table has no customer managed key; expected one');
    if (settings.stage !== props.stage) throw new Error(`TrainingPipeline: settings are for stage "${settings.stage}" but the stage is "${props.stage}"`);
    if (!/^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$/.test(props.servingImageUri)) {
      throw new Error(`TrainingPipeline: servingImageUri "${props.servingImageUri}" is not an ECR image URI (account.dkr.ecr.region.amazonaws.com/repository:tag); SageMaker serves model packages from ECR`);
    }
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
    const settingsJson = JSON.stringify(settings);

    // A workgroup needs a name; one per stage, account and region.
    this.workGroup = lakeQueryWorkGroup(this, 'WorkGroup', {
      name: `sial-${props.stage}-dataset-build`,
      description: `Dataset build of the ${props.stage} training pipeline (Iceberg tables of ${lake.databaseName})`,
      artifacts,
    });
    const workGroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroup.name });

    const common = { [PIPELINE_ENV.settings]: settingsJson, POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace };
    const { routerCompute } = props;
    const specs: Partial<Record<PipelineStep, FunctionSpec>> = {
      validateRequest: {
        description: 'Validate request: refuses managed models and unknown targets, derives the run id and URIs',
        memorySize: 256,
        timeout: Duration.seconds(10),
        environment: { ...common, [PIPELINE_ENV.artifactBucket]: artifacts.bucket.bucketName, POWERTOOLS_SERVICE_NAME: 'pipeline-validate-request' },
      },
      buildDataset: {
        description: 'Build dataset: Athena UNLOADs GRPO groups and DPO pairs from the Iceberg lake; the function writes the manifest',
        // No row passes through the function (Athena writes the files, the hash is streamed); queries may run
        // for minutes (the handler stops them at 10).
        memorySize: 512,
        timeout: Duration.minutes(15),
        environment: {
          ...common,
          [PIPELINE_ENV.athenaWorkGroup]: this.workGroup.name,
          [PIPELINE_ENV.goldenSetsUri]: artifacts.uriOf(artifacts.goldenSetsPrefix),
          [SQL_DIR_ENV]: DATASET_SQL_DIR,
          POWERTOOLS_SERVICE_NAME: 'pipeline-build-dataset',
          ...(props.agentPseudonymisationKey === undefined ? {} : { [PIPELINE_ENV.pseudonymisationKeySecretArn]: props.agentPseudonymisationKey.secretArn }),
        },
        copyIntoBundle: [DATASET_SQL_COPY],
      },
      checkEligibility: {
        description: 'Check eligibility: positive feedback, high-quality traces, training cooldown',
        memorySize: 256,
        timeout: Duration.seconds(30),
        environment: { ...common, [PIPELINE_ENV.ledgerTable]: budget.ledgerTable.tableName, POWERTOOLS_SERVICE_NAME: 'pipeline-check-eligibility' },
      },
      checkGpuBudget: {
        description: "Check GPU budget: the month's GPU-hours plus this run's estimate against the ceiling",
        memorySize: 256,
        timeout: Duration.seconds(30),
        environment: { ...common, [PIPELINE_ENV.ledgerTable]: budget.ledgerTable.tableName, POWERTOOLS_SERVICE_NAME: 'pipeline-check-gpu-budget' },
      },
      recordGpuHours: {
        description: "Record GPU hours: books the actual GPU-hours of a run's training and eval jobs, each once, succeeded or failed",
        memorySize: 256,
        timeout: Duration.seconds(30),
        environment: { ...common, [PIPELINE_ENV.ledgerTable]: budget.ledgerTable.tableName, POWERTOOLS_SERVICE_NAME: 'pipeline-record-gpu-hours' },
      },
      prepareApproval: {
        description: 'Prepare approval: creates the pending approval record and its signed page link',
        memorySize: 256,
        timeout: Duration.seconds(30),
        environment: {
          ...common,
          [PIPELINE_ENV.approvalsTable]: approvals.table.tableName,
          [PIPELINE_ENV.signingSecretArn]: approvals.signingSecret.secretArn,
          [PIPELINE_ENV.approvalPageBaseUrl]: approvals.pageBaseUrl,
          POWERTOOLS_SERVICE_NAME: 'pipeline-prepare-approval',
        },
      },
      requestApproval: {
        description: 'Request approval: stores the task token with the record and e-mails the approvers once',
        memorySize: 256,
        timeout: Duration.seconds(30),
        environment: {
          ...common,
          [PIPELINE_ENV.approvalsTable]: approvals.table.tableName,
          [PIPELINE_ENV.signingSecretArn]: approvals.signingSecret.secretArn,
          [PIPELINE_ENV.approvalPageBaseUrl]: approvals.pageBaseUrl,
          [PIPELINE_ENV.approvalRecipients]: JSON.stringify(approvals.recipients),
          [PIPELINE_ENV.approvalsTopicArn]: approvals.approvalsTopic.topicArn,
          [PIPELINE_ENV.finopsTopicArn]: approvals.finopsTopic.topicArn,
          POWERTOOLS_SERVICE_NAME: 'pipeline-request-approval',
        },
      },
      checkEvalGate: {
        description: "Check eval gate: faithfulness floor and no regression against production's metrics",
        memorySize: 512,
        timeout: Duration.seconds(60),
        environment: { ...common, POWERTOOLS_SERVICE_NAME: 'pipeline-check-eval-gate' },
      },
      registerModel: {
        description: 'Register model: a model package pending manual approval, metrics attached',
        memorySize: 256,
        timeout: Duration.seconds(60),
        environment: {
          ...common,
          [REGISTER_MODEL_ENV.servingImageUri]: props.servingImageUri,
          ...(routerCompute === undefined ? {} : { [REGISTER_MODEL_ENV.routerImageUri]: routerCompute.image.imageUri }),
          POWERTOOLS_SERVICE_NAME: 'pipeline-register-model',
        },
      },
      ...(routerCompute === undefined
        ? {}
        : {
            routerJob: {
              description: "Router steps: prepares the router's Fargate job (current version, golden set, size) and records its vCPU-hours",
              memorySize: 256,
              timeout: Duration.seconds(60),
              environment: {
                ...common,
                [PIPELINE_ENV.goldenSetsUri]: artifacts.uriOf(artifacts.goldenSetsPrefix),
                [PIPELINE_ENV.ledgerTable]: budget.ledgerTable.tableName,
                POWERTOOLS_SERVICE_NAME: 'pipeline-router-job',
              },
            },
          }),
    };

    const entries = { ...PIPELINE_HANDLER_ENTRIES, ...props.handlerEntries };
    const functions = {} as Record<PipelineStep, nodejs.NodejsFunction>;
    const roles = {} as Record<PipelineStep, iam.Role>;
    for (const step of Object.keys(specs) as PipelineStep[]) {
      const spec = specs[step];
      if (spec === undefined) continue;
      const parts = createEsmFunction(new Construct(this, functionId(step)), {
        entry: path.join(PROJECT_ROOT, entries[step]),
        description: `${props.stage}: ${spec.description}`,
        memorySize: spec.memorySize,
        timeout: spec.timeout,
        environment: spec.environment,
        copyIntoBundle: spec.copyIntoBundle,
        logRetention,
        logRemovalPolicy,
      });
      functions[step] = parts.fn;
      roles[step] = parts.role;
      Validations.of(parts.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: step === 'checkEvalGate' || step === 'registerModel' || step === 'routerJob'
          ? 'sagemaker:ListModelPackages and the X-Ray actions added for active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) support no resource-level permissions; nothing else is on *.'
          : 'Only the X-Ray actions added for active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) are on *: X-Ray supports no resource-level permissions.',
      });
    }
    this.functions = functions;
    this.roles = roles;

    // Build dataset: Athena in its workgroup, Glue and S3 reads of the lake tables, the run's output.
    iam.Grant.addToPrincipal({
      grantee: roles.buildDataset,
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
      resourceArns: [workGroupArn],
    });
    lake.grantTableRead(roles.buildDataset, [settings.lake.tracesTable, settings.lake.auditTable, settings.lake.feedbackTable, settings.lake.judgmentsTable]);
    // The build materialises its selection once as CTAS tables named sial_build_* in the lake's database
    // (files under the run's dataset folder), and drops them when it ends.
    const buildTables = stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${lake.databaseName}/${MATERIALIZED_TABLE_PREFIX}*` });
    iam.Grant.addToPrincipal({ grantee: roles.buildDataset, actions: ['glue:CreateTable', 'glue:DeleteTable', 'glue:GetTable'], resourceArns: [lake.catalogArn, lake.databaseArn, buildTables] });
    acknowledgeWildcardResourceToken(roles.buildDataset, buildTables, "The dataset build's own working tables (sial_build_<name>_<hash>), created and dropped within one build; no lake table matches the prefix.");
    // The engine writes the dataset files (UNLOAD) with this role's permissions: only under runs/*/dataset/,
    // never another part of a run. The golden sets are read to decontaminate against them.
    artifacts.grantDatasetWrite(roles.buildDataset);
    artifacts.grantRead(roles.buildDataset, artifacts.goldenSetsPrefix);
    // Athena writes and reads query results (and UNLOAD's data manifests) with the caller's permissions.
    artifacts.grantRead(roles.buildDataset, artifacts.queryResultsPrefix);
    artifacts.grantWrite(roles.buildDataset, artifacts.queryResultsPrefix);
    // lake.hashAgentIds only: the key secret's read, and Decrypt of the lake key it is encrypted with, on
    // the role only (Secret.grantRead would write the role into the data stack's key policy: a cycle).
    if (props.agentPseudonymisationKey !== undefined) {
      iam.Grant.addToPrincipal({ grantee: roles.buildDataset, actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resourceArns: [props.agentPseudonymisationKey.secretArn] });
      lake.key.grantDecrypt(roles.buildDataset);
    }

    budget.grantRead(roles.checkEligibility);
    budget.grantRead(roles.checkGpuBudget);
    // One function books both jobs of a run (jobKind in its input): the eval booking needs exactly the
    // training booking's actions (conditional put of its item, ADD to the months), so a second function
    // would hold the same grant.
    budget.grantRecord(roles.recordGpuHours);

    approvals.grantRecordAccess(roles.prepareApproval, ['dynamodb:PutItem']);
    approvals.signingSecret.grantRead(roles.prepareApproval);
    approvals.grantRecordAccess(roles.requestApproval, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    approvals.signingSecret.grantRead(roles.requestApproval);
    approvals.grantPublish(approvals.approvalsTopic, roles.requestApproval);
    approvals.grantPublish(approvals.finopsTopic, roles.requestApproval);

    // Eval gate: this run's metrics.json and production's (another run's) under runs/, and the registry.
    artifacts.grantRead(roles.checkEvalGate, artifacts.runsPrefix);
    registry.grantRead(roles.checkEvalGate);
    registry.grantRegister(roles.registerModel);

    // Router steps: the current approved version (registry), whether a golden set exists, the cooldown mark.
    if (routerCompute !== undefined) {
      registry.grantRead(roles.routerJob);
      artifacts.grantRead(roles.routerJob, artifacts.goldenSetsPrefix);
      budget.grantRecord(roles.routerJob);
    }

    // The stage's events go to the account's default bus (source `sial.<stage>` tells stages apart), so
    // subscribers need no bus of ours to exist before they write their rules.
    const eventBus = events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    const definition = buildTrainingPipelineDefinition(this, {
      stage: props.stage,
      functions,
      jobQueue: compute.jobQueue,
      trainJobDefinition: compute.trainJobDefinition,
      evalJobDefinition: compute.evalJobDefinition,
      notificationsTopic: approvals.notificationsTopic,
      approvalTimeout: Duration.seconds(Math.ceil(settings.approvalExpiryHours * 3600)),
      hyperparameters: props.settings.training.hyperparameters,
      goldenSetsUri: artifacts.uriOf(artifacts.goldenSetsPrefix),
      rolloutStateMachine: props.rolloutStateMachine,
      eventBus,
      jobsTable: props.jobsTable,
      ...(routerCompute === undefined ? {} : { routerJob: { jobQueue: routerCompute.jobQueue, jobDefinition: routerCompute.jobDefinition } }),
    });

    this.stateMachineLogGroup = new logs.LogGroup(this, 'StateMachineLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: `Self-Improving Agent Loop ${props.stage}: dataset, eligibility, GPU budget, approvals, Batch training, eval gate, registry`,
      definitionBody: sfn.DefinitionBody.fromChainable(definition.chain),
      tracingEnabled: true,
      // Every event, without inputs and outputs: states carry signed approval links (bearer credentials)
      // and task tokens, which must not be readable by everyone who can read logs.
      logs: { destination: this.stateMachineLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // `Train router` is a raw Batch state: its statements are added here, scoped like the typed tasks'.
    if (routerCompute !== undefined) {
      for (const statement of routerTrainPolicies(this, { jobQueue: routerCompute.jobQueue, jobDefinition: routerCompute.jobDefinition })) this.stateMachine.addToRolePolicy(statement);
    }
    // The SNS tasks publish to a KMS-encrypted topic.
    approvals.grantPublish(approvals.notificationsTopic, this.stateMachine);
    approvals.grantTaskDecisions(this.stateMachine);
    // events:PutEvents on the default bus only.
    eventBus.grantPutEventsTo(this.stateMachine);
    // The `Record ... job ...` tasks grant dynamodb:UpdateItem on the jobs table alone (no read, no
    // delete, no other table); the table's key must also let the role encrypt and decrypt its items.
    props.jobsTable.encryptionKey!.grant(this.stateMachine, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');

    // A run stopped from outside (StopExecution) or by the state machine's timeout runs no further state,
    // so no release state gives its GPU reservation back; Step Functions' status-change event does. FAILED
    // too, in case a failure bypassed the failure path: a second release of the same run is a no-op.
    this.reservationReleaseRule = new events.Rule(this, 'ReservationReleaseRule', {
      description: `${props.stage}: a training pipeline execution ended ${RELEASE_ON_STATUSES.join(', ')} -> release its GPU reservation`,
      eventPattern: {
        source: [EXECUTION_STATUS_CHANGE.source],
        detailType: [EXECUTION_STATUS_CHANGE.detailType],
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: [...RELEASE_ON_STATUSES] },
      },
    });
    this.reservationReleaseDeadLetterQueue = new sqs.Queue(this, 'ReservationReleaseDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.reservationReleaseDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the reservation release (EventBridge target DLQ and the booking function\'s async on-failure destination); a DLQ of a DLQ would only move the same message.',
    });
    this.reservationReleaseRule.addTarget(
      new eventsTargets.LambdaFunction(functions.recordGpuHours, {
        event: events.RuleTargetInput.fromObject({
          operation: 'release',
          executionName: events.EventField.fromPath(RELEASE_ON_END_INPUT_PATHS.executionName),
          endedAs: events.EventField.fromPath(RELEASE_ON_END_INPUT_PATHS.endedAs),
        }),
        // Delivery retries cover a throttled invocation; nothing waits on the release, so a day is fine.
        retryAttempts: 8,
        maxEventAge: Duration.hours(24),
        deadLetterQueue: this.reservationReleaseDeadLetterQueue,
      }),
    );
    // The rule invokes asynchronously (the state machine's invocations are synchronous and unaffected):
    // a release that still fails after Lambda's retries (e.g. the ledger throttled) lands in the same queue.
    functions.recordGpuHours.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new lambdaDestinations.SqsDestination(this.reservationReleaseDeadLetterQueue),
    });
    this.reservationReleaseDeadLetterAlarm = new cloudwatch.Alarm(this, 'ReservationReleaseDeadLetterAlarm', {
      alarmDescription: `${props.stage}: a GPU reservation release of an ended training run was not delivered or failed; the run's reservation may still be held (docs/governance.md, GPU budget)`,
      metric: this.reservationReleaseDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.reservationReleaseDeadLetterAlarm.addAlarmAction(new cloudwatchActions.SnsAction(approvals.finopsTopic));

    const smRole = this.stateMachine.role;
    Validations.of(smRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'On * only what has no resource-level permissions: batch:DescribeJobs (following .sync jobs), the CloudWatch Logs delivery actions of execution logging, and the X-Ray actions of tracing.',
    });
    acknowledgeWildcardResourceToken(
      smRole,
      stack.formatArn({ service: 'batch', resource: 'job', resourceName: '*' }),
      'batch:TerminateJob on jobs: job ids exist only at run time; it lets a stopped execution stop the GPU node it started.',
    );
    for (const step of Object.keys(functions) as PipelineStep[]) {
      acknowledgeWildcardResource(
        smRole,
        functions[step].node.defaultChild as CfnElement,
        'Arn',
        ':*',
        `lambda:InvokeFunction on the versions and aliases of the ${step} function (function-arn:*), as the invoke task grants it; no other function is reachable.`,
      );
    }

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `EventBridge Scheduler: starts ${props.stage} training pipeline executions`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
    });
    const timeZone = TimeZone.of(props.schedules.timezone);
    const datasetSchedules: Record<string, scheduler.Schedule> = {};
    const trainingSchedules: Record<string, scheduler.Schedule> = {};
    for (const model of settings.targetModels) {
      const start = (input: Record<string, string>): schedulerTargets.StepFunctionsStartExecution =>
        new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
          role: this.schedulerRole,
          input: scheduler.ScheduleTargetInput.fromObject(input),
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
        });
      datasetSchedules[model.id] = new scheduler.Schedule(this, `DatasetBuild-${model.id}`, {
        description: `${props.stage}: daily dataset build for ${model.id} (dataset only, never trains)`,
        schedule: scheduler.ScheduleExpression.expression(props.schedules.datasetBuild, timeZone),
        enabled: props.schedules.enabled,
        target: start({ mode: 'dataset-only', targetModelId: model.id, requestedBy: 'scheduler:daily-dataset-build' }),
      });
      trainingSchedules[model.id] = new scheduler.Schedule(this, `TrainingRequest-${model.id}`, {
        description: `${props.stage}: weekly training request for ${model.id} (only asks for approval)`,
        schedule: scheduler.ScheduleExpression.expression(props.schedules.trainingRequest, timeZone),
        enabled: props.schedules.enabled,
        target: start({
          mode: 'train',
          targetModelId: model.id,
          requestedBy: 'scheduler:weekly-training-request',
          reason: 'Weekly training request: trains only after a human approves',
        }),
      });
    }
    this.datasetSchedules = datasetSchedules;
    this.trainingSchedules = trainingSchedules;
  }
}

function functionId(step: PipelineStep): string {
  return `${step.charAt(0).toUpperCase()}${step.slice(1)}`;
}
