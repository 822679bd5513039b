/**
 * The training pipeline's Standard workflow as typed CDK chainable builders (JSONPath only: the local
 * engine, aws-local-stepfunctions 3.x, silently ignores JSONata, Assign and variables). It takes its
 * dependencies (functions, the Batch queue and job definitions, the notification topic, settings)
 * and creates no AWS resource itself: only the states.
 *
 * Data flow (each Task's ResultPath is the one lambdas/pipeline/contracts.ts names):
 *   $.request (Validate request) -> $.dataset -> $.eligibility -> $.budget
 *   -> [$.finopsApproval -> $.finopsDecision] -> $.approval -> $.trainingApproval -> $.reservation
 *   (no room left: -> $.finopsApproval -> $.finopsDecision -> $.reservation held past the ceiling)
 *   -> $.trainJob -> $.gpuUsage -> $.evalJob -> $.evalGpuUsage -> $.evalGate -> $.registration
 * Every caught error lands at $.error ({ Error, Cause }), which `Notify failure` reports and
 * `Pipeline failed` ends the execution with, after `Release GPU reservation of failed run` gave back the
 * run's GPU reservation (ErrorPath / CausePath); a branch that ends cleanly keeps
 * its error elsewhere ($.rejection, $.approvalExpiry, ...), so $.error only ever means "failed".
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as batch from 'aws-cdk-lib/aws-batch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { MODEL_ARTIFACT_FILE } from '../lambdas/pipeline/register-model/register-model';
import type { GpuJobKind } from '../lambdas/pipeline/contracts';
import { putEventTask, type EventTarget } from './event-tasks';
import { jobEventStates, type JobEventStates } from './job-events';
import { jobRecordStates, treatAlreadyWrittenAsDone, type JobRecordStates } from './job-records';
import { PIPELINE_EVENT_TYPES } from './pipeline-events';
import { PIPELINE_ERRORS, TRAINING_STATES, type TrainingStateName } from './training-pipeline-states';
import { awaitApprovalDecision, invokeForResult } from './lambda-tasks';

/** The pipeline's Lambda functions, one per step (the record function serves the four booking states). */
export interface TrainingPipelineFunctions {
  /** lambdas/pipeline/validate-request/handler.ts */
  readonly validateRequest: lambda.IFunction;
  /** lambdas/pipeline/dataset/handler.ts */
  readonly buildDataset: lambda.IFunction;
  /** lambdas/pipeline/eligibility/handler.ts */
  readonly checkEligibility: lambda.IFunction;
  /** lambdas/pipeline/budget/check-handler.ts */
  readonly checkGpuBudget: lambda.IFunction;
  /** lambdas/pipeline/budget/record-handler.ts (training and eval job, after success and after failure) */
  readonly recordGpuHours: lambda.IFunction;
  /** lambdas/pipeline/approvals/prepare-handler.ts (training and FinOps) */
  readonly prepareApproval: lambda.IFunction;
  /** lambdas/pipeline/approvals/request-handler.ts (training and FinOps, waits for the task token) */
  readonly requestApproval: lambda.IFunction;
  /** lambdas/pipeline/eval-gate/handler.ts */
  readonly checkEvalGate: lambda.IFunction;
  /** lambdas/pipeline/register-model/handler.ts */
  readonly registerModel: lambda.IFunction;
  /**
   * lambdas/pipeline/router/handler.ts (Prepare router job, and the two booking states of its CPU hours);
   * required with {@link TrainingPipelineDefinitionProps.routerJob}.
   */
  readonly routerJob?: lambda.IFunction;
}

/** The router's CPU training capacity (lib/constructs/router-training-compute.ts). */
export interface RouterTrainingJob {
  /** The Fargate queue `Train router` submits to. */
  readonly jobQueue: batch.IJobQueue;
  /** The router image's `train` job; each run overrides its command, size and config. */
  readonly jobDefinition: batch.IJobDefinition;
}

/** Dependencies of {@link buildTrainingPipelineDefinition}. */
export interface TrainingPipelineDefinitionProps {
  /** Stage name, shown in notification subjects. */
  readonly stage: string;
  readonly functions: TrainingPipelineFunctions;
  /** The queue both Batch jobs are submitted to. */
  readonly jobQueue: batch.IJobQueue;
  /** Training job (SIAL_MODE=train). */
  readonly trainJobDefinition: batch.IJobDefinition;
  /** Eval job (SIAL_MODE=eval). */
  readonly evalJobDefinition: batch.IJobDefinition;
  /** Where the pipeline's own notifications go (not eligible, rejected, expired, failed, registered). */
  readonly notificationsTopic: sns.ITopic;
  /** How long a human has to decide an approval; the task-token states time out after it. */
  readonly approvalTimeout: Duration;
  /** Trainer hyper-parameters (`config.training.hyperparameters`), passed as SIAL_HYPERPARAMETERS JSON. */
  readonly hyperparameters: Readonly<Record<string, string | number | boolean>>;
  /** `s3://` prefix of the eval golden sets, ending in `/`; the eval job reads `<prefix><targetModelId>/` (SIAL_GOLDEN_SET_URI). */
  readonly goldenSetsUri: string;
  /**
   * The canary rollout the last state starts for a registered model (fire-and-forget: the rollout asks
   * for its own deploy approval).
   */
  readonly rolloutStateMachine: sfn.IStateMachine;
  /** The EventBridge bus the pipeline's events (`sial.dataset.ready`) go to, with source `sial.<stage>`. */
  readonly eventBus: events.IEventBus;
  /**
   * The jobs table (data stack, lambdas/pipeline/jobs/job-record.ts): one record per Batch job, written by
   * `Record ... job ...` states with `dynamodb:updateItem` on it alone.
   */
  readonly jobsTable: dynamodb.ITable;
  /**
   * Where router targets train (CPU, Fargate). Without it the definition has no router states at all
   * (a stage without a router target).
   *
   * @default - no router path
   */
  readonly routerJob?: RouterTrainingJob;
}

/** What {@link buildTrainingPipelineDefinition} returns: the chain and the states a caller may need. */
export interface TrainingPipelineDefinition {
  /** The whole workflow, from `Validate request`. */
  readonly chain: sfn.IChainable;
  /** The Batch tasks, whose IAM statements are scoped to the given queue and job definitions. */
  readonly trainTask: tasks.BatchSubmitJob;
  readonly evalTask: tasks.BatchSubmitJob;
  /** `Hand over to canary rollout`: StartExecution of the rollout state machine, scoped to it. */
  readonly handOverTask: tasks.StepFunctionsStartExecution;
  /**
   * `Train router`: a raw Batch `submitJob.sync` state (its command and Fargate size come from the run's
   * `$.routerJob`, which the typed task cannot take from JSONPath); {@link routerTrainPolicies} are what
   * its state machine needs.
   */
  readonly trainRouterTask?: sfn.CustomState;
}

/** The IAM statements `Train router` needs: submit to the router queue and job definition, follow and stop the job. */
export function routerTrainPolicies(scope: Construct, routerJob: RouterTrainingJob): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  return [
    new iam.PolicyStatement({ actions: ['batch:SubmitJob'], resources: [routerJob.jobQueue.jobQueueArn, routerJob.jobDefinition.jobDefinitionArn] }),
    new iam.PolicyStatement({ actions: ['batch:TerminateJob'], resources: [stack.formatArn({ service: 'batch', resource: 'job', resourceName: '*' })] }),
    new iam.PolicyStatement({ actions: ['batch:DescribeJobs'], resources: ['*'] }),
    new iam.PolicyStatement({
      actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForBatchJobsRule' })],
    }),
  ];
}

export { LAMBDA_TRANSIENT_ERRORS } from './lambda-tasks';

/**
 * Batch errors retried: throttling and SDK-level failures of SubmitJob. `Batch.ServerException` is not
 * retried: SubmitJob has no idempotency token, so a retry after an ambiguous 5xx could start a second
 * GPU node behind the pipeline's back. `States.TaskFailed` (the job failed) is never retried here; the
 * job definition's retry strategy already retried Spot reclaims.
 */
export const BATCH_TRANSIENT_ERRORS = ['Batch.AWSBatchException', 'Batch.TooManyRequestsException'] as const;

/** Transient SNS publish errors (throttling, KMS throttling, internal errors). */
export const SNS_TRANSIENT_ERRORS = ['SNS.ThrottledException', 'SNS.KMSThrottlingException', 'SNS.InternalErrorException'] as const;

/** StartExecution errors retried: the account's open-execution quota (documented as transient). */
export const START_EXECUTION_TRANSIENT_ERRORS = ['StepFunctions.ExecutionLimitExceeded'] as const;

/** Where every caught failure is placed (read by `Notify failure` and `Pipeline failed`). */
export const ERROR_PATH = '$.error';

export { EVENTBRIDGE_TRANSIENT_ERRORS } from './event-tasks';

/** Where a job or model event that could not be put is kept when the run goes on without it. */
export const EVENT_ERROR_PATH = '$.eventError';

/** Where a job record that could not be written is kept when the run goes on without it. */
export const JOB_RECORD_ERROR_PATH = '$.jobRecordError';

/** What is reported of one Batch job at each of its moments: its record, then its event. */
interface JobReports {
  readonly records: JobRecordStates;
  readonly events: JobEventStates;
}

/** BatchSubmitJob's JSONPath props with the queue and job definition as constructs instead of ARNs. */
type ScopedBatchSubmitJobProps = Omit<tasks.BatchSubmitJobJsonPathProps, 'jobQueueArn' | 'jobDefinitionArn'> & {
  readonly jobQueue: batch.IJobQueue;
  readonly jobDefinition: batch.IJobDefinition;
};

/**
 * BatchSubmitJob whose IAM statements name the queue and the job definition (CDK's default allows
 * SubmitJob on every job definition of the account), and add what `.sync` needs to stop the job when
 * the execution is stopped (TerminateJob) and to follow it (DescribeJobs, the managed event rule).
 */
class ScopedBatchSubmitJob extends tasks.BatchSubmitJob {
  protected declare readonly taskPolicies: iam.PolicyStatement[];

  constructor(scope: Construct, id: string, props: ScopedBatchSubmitJobProps) {
    const { jobQueue, jobDefinition, ...submitProps } = props;
    super(scope, id, { ...submitProps, jobQueueArn: jobQueue.jobQueueArn, jobDefinitionArn: jobDefinition.jobDefinitionArn });
    const stack = Stack.of(this);
    this.taskPolicies = [
      new iam.PolicyStatement({ actions: ['batch:SubmitJob'], resources: [jobQueue.jobQueueArn, jobDefinition.jobDefinitionArn] }),
      // Job ids exist only at run time; TerminateJob lets a stopped execution stop its GPU node.
      new iam.PolicyStatement({ actions: ['batch:TerminateJob'], resources: [stack.formatArn({ service: 'batch', resource: 'job', resourceName: '*' })] }),
      // DescribeJobs supports no resource-level permissions.
      new iam.PolicyStatement({ actions: ['batch:DescribeJobs'], resources: ['*'] }),
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForBatchJobsRule' })],
      }),
    ];
  }
}

const J = sfn.JsonPath;

/**
 * SIAL_DATASET_URI: `$.dataset.grpoUri` for GRPO, `$.dataset.dpoUri` for DPO, chosen in JSONPath
 * without a Choice state (state names are a contract) and without variables (the local engine ignores
 * them). Splitting the algorithm name on "r" gives ["g", "po"] for `grpo` and ["dpo"] for `dpo`; one
 * less than that length indexes [dpoUri, grpoUri]. The algorithm enum (contracts.ts) has exactly these
 * two values; the definition test executes the expression for every value of that enum, so adding a
 * third algorithm fails it until this expression learns the new one.
 */
function datasetUriOfAlgorithm(): string {
  const index = J.mathAdd(J.arrayLength(J.stringSplit(J.stringAt('$.request.algorithm'), 'r')) as unknown as number, -1);
  return J.arrayGetItem(J.array(J.stringAt('$.dataset.dpoUri'), J.stringAt('$.dataset.grpoUri')), index as unknown as number);
}

/** The booking states of one GPU job of a run, where they read the job's result and where GpuUsage goes. */
interface GpuBooking {
  readonly succeeded: TrainingStateName;
  readonly failed: TrainingStateName;
  readonly jobPath: string;
  readonly resultPath: string;
}

const GPU_BOOKINGS: Readonly<Record<GpuJobKind, GpuBooking>> = {
  train: { succeeded: TRAINING_STATES.recordGpuHours, failed: TRAINING_STATES.recordGpuHoursAfterFailure, jobPath: '$.trainJob', resultPath: '$.gpuUsage' },
  eval: { succeeded: TRAINING_STATES.recordEvalGpuHours, failed: TRAINING_STATES.recordEvalGpuHoursAfterFailure, jobPath: '$.evalJob', resultPath: '$.evalGpuUsage' },
};

/**
 * After a job's end was booked: its record, its event, then `next`. The job has run and is paid for, so
 * neither a record that cannot be written nor an event that cannot be put (after their retries) changes
 * what follows: the run goes on, with the error at $.jobRecordError or $.eventError, and a failed job's
 * own error stays at $.error.
 */
function reportJobEnd(booking: tasks.LambdaInvoke, record: tasks.DynamoUpdateItem, event: tasks.EventBridgePutEvents, next: sfn.IChainable): void {
  treatAlreadyWrittenAsDone(record, event);
  record.addCatch(event, { errors: [sfn.Errors.ALL], resultPath: JOB_RECORD_ERROR_PATH });
  event.addCatch(next, { errors: [sfn.Errors.ALL], resultPath: EVENT_ERROR_PATH });
  booking.next(record).next(event).next(next);
}

/** After a job's failure was booked: its `failed` record and event, then the run's failure. */
function reportJobFailure(booking: tasks.LambdaInvoke, reports: JobReports, failure: sfn.IChainable): void {
  reportJobEnd(booking, reports.records.failed, reports.events.failed, failure);
}

/** After a job's success was booked: its `succeeded` record and event, then `next`. */
function reportJobSuccess(booking: tasks.LambdaInvoke, reports: JobReports, next: sfn.IChainable): void {
  reportJobEnd(booking, reports.records.succeeded, reports.events.succeeded, next);
}

/**
 * Books the GPU-hours of `jobTask`'s Batch job whether it succeeded or failed, with the record function
 * (`jobKind` tells it which of the run's ledger items to write). Returns the success state to chain on;
 * the job's Catch-all goes to the failure state, which keeps the job's error at $.error and goes on to
 * the job's failed event and `failure` (straight to `failure` when the booking itself fails).
 */
function bookGpuHours(scope: Construct, jobKind: GpuJobKind, jobTask: tasks.BatchSubmitJob, recordFunction: lambda.IFunction, reports: JobReports, failure: sfn.IChainable): tasks.LambdaInvoke {
  const { succeeded, failed, jobPath, resultPath } = GPU_BOOKINGS[jobKind];
  const common = { jobKind, request: J.objectAt('$.request'), budget: J.objectAt('$.budget') };
  const afterSuccess = invokeForResult(scope, succeeded, recordFunction, { ...common, job: J.objectAt(jobPath) }, resultPath);
  // A booking that fails after a good job fails the run like any other step (the one error path).
  afterSuccess.addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: ERROR_PATH });
  const afterFailure = invokeForResult(scope, failed, recordFunction, { ...common, error: J.objectAt(ERROR_PATH) }, resultPath);
  // Keep the job's error at $.error: it is what the run failed with, not the booking problem.
  afterFailure.addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.recordError' });
  reportJobFailure(afterFailure, reports, failure);
  jobTask.addCatch(afterFailure, { errors: [sfn.Errors.ALL], resultPath: ERROR_PATH });
  return afterSuccess;
}

/** Builds the workflow's states in `scope` and returns the chain from `Validate request`. */
export function buildTrainingPipelineDefinition(scope: Construct, props: TrainingPipelineDefinitionProps): TrainingPipelineDefinition {
  const timeoutSeconds = props.approvalTimeout.toSeconds();
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 60) {
    throw new Error(`Training pipeline: approvalTimeout is ${timeoutSeconds} s; expected whole seconds, at least 60`);
  }
  const { functions: fn, stage } = props;
  const eventTarget: EventTarget = { stage, eventBus: props.eventBus };
  const subject = (what: string): string => `[sial ${stage}] ${what}`;

  const invoke = (id: string, lambdaFunction: lambda.IFunction, payload: Record<string, unknown>, resultPath: string): tasks.LambdaInvoke =>
    invokeForResult(scope, id, lambdaFunction, payload, resultPath);
  const notify = (id: string, what: string, message: string): tasks.SnsPublish => {
    const task = new tasks.SnsPublish(scope, id, {
      topic: props.notificationsTopic,
      subject: subject(what),
      message: sfn.TaskInput.fromText(message),
      // Keep the state's data: a notification is a side effect, what follows still needs $.error etc.
      resultPath: J.DISCARD,
    });
    task.addRetry({ errors: [...SNS_TRANSIENT_ERRORS], interval: Duration.seconds(2), maxAttempts: 4, backoffRate: 2 });
    return task;
  };
  const awaitApproval = (id: string, approvalPath: string, resultPath: string): tasks.LambdaInvoke =>
    awaitApprovalDecision(scope, id, { requestApproval: fn.requestApproval, approvalPath, timeout: props.approvalTimeout, resultPath });

  // Terminal states.
  const failed = new sfn.Fail(scope, TRAINING_STATES.failed, {
    comment: 'Ends the execution with the error that stopped it (RequestRefused, EvalGateFailed, a Batch failure, ...)',
    errorPath: `${ERROR_PATH}.Error`,
    causePath: `${ERROR_PATH}.Cause`,
  });
  const notifyFailure = notify(
    TRAINING_STATES.notifyFailure,
    'training pipeline failed',
    J.format('Execution {} of the {} training pipeline failed.\n\nError: {}\nCause: {}', J.executionName, stage, J.stringAt(`${ERROR_PATH}.Error`), J.stringAt(`${ERROR_PATH}.Cause`)),
  );
  // If even the failure notice cannot be sent, still end with the original error ($.error is kept).
  notifyFailure.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.notifyError' });
  notifyFailure.next(failed);
  // Every failure gives back the run's GPU reservation first (nothing, if it held none yet). The run id
  // comes from the execution name: $.request is absent when Validate request itself failed.
  const releaseAfterFailure = invoke(TRAINING_STATES.releaseGpuReservationAfterFailure, fn.recordGpuHours, { operation: 'release', executionName: J.executionName }, '$.reservationRelease');
  // Keep the run's error at $.error: it is what the run failed with, not the release problem.
  releaseAfterFailure.addCatch(notifyFailure, { errors: [sfn.Errors.ALL], resultPath: '$.releaseError' });
  releaseAfterFailure.next(notifyFailure);
  const failure = releaseAfterFailure;
  const onFailure = (task: tasks.LambdaInvoke | tasks.SnsPublish | tasks.StepFunctionsStartExecution | tasks.EventBridgePutEvents | tasks.DynamoUpdateItem): void => {
    task.addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: ERROR_PATH });
  };
  // A job's `submitted` record and event fail the run when they cannot be written or put, like `Emit
  // dataset ready`: nothing has run yet, and the failure path gives the reservation back. So every job
  // that runs has its record and its event. The record comes first: `records.submitted` is where a job
  // is entered from, and the event leads to the job.
  type StateNames = readonly [TrainingStateName, TrainingStateName, TrainingStateName];
  const jobReports = (kind: 'train' | 'eval' | 'train-router', eventNames: StateNames, recordNames: StateNames, jobPath: string, usagePath: string): JobReports => {
    const named = (names: StateNames) => ({ submitted: names[0], succeeded: names[1], failed: names[2] });
    const events = jobEventStates(scope, eventTarget, { kind, names: named(eventNames), jobPath, usagePath });
    const records = jobRecordStates(scope, props.jobsTable, { kind, names: named(recordNames), jobPath, usagePath });
    onFailure(events.submitted);
    treatAlreadyWrittenAsDone(records.submitted, events.submitted);
    onFailure(records.submitted);
    records.submitted.next(events.submitted);
    return { records, events };
  };

  const datasetBuilt = new sfn.Succeed(scope, TRAINING_STATES.datasetBuilt, { comment: 'Dataset-only run (daily schedule): the manifest is the output', outputPath: '$.dataset' });
  const notEligible = new sfn.Succeed(scope, TRAINING_STATES.notEligible, { comment: 'Not eligible for training: the reasons are the output', outputPath: '$.eligibility' });
  const finopsRejected = new sfn.Succeed(scope, TRAINING_STATES.finopsRejected, { comment: 'FinOps declined to lift the GPU-hour ceiling for this run' });
  const trainingRejected = new sfn.Succeed(scope, TRAINING_STATES.trainingRejected, { comment: 'An approver rejected the training run' });
  const approvalExpired = new sfn.Succeed(scope, TRAINING_STATES.approvalExpired, { comment: 'Nobody decided before the approval expired' });

  // 1. Validate request: a refusal (managed model, unknown target) ends the run at once with its reason.
  const validateRequest = invoke(TRAINING_STATES.validateRequest, fn.validateRequest, { input: J.entirePayload, executionName: J.executionName }, '$.request');
  validateRequest.addCatch(failure, { errors: [PIPELINE_ERRORS.requestRefused], resultPath: ERROR_PATH });
  onFailure(validateRequest);

  // 2. Build dataset; a dataset-only run (the daily schedule) ends here.
  const buildDataset = invoke(TRAINING_STATES.buildDataset, fn.buildDataset, { request: J.objectAt('$.request') }, '$.dataset');
  onFailure(buildDataset);
  // Other systems subscribe to a built dataset; the event carries ids and counts, never trace content.
  const emitDatasetReady = putEventTask(scope, TRAINING_STATES.emitDatasetReady, eventTarget, PIPELINE_EVENT_TYPES.datasetReady, {
    runId: J.stringAt('$.request.runId'),
    executionName: J.executionName,
    datasetId: J.stringAt('$.dataset.datasetId'),
    targetModelId: J.stringAt('$.request.targetModelId'),
    mode: J.stringAt('$.request.mode'),
    manifestUri: J.stringAt('$.dataset.manifestUri'),
    counts: J.objectAt('$.dataset.counts'),
  });
  onFailure(emitDatasetReady);
  const datasetOnly = new sfn.Choice(scope, TRAINING_STATES.datasetOnly);

  // 3. Eligibility.
  const checkEligibility = invoke(TRAINING_STATES.checkEligibility, fn.checkEligibility, { request: J.objectAt('$.request'), dataset: J.objectAt('$.dataset') }, '$.eligibility');
  onFailure(checkEligibility);
  const eligible = new sfn.Choice(scope, TRAINING_STATES.eligible);
  const notifyNotEligible = notify(
    TRAINING_STATES.notifyNotEligible,
    'training not eligible',
    J.format(
      'Run {} for {} will not train: the dataset is not eligible.\n\nReasons: {}\nFigures: {}\nExecution: {}',
      J.stringAt('$.request.runId'),
      J.stringAt('$.request.targetModelId'),
      J.jsonToString(J.listAt('$.eligibility.reasons')),
      J.jsonToString(J.objectAt('$.eligibility.figures')),
      J.executionId,
    ),
  );
  onFailure(notifyNotEligible);
  notifyNotEligible.next(notEligible);

  // 4. GPU budget; over the ceiling needs a FinOps approval first.
  const checkGpuBudget = invoke(TRAINING_STATES.checkGpuBudget, fn.checkGpuBudget, { request: J.objectAt('$.request') }, '$.budget');
  onFailure(checkGpuBudget);
  const withinBudget = new sfn.Choice(scope, TRAINING_STATES.withinBudget);

  const approvalSummary = (kind: 'train' | 'finops'): Record<string, unknown> => ({
    // Order is display order (the page and the e-mail list it as given).
    ...(kind === 'finops' ? { gpuBudget: J.objectAt('$.budget') } : {}),
    targetModelId: J.stringAt('$.request.targetModelId'),
    modelFamily: J.stringAt('$.request.modelFamily'),
    algorithm: J.stringAt('$.request.algorithm'),
    requestedBy: J.stringAt('$.request.requestedBy'),
    requestedAt: J.stringAt('$.request.requestedAt'),
    datasetId: J.stringAt('$.dataset.datasetId'),
    rewardPolicyVersion: J.stringAt('$.dataset.rewardPolicyVersion'),
    datasetCounts: J.objectAt('$.dataset.counts'),
    eligibility: J.objectAt('$.eligibility.figures'),
    ...(kind === 'train' ? { gpuBudget: J.objectAt('$.budget') } : {}),
  });
  const prepareInput = (kind: 'train' | 'finops'): Record<string, unknown> => ({
    kind,
    request: J.objectAt('$.request'),
    summary: approvalSummary(kind),
    executionArn: J.executionId,
  });

  const prepareFinops = invoke(TRAINING_STATES.prepareFinopsApproval, fn.prepareApproval, prepareInput('finops'), '$.finopsApproval');
  onFailure(prepareFinops);
  const requestFinops = awaitApproval(TRAINING_STATES.requestFinopsApproval, '$.finopsApproval', '$.finopsDecision');
  const notifyFinopsRejected = notify(
    TRAINING_STATES.notifyFinopsRejected,
    'FinOps rejected a training run',
    J.format('FinOps rejected the GPU budget exception for run {} ({}). Nothing was trained.\n\nDecision: {}', J.stringAt('$.request.runId'), J.stringAt('$.request.targetModelId'), J.stringAt('$.rejection.Cause')),
  );
  onFailure(notifyFinopsRejected);
  notifyFinopsRejected.next(finopsRejected);

  const notifyApprovalExpired = notify(
    TRAINING_STATES.notifyApprovalExpired,
    'approval expired',
    J.format('Nobody decided an approval for run {} ({}) in time; the run stopped without training. Start a new execution to ask again.\n\nExecution: {}', J.stringAt('$.request.runId'), J.stringAt('$.request.targetModelId'), J.executionId),
  );
  onFailure(notifyApprovalExpired);
  notifyApprovalExpired.next(approvalExpired);

  requestFinops.addCatch(notifyFinopsRejected, { errors: [PIPELINE_ERRORS.approvalRejected], resultPath: '$.rejection' });
  requestFinops.addCatch(notifyApprovalExpired, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.approvalExpiry' });
  onFailure(requestFinops);

  // The same FinOps decision when the reservation after the training approval found no room (another
  // run reserved while this one waited). Its own states, so the graph shows that a reservation past the
  // ceiling follows a FinOps approval and Train is only reached after the training approval.
  const prepareFinopsOfReservation = invoke(TRAINING_STATES.prepareFinopsApprovalOfReservation, fn.prepareApproval, prepareInput('finops'), '$.finopsApproval');
  onFailure(prepareFinopsOfReservation);
  const requestFinopsOfReservation = awaitApproval(TRAINING_STATES.requestFinopsApprovalOfReservation, '$.finopsApproval', '$.finopsDecision');
  requestFinopsOfReservation.addCatch(notifyFinopsRejected, { errors: [PIPELINE_ERRORS.approvalRejected], resultPath: '$.rejection' });
  requestFinopsOfReservation.addCatch(notifyApprovalExpired, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.approvalExpiry' });
  onFailure(requestFinopsOfReservation);

  // 5. Training approval (always, within budget or after FinOps approved).
  const prepareTraining = invoke(TRAINING_STATES.prepareTrainingApproval, fn.prepareApproval, prepareInput('train'), '$.approval');
  onFailure(prepareTraining);
  const requestTraining = awaitApproval(TRAINING_STATES.requestTrainingApproval, '$.approval', '$.trainingApproval');
  const notifyTrainingRejected = notify(
    TRAINING_STATES.notifyTrainingRejected,
    'training run rejected',
    J.format('Training run {} ({}) was rejected. Nothing was trained.\n\nDecision: {}', J.stringAt('$.request.runId'), J.stringAt('$.request.targetModelId'), J.stringAt('$.rejection.Cause')),
  );
  onFailure(notifyTrainingRejected);
  notifyTrainingRejected.next(trainingRejected);
  requestTraining.addCatch(notifyTrainingRejected, { errors: [PIPELINE_ERRORS.approvalRejected], resultPath: '$.rejection' });
  requestTraining.addCatch(notifyApprovalExpired, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.approvalExpiry' });
  onFailure(requestTraining);

  // 5b. A router (Phase 1) trains on CPU: the same approval, no GPU budget, its own job.
  const routerCondition = sfn.Condition.and(sfn.Condition.isPresent('$.request.targetKind'), sfn.Condition.stringEquals('$.request.targetKind', 'router'));
  const routerJob = props.routerJob;
  const routerFunction = fn.routerJob;
  if (routerJob !== undefined && routerFunction === undefined) throw new Error('Training pipeline: a router job needs functions.routerJob (lambdas/pipeline/router/handler.ts)');
  const routerPath = routerJob === undefined || routerFunction === undefined ? undefined : (() => {
  const routerTarget = new sfn.Choice(scope, TRAINING_STATES.routerTarget);
  const noGpuBudget = new sfn.Pass(scope, TRAINING_STATES.routerNeedsNoGpuBudget, {
    comment: 'A router trains on Fargate CPUs: no GPU-hours to budget; the approval shows this instead of a GPU estimate',
    result: sfn.Result.fromObject({ withinBudget: true, gpuHours: 0, note: 'router: a CPU job on AWS Batch Fargate; its vCPU-hours are recorded after the job' }),
    resultPath: '$.budget',
  });
  const whichTrainer = new sfn.Choice(scope, TRAINING_STATES.whichTrainer);
  const prepareRouterJob = invoke(TRAINING_STATES.prepareRouterJob, routerFunction, { operation: 'prepare', request: J.objectAt('$.request'), dataset: J.objectAt('$.dataset') }, '$.routerJob');
  onFailure(prepareRouterJob);
  const trainRouterTask = new sfn.CustomState(scope, TRAINING_STATES.trainRouter, {
    stateJson: {
      Type: 'Task',
      Comment: "The router image's train on Fargate: command, size and config from $.routerJob (training/README.md, router)",
      Resource: `arn:${Stack.of(scope).partition}:states:::batch:submitJob.sync`,
      Parameters: {
        'JobName.$': "States.Format('train-router-{}', $.request.runId)",
        JobQueue: routerJob.jobQueue.jobQueueArn,
        JobDefinition: routerJob.jobDefinition.jobDefinitionArn,
        ContainerOverrides: {
          'Command.$': '$.routerJob.command',
          ResourceRequirements: [
            { Type: 'VCPU', 'Value.$': '$.routerJob.vcpus' },
            { Type: 'MEMORY', 'Value.$': '$.routerJob.memoryMiB' },
          ],
          Environment: [
            { Name: 'SIAL_ROUTER_CONFIG', 'Value.$': '$.routerJob.config' },
            { Name: 'SIAL_RUN_ID', 'Value.$': '$.request.runId' },
            { Name: 'SIAL_TARGET_MODEL_ID', 'Value.$': '$.request.targetModelId' },
          ],
        },
        Timeout: { 'AttemptDurationSeconds.$': '$.routerJob.timeoutSeconds' },
      },
      ResultPath: '$.trainJob',
    },
  });
  trainRouterTask.addRetry({ errors: [...BATCH_TRANSIENT_ERRORS], interval: Duration.seconds(10), maxAttempts: 4, backoffRate: 2 });
  // Its vCPU-hours are booked whether it succeeded or failed, like a GPU job's hours.
  const recordRouterCpu = invoke(TRAINING_STATES.recordRouterCpuHours, routerFunction, { operation: 'record', request: J.objectAt('$.request'), routerJob: J.objectAt('$.routerJob'), job: J.objectAt('$.trainJob') }, '$.cpuUsage');
  onFailure(recordRouterCpu);
  const recordRouterCpuAfterFailure = invoke(
    TRAINING_STATES.recordRouterCpuHoursAfterFailure,
    routerFunction,
    { operation: 'record', request: J.objectAt('$.request'), routerJob: J.objectAt('$.routerJob'), error: J.objectAt(ERROR_PATH) },
    '$.cpuUsage',
  );
  recordRouterCpuAfterFailure.addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.recordError' });
  const routerReports = jobReports(
    'train-router',
    [TRAINING_STATES.emitRouterJobSubmitted, TRAINING_STATES.emitRouterJobSucceeded, TRAINING_STATES.emitRouterJobFailed],
    [TRAINING_STATES.recordRouterJobSubmitted, TRAINING_STATES.recordRouterJobSucceeded, TRAINING_STATES.recordRouterJobFailed],
    '$.trainJob',
    '$.cpuUsage',
  );
  reportJobFailure(recordRouterCpuAfterFailure, routerReports, failure);
  trainRouterTask.addCatch(recordRouterCpuAfterFailure, { errors: [sfn.Errors.ALL], resultPath: ERROR_PATH });
  prepareRouterJob.next(routerReports.records.submitted);
  routerReports.events.submitted.next(trainRouterTask).next(recordRouterCpu);
  return { routerTarget, noGpuBudget, whichTrainer, prepareRouterJob, trainRouterTask, recordRouterCpu, routerReports };
  })();

  // 5c. Reserve the run's estimate now that it is approved: atomically, within the ceiling, or FinOps
  // decides. After a FinOps approval (either before the training approval or after a failed
  // reservation) the hours are held past the ceiling, so runs that come later see them.
  const reserveInput = (overCeilingApproved: boolean): Record<string, unknown> => ({ operation: 'reserve', request: J.objectAt('$.request'), budget: J.objectAt('$.budget'), overCeilingApproved });
  const reserveBudget = invoke(TRAINING_STATES.reserveGpuBudget, fn.recordGpuHours, reserveInput(false), '$.reservation');
  onFailure(reserveBudget);
  const reserveApprovedByFinops = invoke(TRAINING_STATES.reserveGpuBudgetApprovedByFinops, fn.recordGpuHours, reserveInput(true), '$.reservation');
  onFailure(reserveApprovedByFinops);
  const budgetReserved = new sfn.Choice(scope, TRAINING_STATES.budgetReserved);
  // $.finopsDecision is written only by a FinOps approval state: the execution input is a strict
  // object (pipelineInputSchema), so an input carrying that key is refused at Validate request.
  const approvedByFinops = new sfn.Choice(scope, TRAINING_STATES.approvedByFinops);

  // 6. Train on Batch (.sync), with the job contract of training/README.md.
  const trainTask = new ScopedBatchSubmitJob(scope, TRAINING_STATES.train, {
    jobQueue: props.jobQueue,
    jobDefinition: props.trainJobDefinition,
    jobName: J.format('train-{}', J.stringAt('$.request.runId')),
    containerOverrides: {
      environment: {
        SIAL_MODE: 'train',
        SIAL_RUN_ID: J.stringAt('$.request.runId'),
        SIAL_TARGET_MODEL_ID: J.stringAt('$.request.targetModelId'),
        SIAL_ALGORITHM: J.stringAt('$.request.algorithm'),
        SIAL_DATASET_URI: datasetUriOfAlgorithm(),
        SIAL_MANIFEST_URI: J.stringAt('$.dataset.manifestUri'),
        SIAL_BASE_MODEL_URI: J.stringAt('$.request.baseModelUri'),
        SIAL_OUTPUT_URI: J.stringAt('$.request.uris.output'),
        SIAL_CHECKPOINT_URI: J.stringAt('$.request.uris.checkpoints'),
        SIAL_HYPERPARAMETERS: JSON.stringify(props.hyperparameters),
      },
    },
    // Rendered as Timeout.AttemptDurationSeconds.$: each attempt ends before the budget could be crossed.
    taskTimeout: sfn.Timeout.at('$.budget.jobTimeoutSeconds'),
    resultPath: '$.trainJob',
  });
  trainTask.addRetry({ errors: [...BATCH_TRANSIENT_ERRORS], interval: Duration.seconds(10), maxAttempts: 4, backoffRate: 2 });

  // 7. Book the training job's GPU-hours, after success or after failure.
  const trainReports = jobReports(
    'train',
    [TRAINING_STATES.emitTrainJobSubmitted, TRAINING_STATES.emitTrainJobSucceeded, TRAINING_STATES.emitTrainJobFailed],
    [TRAINING_STATES.recordTrainJobSubmitted, TRAINING_STATES.recordTrainJobSucceeded, TRAINING_STATES.recordTrainJobFailed],
    '$.trainJob',
    '$.gpuUsage',
  );
  const bookTrain = bookGpuHours(scope, 'train', trainTask, fn.recordGpuHours, trainReports, failure);

  // 8. Evaluate on the golden set, then the gate.
  const evalTask = new ScopedBatchSubmitJob(scope, TRAINING_STATES.evaluate, {
    jobQueue: props.jobQueue,
    jobDefinition: props.evalJobDefinition,
    jobName: J.format('eval-{}', J.stringAt('$.request.runId')),
    containerOverrides: {
      environment: {
        SIAL_MODE: 'eval',
        SIAL_RUN_ID: J.stringAt('$.request.runId'),
        SIAL_TARGET_MODEL_ID: J.stringAt('$.request.targetModelId'),
        SIAL_MODEL_URI: J.format(`{}${MODEL_ARTIFACT_FILE}`, J.stringAt('$.request.uris.output')),
        SIAL_GOLDEN_SET_URI: J.format(`${props.goldenSetsUri}{}/`, J.stringAt('$.request.targetModelId')),
        SIAL_OUTPUT_URI: J.stringAt('$.request.uris.evalOutput'),
        SIAL_METRICS_URI: J.stringAt('$.request.uris.metrics'),
        // The same caps as training (prompt and answer lengths) for the golden-set answers.
        SIAL_HYPERPARAMETERS: JSON.stringify(props.hyperparameters),
      },
    },
    resultPath: '$.evalJob',
  });
  evalTask.addRetry({ errors: [...BATCH_TRANSIENT_ERRORS], interval: Duration.seconds(10), maxAttempts: 4, backoffRate: 2 });
  // The eval job holds the same GPUs: its hours are booked too, as the run's second ledger item.
  const evalReports = jobReports(
    'eval',
    [TRAINING_STATES.emitEvalJobSubmitted, TRAINING_STATES.emitEvalJobSucceeded, TRAINING_STATES.emitEvalJobFailed],
    [TRAINING_STATES.recordEvalJobSubmitted, TRAINING_STATES.recordEvalJobSucceeded, TRAINING_STATES.recordEvalJobFailed],
    '$.evalJob',
    '$.evalGpuUsage',
  );
  const bookEval = bookGpuHours(scope, 'eval', evalTask, fn.recordGpuHours, evalReports, failure);

  // Both GPU jobs are booked: whatever the reservation still holds goes back before the (GPU-free) rest.
  const releaseReservation = invoke(TRAINING_STATES.releaseGpuReservation, fn.recordGpuHours, { operation: 'release', executionName: J.executionName }, '$.reservationRelease');
  onFailure(releaseReservation);

  const checkEvalGate = invoke(TRAINING_STATES.checkEvalGate, fn.checkEvalGate, { request: J.objectAt('$.request') }, '$.evalGate');
  // EvalGateFailed carries the metrics in its cause; the Fail state ends the execution with it.
  checkEvalGate.addCatch(failure, { errors: [PIPELINE_ERRORS.evalGateFailed], resultPath: ERROR_PATH });
  onFailure(checkEvalGate);

  // 9. Register (pending manual approval) and tell everyone.
  const registerModel = invoke(
    TRAINING_STATES.registerModel,
    fn.registerModel,
    { request: J.objectAt('$.request'), dataset: J.objectAt('$.dataset'), evalGate: J.objectAt('$.evalGate'), trainingApproval: J.objectAt('$.trainingApproval') },
    '$.registration',
  );
  onFailure(registerModel);
  const notifyRegistered = notify(
    TRAINING_STATES.notifyRegistered,
    'candidate model registered',
    J.format(
      'Run {} trained {} and passed the eval gate. Registered as {} (version {}), pending approval for rollout.\n\nExecution: {}',
      J.stringAt('$.request.runId'),
      J.stringAt('$.request.targetModelId'),
      J.stringAt('$.registration.modelPackageArn'),
      J.jsonToString(J.objectAt('$.registration.modelPackageVersion')),
      J.executionId,
    ),
  );
  onFailure(notifyRegistered);
  // The registered version, for subscribers (sial.model.updated); the rollout puts promoted and rolled
  // back. The model is registered by now: an event that cannot be put does not undo that.
  const emitModelRegistered = putEventTask(scope, TRAINING_STATES.emitModelRegistered, eventTarget, PIPELINE_EVENT_TYPES.modelUpdated, {
    action: 'registered',
    targetModelId: J.stringAt('$.request.targetModelId'),
    modelPackageGroupName: J.stringAt('$.registration.modelPackageGroupName'),
    modelPackageArn: J.stringAt('$.registration.modelPackageArn'),
    modelPackageVersion: J.numberAt('$.registration.modelPackageVersion'),
    runId: J.stringAt('$.request.runId'),
    executionName: J.executionName,
    datasetId: J.stringAt('$.dataset.datasetId'),
    modelOutputUri: J.stringAt('$.request.uris.output'),
  });
  emitModelRegistered.addCatch(notifyRegistered, { errors: [sfn.Errors.ALL], resultPath: EVENT_ERROR_PATH });

  // 10. Start the canary rollout and end: the rollout runs on its own, behind its own deploy approval,
  // for days if need be. Its execution name is this execution's, so a retried StartExecution (same name,
  // same input) returns the execution already started instead of a second rollout. The output stays the
  // registration.
  const handOver = new tasks.StepFunctionsStartExecution(scope, TRAINING_STATES.handOverToRollout, {
    stateMachine: props.rolloutStateMachine,
    integrationPattern: sfn.IntegrationPattern.REQUEST_RESPONSE,
    name: J.executionName,
    // Exactly lambdas/rollout/contracts.ts rolloutInputSchema (strict: no extra keys).
    input: sfn.TaskInput.fromObject({
      targetModelId: J.stringAt('$.request.targetModelId'),
      modelPackageArn: J.stringAt('$.registration.modelPackageArn'),
      modelPackageVersion: J.numberAt('$.registration.modelPackageVersion'),
      requestedBy: J.format('training-pipeline:{}', J.executionName),
    }),
    resultPath: J.DISCARD,
    outputPath: '$.registration',
  });
  handOver.addRetry({ errors: [...START_EXECUTION_TRANSIENT_ERRORS], interval: Duration.seconds(5), maxAttempts: 4, backoffRate: 2 });
  onFailure(handOver);

  const chain = sfn.Chain.start(validateRequest)
    .next(buildDataset)
    .next(emitDatasetReady)
    .next(
      datasetOnly
        .when(sfn.Condition.stringEquals('$.request.mode', 'dataset-only'), datasetBuilt)
        .otherwise(
          checkEligibility.next(
            eligible
              .when(
                sfn.Condition.booleanEquals('$.eligibility.eligible', true),
                routerPath === undefined ? checkGpuBudget.next(withinBudget) : routerPath.routerTarget.when(routerCondition, routerPath.noGpuBudget).otherwise(checkGpuBudget.next(withinBudget)),
              )
              .otherwise(notifyNotEligible),
          ),
        ),
    );

  trainReports.events.submitted.next(trainTask).next(bookTrain);
  reportJobSuccess(bookTrain, trainReports, evalReports.records.submitted);
  evalReports.events.submitted.next(evalTask).next(bookEval);
  reportJobSuccess(bookEval, evalReports, releaseReservation);
  releaseReservation.next(checkEvalGate).next(registerModel).next(emitModelRegistered).next(notifyRegistered).next(handOver);
  reserveApprovedByFinops.next(trainReports.records.submitted);
  reserveBudget.next(budgetReserved.when(sfn.Condition.booleanEquals('$.reservation.reserved', true), trainReports.records.submitted).otherwise(prepareFinopsOfReservation));
  prepareFinopsOfReservation.next(requestFinopsOfReservation).next(reserveApprovedByFinops);
  const reserveForLlm = approvedByFinops.when(sfn.Condition.isPresent('$.finopsDecision'), reserveApprovedByFinops).otherwise(reserveBudget);
  const approved = prepareTraining.next(requestTraining);
  let trainingApprovalChain: sfn.Chain;
  if (routerPath === undefined) {
    trainingApprovalChain = approved.next(reserveForLlm);
  } else {
    // The router's job writes its own metrics.json (the trainer evaluates and gates): straight to the gate.
    reportJobSuccess(routerPath.recordRouterCpu, routerPath.routerReports, checkEvalGate);
    trainingApprovalChain = approved.next(routerPath.whichTrainer.when(routerCondition, routerPath.prepareRouterJob).otherwise(reserveForLlm));
    routerPath.noGpuBudget.next(prepareTraining);
  }
  // FinOps before the training approval: the check already saw no room.
  prepareFinops.next(requestFinops).next(prepareTraining);
  withinBudget.when(sfn.Condition.booleanEquals('$.budget.withinBudget', true), trainingApprovalChain).otherwise(prepareFinops);

  return { chain, trainTask, evalTask, handOverTask: handOver, ...(routerPath === undefined ? {} : { trainRouterTask: routerPath.trainRouterTask }) };
}
