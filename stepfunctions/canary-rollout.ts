/**
 * The canary rollout's Standard workflow as typed CDK chainable builders (JSONPath only: the local
 * engine, aws-local-stepfunctions 3.x, silently ignores JSONata, Assign and variables). It takes its
 * dependencies (functions, the notification topic, the SageMaker endpoints it may weigh) and creates no
 * AWS resource itself: only the states, named exactly as ROLLOUT_STATES.
 *
 * Data flow (ResultPaths of lambdas/rollout/contracts.ts):
 *   Validate rollout -> $ = { rollout, progress: null, check: null, error: null }
 *   [SageMaker: Deploy candidate variant -> $.deployment; Check endpoint status -> $.endpoint]
 *   Next step: the first time (progress null) -> Advance step -> $.progress (index 0)
 *   Prepare step approval -> $.stepApproval; Request step approval -> $.stepDecision
 *   SageMaker: Set SageMaker weights (aws-sdk) -> Verify SageMaker weights -> $.verified
 *   EKS: Read HTTPRoute (eks:call GET) -> $.route; Plan HTTPRoute patch -> $.routePatch (every rule as
 *        read, the two backends weighed); Patch HTTPRoute weights (eks:call PATCH, that merge patch)
 *        -> $.route (the route as stored) -> Verify HTTPRoute weights -> $.verified
 *   Bake -> Check canary -> $.check -> Canary healthy? -> Advance step -> $.progress -> Next step ...
 *   done -> Promote candidate -> $.promotion -> Emit model promoted -> Notify promoted -> Promoted
 *
 * Every way out that is not a promotion goes through `Roll back`, which restores 100 % on the current
 * version (verified) before anything else happens: an alarm (Canary healthy? rollBack), a rejected or
 * expired step approval, and any failure of any Task (Catch States.ALL -> $.error). The one exception is
 * `Validate rollout`: before it succeeds there is no plan and nothing has been deployed or moved, so a
 * refusal goes straight to `Notify rolled back` with the refusal as the outcome.
 *
 * `$.rollback` always holds `Error` and `Cause` when the execution ends badly: the rollback record with
 * `Error: RolledBack` and `Cause: <reason>` added, or, when the rollback itself failed after its retries,
 * the Catch's own `{ Error, Cause }`. `Rolled back` (Fail) ends the execution with those two, so a
 * rollback ends as `RolledBack` with its reason and a failed rollback ends loudly with its own error.
 * The state names have no choice of their own after `Roll back`, so `Next step` routes the ends too
 * (rejected -> Notify rollout rejected, any other rollback -> Notify rolled back).
 *
 * Events (sial.model.updated on the default bus): `promoted` after `Promote candidate`, `rolled-back`
 * after a `Roll back` that succeeded (`Rollback reason?` picks the reason: the canary alarm's name,
 * `operator` for a rejected step approval, ...). Neither is put when nothing moved (a refused rollout)
 * or when the rollback itself failed. Both are put after the change they report is done, so a put that
 * still fails after its retries is caught into `$.eventError` and the execution ends as it would have.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { rollbackRecordSchema } from '../lambdas/rollout/contracts';
import { ROLLOUT_LAMBDA_ERRORS } from '../lambdas/rollout/errors';
import { ROLLOUT_ERRORS, ROLLOUT_STATES } from './canary-rollout-states';
import { putEventTask } from './event-tasks';
import { awaitApprovalDecision, invokeForResult } from './lambda-tasks';
import { PIPELINE_EVENT_TYPES, type RollbackEventReason } from './pipeline-events';
import { EVENT_ERROR_PATH, SNS_TRANSIENT_ERRORS } from './training-pipeline';
import { PIPELINE_ERRORS } from './training-pipeline-states';

/** The rollout's Lambda functions (the approval pair is the training pipeline's, shared). */
export interface CanaryRolloutFunctions {
  /** lambdas/rollout/validate-rollout: the execution input -> the plan (`$.rollout`); claims the model. */
  readonly validateRollout: lambda.IFunction;
  /** lambdas/rollout/deploy-variant: the candidate as a second production variant at weight 0 (SageMaker). */
  readonly deployCandidate: lambda.IFunction;
  /** lambdas/rollout/deploy-variant: DescribeEndpoint -> `$.endpoint` ({ inService, failed, ... }). */
  readonly endpointStatus: lambda.IFunction;
  /** lambdas/pipeline/approvals/prepare-handler.ts (kind `deploy-stage`). */
  readonly prepareApproval: lambda.IFunction;
  /** lambdas/pipeline/approvals/request-handler.ts (waits for the task token). */
  readonly requestApproval: lambda.IFunction;
  /** lambdas/rollout/verify-weights: DescribeEndpoint until the step's split serves -> `$.verified`. */
  readonly verifySageMakerWeights: lambda.IFunction;
  /** lambdas/rollout/route-patch: the route as `Read HTTPRoute` returned it -> the merge patch (`$.routePatch`). */
  readonly planRoutePatch: lambda.IFunction;
  /** lambdas/rollout/verify-weights: the route as `Read HTTPRoute` returned it -> `$.verified`. */
  readonly verifyRouteWeights: lambda.IFunction;
  /** lambdas/rollout/check-canary: alarm state and rollback record -> `$.check`. */
  readonly checkCanary: lambda.IFunction;
  /** lambdas/rollout/advance-step: `$.progress` to the next step (or done). */
  readonly advanceStep: lambda.IFunction;
  /** lambdas/rollout/promote: registry Approved, deployment store current -> `$.promotion`. */
  readonly promote: lambda.IFunction;
  /** lambdas/rollout/roll-back: 100 % current, verified and recorded -> `$.rollback`. */
  readonly rollBack: lambda.IFunction;
}

/** Dependencies of {@link buildCanaryRolloutDefinition}. */
export interface CanaryRolloutDefinitionProps {
  /** Stage name, shown in notification subjects. */
  readonly stage: string;
  readonly functions: CanaryRolloutFunctions;
  /** Where the rollout's outcome is announced (promoted, rolled back, rejected). */
  readonly notificationsTopic: sns.ITopic;
  /** Where `sial.model.updated` goes (promoted, rolled back): the account's default bus. */
  readonly eventBus: events.IEventBus;
  /** How long a human has to decide a step approval; the task-token state times out after it. */
  readonly approvalTimeout: Duration;
  /**
   * ARNs of the SageMaker endpoints `Set SageMaker weights` may change (the stage's SageMaker targets).
   * Empty when the stage has none: the state then has no permission at all.
   */
  readonly sageMakerEndpointArns: readonly string[];
  /**
   * ARNs of the EKS clusters `Describe EKS cluster` may read (the stage's EKS targets). Empty when the
   * stage has none: the state then has no permission at all.
   */
  readonly eksClusterArns: readonly string[];

  /**
   * Pause between endpoint status checks while the candidate variant is deployed.
   *
   * @default Duration.seconds(30)
   */
  readonly endpointPollInterval?: Duration;
}

/** What {@link buildCanaryRolloutDefinition} returns. */
export interface CanaryRolloutDefinition {
  /** The whole workflow, from `Validate rollout`. */
  readonly chain: sfn.IChainable;
  /** `Set SageMaker weights`, whose IAM statement names the endpoints. */
  readonly setSageMakerWeights: tasks.CallAwsService;
  /** `Read HTTPRoute` and `Patch HTTPRoute weights`: authorized by the clusters (access entries), not by IAM. */
  readonly patchRoute: tasks.EksCall;
  readonly readRoute: tasks.EksCall;
}

/**
 * Errors of `aws-sdk:sagemaker:*` tasks worth a retry: SDK integrations name service errors
 * `SageMaker.<Exception>`, and SageMaker reports throttling and "endpoint is being updated" as its
 * generic exception (the optimized integrations' spelling is listed too).
 */
export const SAGEMAKER_TRANSIENT_ERRORS = ['SageMaker.SageMakerException', 'SageMaker.AmazonSageMakerException', 'SageMaker.ThrottlingException'] as const;

/**
 * eks:call errors worth a retry: `EKS.<HTTP status>` for throttling and server errors. Not 409: the
 * patch's resourceVersion precondition failed, the route changed since it was read, and re-sending the
 * same precondition cannot succeed.
 */
export const EKS_TRANSIENT_ERRORS = ['EKS.429', 'EKS.500', 'EKS.502', 'EKS.503', 'EKS.504'] as const;

/** Errors of the `aws-sdk:eks:describeCluster` task worth a retry (SDK integrations spell the service `Eks`). */
export const EKS_API_TRANSIENT_ERRORS = ['Eks.ServerException', 'Eks.ServiceUnavailableException', 'Eks.ThrottlingException'] as const;

/** The Gateway API path of the plan's HTTPRoute, built from `$.rollout.target`. */
export const HTTP_ROUTE_PATH_FORMAT = '/apis/gateway.networking.k8s.io/v1/namespaces/{}/httproutes/{}';

/** Where a caught failure is placed; `Roll back` reads it (with `$.check`) to say why. */
export const ROLLOUT_ERROR_PATH = '$.error';

/** Errors of a step approval that end the rollout as rejected (not approved in time counts as rejected). */
export const REJECTION_ERRORS = [PIPELINE_ERRORS.approvalRejected, sfn.Errors.TIMEOUT] as const;

/** Where `Rollback reason?` puts `{ reason }` for `Emit model rolled back`. */
export const ROLLBACK_EVENT_PATH = '$.rolledBackFor';

const J = sfn.JsonPath;

/** JSON null as a JSONPath value (CDK drops literal nulls from payloads). */
const JSON_NULL = J.stringToJson('null');

/**
 * The states, built in `scope`. Returns the chain from `Validate rollout` and the integration tasks
 * whose IAM the caller may want to inspect.
 */
export function buildCanaryRolloutDefinition(scope: Construct, props: CanaryRolloutDefinitionProps): CanaryRolloutDefinition {
  const timeoutSeconds = props.approvalTimeout.toSeconds();
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 60) {
    throw new Error(`Canary rollout: approvalTimeout is ${timeoutSeconds} s; expected whole seconds, at least 60`);
  }
  const pollSeconds = (props.endpointPollInterval ?? Duration.seconds(30)).toSeconds();
  if (!Number.isInteger(pollSeconds) || pollSeconds < 1) throw new Error(`Canary rollout: endpointPollInterval is ${pollSeconds} s; expected whole seconds, at least 1`);
  const { functions: fn, stage } = props;
  const S = ROLLOUT_STATES;

  const invoke = (id: string, lambdaFunction: lambda.IFunction, payload: Record<string, unknown>, resultPath: string | undefined, extra: Partial<tasks.LambdaInvokeProps> = {}): tasks.LambdaInvoke =>
    invokeForResult(scope, id, lambdaFunction, payload, resultPath, extra);
  const notify = (id: string, subject: string, message: string): tasks.SnsPublish => {
    const task = new tasks.SnsPublish(scope, id, {
      topic: props.notificationsTopic,
      subject,
      message: sfn.TaskInput.fromText(message),
      // A notification is a side effect: what follows still needs $.rollback, $.promotion, ...
      resultPath: J.DISCARD,
    });
    task.addRetry({ errors: [...SNS_TRANSIENT_ERRORS], interval: Duration.seconds(2), maxAttempts: 4, backoffRate: 2 });
    return task;
  };
  // What the plan's rollout and the step mean to every task that needs them.
  const planAndStep = { rollout: J.objectAt('$.rollout'), progress: J.objectAt('$.progress') };

  // Terminal states.
  const promoted = new sfn.Succeed(scope, S.promoted, { comment: 'The candidate serves 100 % and is the current version', outputPath: '$.promotion' });
  const rejected = new sfn.Succeed(scope, S.rejected, { comment: 'A step approval was rejected or expired; traffic is back on the current version' });
  const rolledBack = new sfn.Fail(scope, S.rolledBack, {
    comment: `Ends as ${ROLLOUT_ERRORS.rolledBack} with the rollback's reason, or with the rollback's own error when restoring the current version failed`,
    errorPath: '$.rollback.Error',
    causePath: '$.rollback.Cause',
  });

  // The notices.
  const notifyRolledBack = notify(
    S.notifyRolledBack,
    J.format(`[sial ${stage}] rollout not promoted ({})`, J.stringAt('$.rollback.Error')),
    J.format(
      `Rollout {} of the ${stage} stage ended without promotion.\n\nOutcome: {}\n{}\n\n` +
        `${ROLLOUT_ERRORS.rolledBack} means 100 % of the traffic is verified back on the current version. Any other outcome means the rollback itself FAILED: ` +
        'production may still send traffic to the candidate; restore the current version by hand (README, "Rolling back by hand").\n\nInput: {}\nExecution: {}',
      J.executionName,
      J.stringAt('$.rollback.Error'),
      J.stringAt('$.rollback.Cause'),
      J.jsonToString(J.objectAt('$$.Execution.Input')),
      J.executionId,
    ),
  );
  // If even the notice fails, the execution still ends with the rollback's outcome ($.rollback is kept).
  notifyRolledBack.addCatch(rolledBack, { errors: [sfn.Errors.ALL], resultPath: '$.notifyError' });
  notifyRolledBack.next(rolledBack);

  const notifyRejected = notify(
    S.notifyRejected,
    `[sial ${stage}] rollout stopped at a step approval`,
    J.format(
      'Rollout {} of {} (package version {}) stopped at the {} % step: the approval was not given ({}).\n\nDecision: {}\n\nTraffic is back on the current version {} (verified at {}).\nExecution: {}',
      J.executionName,
      J.stringAt('$.rollout.targetModelId'),
      J.jsonToString(J.numberAt('$.rollout.candidate.modelPackageVersion')),
      J.jsonToString(J.numberAt('$.progress.candidatePercent')),
      J.stringAt('$.error.Error'),
      J.stringAt('$.error.Cause'),
      J.stringAt('$.rollout.current.modelPackageArn'),
      J.stringAt('$.rollback.verifiedAt'),
      J.executionId,
    ),
  );
  notifyRejected.addCatch(rejected, { errors: [sfn.Errors.ALL], resultPath: '$.notifyError' });
  notifyRejected.next(rejected);

  const notifyPromoted = notify(
    S.notifyPromoted,
    `[sial ${stage}] candidate promoted`,
    J.format(
      'Rollout {} promoted {} to the current version of {} after every step was approved and baked. The previous version {} stays deployable.\n\nExecution: {}',
      J.executionName,
      J.stringAt('$.promotion.approvedModelPackageArn'),
      J.stringAt('$.promotion.targetModelId'),
      J.stringAt('$.promotion.previous.modelPackageArn'),
      J.executionId,
    ),
  );
  notifyPromoted.addCatch(promoted, { errors: [sfn.Errors.ALL], resultPath: '$.notifyError' });
  notifyPromoted.next(promoted);

  // Roll back: idempotent and converging (it re-asks for 100 % current until it serves), so it retries
  // everything, hard, before giving up. Its record gains Error/Cause for `Rolled back` (see the header).
  const recordFields = Object.fromEntries(Object.keys(rollbackRecordSchema.shape).map((field) => [field, J.stringAt(`$.${field}`)]));
  const rollBack = invoke(
    S.rollBack,
    fn.rollBack,
    { rollout: J.objectAt('$.rollout'), check: J.objectAt('$.check'), error: J.objectAt(ROLLOUT_ERROR_PATH) },
    '$.rollback',
    { resultSelector: { ...recordFields, Error: ROLLOUT_ERRORS.rolledBack, Cause: J.stringAt('$.reason') } },
  );
  rollBack.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(5), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.seconds(60) });
  const onFailure = (task: tasks.LambdaInvoke | tasks.CallAwsService | tasks.EksCall): void => {
    task.addCatch(rollBack, { errors: [sfn.Errors.ALL], resultPath: ROLLOUT_ERROR_PATH });
  };

  // 1. Validate rollout: the plan replaces the input (which stays in $$.Execution.Input); the paths the
  // later states read are created here, as null, so no JSONPath ever points at a missing field (that
  // would be States.Runtime, which no Catch sees). No ResultPath: the default, `$`, is the replacement
  // (aws-local-stepfunctions 3 mishandles an explicit `"ResultPath": "$"`).
  // The execution's ARN goes into the plan and the claim, so `sial rollout release` can ask about it.
  const validate = invoke(S.validateRollout, fn.validateRollout, { input: J.entirePayload, executionName: J.executionName, executionArn: J.executionId }, undefined, {
    resultSelector: { rollout: J.entirePayload, progress: JSON_NULL, check: JSON_NULL, error: JSON_NULL },
  });
  validate.addCatch(notifyRolledBack, { errors: [sfn.Errors.ALL], resultPath: '$.rollback' });

  // 2. Deploy target? SageMaker gets the candidate variant first; an EKS candidate backend already runs.
  const deployTarget = new sfn.Choice(scope, S.deployTarget);
  const deployCandidate = invoke(S.deployCandidateVariant, fn.deployCandidate, { rollout: J.objectAt('$.rollout') }, '$.deployment');
  // An endpoint that is updating (autoscaling, another change) cannot take the new configuration yet.
  deployCandidate.addRetry({ errors: [ROLLOUT_LAMBDA_ERRORS.trafficTargetBusy], interval: Duration.seconds(30), maxAttempts: 10, backoffRate: 1.5, maxDelay: Duration.minutes(5) });
  onFailure(deployCandidate);
  const waitForEndpoint = new sfn.Wait(scope, S.waitForEndpoint, { time: sfn.WaitTime.duration(Duration.seconds(pollSeconds)) });
  const checkEndpoint = invoke(S.checkEndpointStatus, fn.endpointStatus, { rollout: J.objectAt('$.rollout') }, '$.endpoint');
  onFailure(checkEndpoint);
  const endpointInService = new sfn.Choice(scope, S.endpointInService);

  // 3. Next step: routes the loop and, after `Roll back`, the ends.
  const nextStep = new sfn.Choice(scope, S.nextStep);
  const advanceStep = invoke(S.advanceStep, fn.advanceStep, planAndStep, '$.progress');
  onFailure(advanceStep);

  // 4. The step's approval (the first step's is the deploy approval): same Lambdas, page and CLI as training.
  const prepareApproval = invoke(
    S.prepareStepApproval,
    fn.prepareApproval,
    {
      kind: 'deploy-stage',
      // The approval record's subject: the rollout id is the run id of this approval.
      request: {
        runId: J.stringAt('$.rollout.rolloutId'),
        stage: J.stringAt('$.rollout.stage'),
        targetModelId: J.stringAt('$.rollout.targetModelId'),
        requestedBy: J.stringAt('$.rollout.requestedBy'),
      },
      // Display order. Only required fields of the plan and progress: a JSONPath to an absent optional field fails.
      summary: {
        targetModelId: J.stringAt('$.rollout.targetModelId'),
        modelFamily: J.stringAt('$.rollout.modelFamily'),
        step: J.format('{} of {}', J.mathAdd(J.numberAt('$.progress.index'), 1), J.arrayLength(J.listAt('$.rollout.stepsPercent'))),
        candidatePercent: J.numberAt('$.progress.candidatePercent'),
        currentPercent: J.numberAt('$.progress.currentPercent'),
        // Why the candidate may serve: its eval gate comparison with production and its lineage (always set by Validate rollout).
        evalEvidence: J.objectAt('$.rollout.evalEvidence'),
        candidate: J.objectAt('$.rollout.candidate'),
        current: J.objectAt('$.rollout.current'),
        stepsPercent: J.listAt('$.rollout.stepsPercent'),
        bakeSeconds: J.numberAt('$.rollout.bakeSeconds'),
        canaryAlarm: J.stringAt('$.rollout.alarmName'),
        requestedBy: J.stringAt('$.rollout.requestedBy'),
        rolloutStartedAt: J.stringAt('$.rollout.startedAt'),
      },
      executionArn: J.executionId,
    },
    '$.stepApproval',
  );
  onFailure(prepareApproval);
  const requestApproval = awaitApprovalDecision(scope, S.requestStepApproval, {
    requestApproval: fn.requestApproval,
    approvalPath: '$.stepApproval',
    timeout: props.approvalTimeout,
    resultPath: '$.stepDecision',
  });
  // ApprovalRejected and States.Timeout land at $.error too: Roll back records them as the reason, and
  // Next step tells them apart from failures by their names (REJECTION_ERRORS).
  requestApproval.addCatch(rollBack, { errors: [...REJECTION_ERRORS], resultPath: ROLLOUT_ERROR_PATH });
  requestApproval.addCatch(rollBack, { errors: [sfn.Errors.ALL], resultPath: ROLLOUT_ERROR_PATH });

  // 5. Traffic.
  const trafficTarget = new sfn.Choice(scope, S.trafficTarget);
  const setSageMakerWeights = new ScopedCallAwsService(scope, S.setSageMakerWeights, {
    service: 'sagemaker',
    action: 'updateEndpointWeightsAndCapacities',
    iamAction: 'sagemaker:UpdateEndpointWeightsAndCapacities',
    iamResources: [...props.sageMakerEndpointArns],
    parameters: {
      EndpointName: J.stringAt('$.rollout.target.endpointName'),
      DesiredWeightsAndCapacities: [
        { VariantName: J.stringAt('$.rollout.current.servingName'), DesiredWeight: J.numberAt('$.progress.currentPercent') },
        { VariantName: J.stringAt('$.rollout.candidate.servingName'), DesiredWeight: J.numberAt('$.progress.candidatePercent') },
      ],
    },
    // The response is only the endpoint ARN; the verification reads what serves.
    resultPath: J.DISCARD,
  });
  setSageMakerWeights.addRetry({ errors: [...SAGEMAKER_TRANSIENT_ERRORS], interval: Duration.seconds(10), maxAttempts: 6, backoffRate: 1.5, maxDelay: Duration.seconds(60) });
  onFailure(setSageMakerWeights);
  const verifySageMaker = invoke(S.verifySageMakerWeights, fn.verifySageMakerWeights, planAndStep, '$.verified');
  onFailure(verifySageMaker);

  // Where the plan's cluster serves its API and its CA, read from EKS once per rollout: eks:call needs
  // both, and configuring them would let them go stale (docs/decisions.md "EKS cluster connection").
  const describeCluster = new ScopedCallAwsService(scope, S.describeCluster, {
    service: 'eks',
    action: 'describeCluster',
    iamAction: 'eks:DescribeCluster',
    iamResources: [...props.eksClusterArns],
    parameters: { Name: J.stringAt('$.rollout.target.clusterName') },
    resultSelector: { endpoint: J.stringAt('$.Cluster.Endpoint'), certificateAuthority: J.stringAt('$.Cluster.CertificateAuthority.Data') },
    resultPath: '$.cluster',
  });
  describeCluster.addRetry({ errors: [...EKS_API_TRANSIENT_ERRORS], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2 });
  onFailure(describeCluster);
  // The cluster of the plan's target, as JSONPath: one state serves every EKS target of the stage.
  const cluster = eks.Cluster.fromClusterAttributes(scope, 'RolloutTargetCluster', {
    clusterName: J.stringAt('$.rollout.target.clusterName'),
    clusterEndpoint: J.stringAt('$.cluster.endpoint'),
    clusterCertificateAuthorityData: J.stringAt('$.cluster.certificateAuthority'),
  });
  const routePath = J.format(HTTP_ROUTE_PATH_FORMAT, J.stringAt('$.rollout.target.namespace'), J.stringAt('$.rollout.target.httpRouteName'));
  // The route is read first: a JSON merge patch (RFC 7386) replaces arrays whole, so a patch of the
  // backend weights must carry every rule as it is (matches, filters, other rules, the backends' port).
  // See docs/decisions.md "HTTPRoute patches".
  const readRoute = new tasks.EksCall(scope, S.readRoute, {
    cluster,
    httpMethod: tasks.HttpMethods.GET,
    httpPath: routePath,
    // The route itself is what the patch and Verify read (lambdas/rollout/eks/http-route.ts routeFromCallResult).
    resultSelector: { ResponseBody: J.objectAt('$.ResponseBody') },
    resultPath: '$.route',
  });
  readRoute.addRetry({ errors: [...EKS_TRANSIENT_ERRORS], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2 });
  onFailure(readRoute);
  // The merge patch is computed from the route as read (lambdas/rollout/route-patch): every rule kept
  // with its matches and filters, the rules that name either backend weighed. A JSONPath state cannot
  // rewrite one weight inside `spec.rules`.
  const planPatch = invoke(S.planRoutePatch, fn.planRoutePatch, { ...planAndStep, route: J.objectAt('$.route') }, '$.routePatch');
  onFailure(planPatch);
  const patchRoute = new tasks.EksCall(scope, S.patchRouteWeights, {
    cluster,
    httpMethod: tasks.HttpMethods.PATCH,
    httpPath: J.stringAt('$.routePatch.Path'),
    // `metadata.resourceVersion` in the planned patch is a precondition: a route changed since it was
    // read (by the alarm Lambda's rollback, say) answers 409 instead of being overwritten, and the
    // retries then give up into `Roll back`. Hostnames and parentRefs are untouched.
    requestBody: sfn.TaskInput.fromJsonPathAt('$.routePatch.RequestBody'),
    // The API server answers with the route as stored after the patch: what Verify checks.
    resultSelector: { ResponseBody: J.objectAt('$.ResponseBody') },
    resultPath: '$.route',
  });
  patchRoute.addRetry({ errors: [...EKS_TRANSIENT_ERRORS], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2 });
  onFailure(patchRoute);
  const verifyRoute = invoke(S.verifyRouteWeights, fn.verifyRouteWeights, { ...planAndStep, route: J.objectAt('$.route') }, '$.verified');
  onFailure(verifyRoute);

  // 6. Bake: check the alarm and the rollback record every checkIntervalSeconds until baked.
  const bake = new sfn.Wait(scope, S.waitBake, { time: sfn.WaitTime.secondsPath('$.rollout.checkIntervalSeconds') });
  const checkCanary = invoke(S.checkCanary, fn.checkCanary, { ...planAndStep, verified: J.objectAt('$.verified') }, '$.check');
  onFailure(checkCanary);
  const canaryHealthy = new sfn.Choice(scope, S.canaryHealthy);

  // 7. Promote.
  const promote = invoke(S.promote, fn.promote, planAndStep, '$.promotion');
  onFailure(promote);

  // 8. Events for subscribers: ids only. Each is put after the change it reports is done; a lost event
  // must not turn a done promotion or rollback into a failed execution, so a put that still fails after
  // its retries is kept at $.eventError and the execution goes on to the end it would have reached.
  const eventTarget = { stage, eventBus: props.eventBus };
  const emitPromoted = putEventTask(scope, S.emitModelPromoted, eventTarget, PIPELINE_EVENT_TYPES.modelUpdated, {
    action: 'promoted',
    targetModelId: J.stringAt('$.promotion.targetModelId'),
    modelPackageArn: J.stringAt('$.promotion.current.modelPackageArn'),
    modelPackageVersion: J.numberAt('$.promotion.current.modelPackageVersion'),
    executionName: J.executionName,
    rolloutId: J.stringAt('$.rollout.rolloutId'),
    servingModelPackageArn: J.stringAt('$.promotion.current.modelPackageArn'),
    servingModelPackageVersion: J.numberAt('$.promotion.current.modelPackageVersion'),
    previousModelPackageArn: J.stringAt('$.promotion.previous.modelPackageArn'),
    previousModelPackageVersion: J.numberAt('$.promotion.previous.modelPackageVersion'),
  });
  emitPromoted.addCatch(notifyPromoted, { errors: [sfn.Errors.ALL], resultPath: EVENT_ERROR_PATH });

  // The rolled-back event names the version rolled back (the candidate) and the one restored (current).
  const emitRolledBack = putEventTask(scope, S.emitModelRolledBack, eventTarget, PIPELINE_EVENT_TYPES.modelUpdated, {
    action: 'rolled-back',
    targetModelId: J.stringAt('$.rollout.targetModelId'),
    modelPackageArn: J.stringAt('$.rollout.candidate.modelPackageArn'),
    modelPackageVersion: J.numberAt('$.rollout.candidate.modelPackageVersion'),
    executionName: J.executionName,
    rolloutId: J.stringAt('$.rollout.rolloutId'),
    servingModelPackageArn: J.stringAt('$.rollout.current.modelPackageArn'),
    servingModelPackageVersion: J.numberAt('$.rollout.current.modelPackageVersion'),
    rolledBackBy: J.stringAt('$.rollback.by'),
    reason: J.stringAt(`${ROLLBACK_EVENT_PATH}.reason`),
  });
  // After the event, `Next step` routes the end as before (rejected or rolled back).
  emitRolledBack.addCatch(nextStep, { errors: [sfn.Errors.ALL], resultPath: EVENT_ERROR_PATH });
  emitRolledBack.next(nextStep);

  // The reason is an id, never the record's words (an alarm's reason text, an error's cause): the
  // canary alarm's name when the alarm acted or was in ALARM, else what ended the rollout.
  const reasonOf = (id: string, reason: string): sfn.Pass => {
    const pass = new sfn.Pass(scope, id, { parameters: { reason }, resultPath: ROLLBACK_EVENT_PATH });
    pass.next(emitRolledBack);
    return pass;
  };
  const errorIs = (error: string): sfn.Condition => sfn.Condition.and(sfn.Condition.isPresent('$.error.Error'), sfn.Condition.stringEquals('$.error.Error', error));
  const checkSaw = (alarmState: string): sfn.Condition =>
    sfn.Condition.and(sfn.Condition.isPresent('$.check.rollBack'), sfn.Condition.booleanEquals('$.check.rollBack', true), sfn.Condition.stringEquals('$.check.alarmState', alarmState));
  const rollbackReason = new sfn.Choice(scope, S.rollbackReason)
    // The alarm Lambda acted first (the alarm fired, or an operator set it to ALARM by hand), or the
    // check found the alarm in ALARM.
    .when(sfn.Condition.or(sfn.Condition.stringEquals('$.rollback.by', 'alarm-lambda'), checkSaw('ALARM')), reasonOf(S.reasonAlarm, J.stringAt('$.rollout.alarmName')))
    .when(errorIs(PIPELINE_ERRORS.approvalRejected), reasonOf(S.reasonOperator, 'operator' satisfies RollbackEventReason))
    .when(errorIs(sfn.Errors.TIMEOUT), reasonOf(S.reasonApprovalExpired, 'approval-expired' satisfies RollbackEventReason))
    .when(checkSaw('INSUFFICIENT_DATA'), reasonOf(S.reasonInsufficientData, 'insufficient-data' satisfies RollbackEventReason))
    .otherwise(reasonOf(S.reasonFailure, 'failure' satisfies RollbackEventReason));

  // Wiring.
  deployTarget
    .when(sfn.Condition.stringEquals('$.rollout.target.kind', 'sagemaker'), deployCandidate)
    .when(sfn.Condition.stringEquals('$.rollout.target.kind', 'eks'), describeCluster)
    // A target kind this definition does not know: nothing was deployed, but end the same way.
    .otherwise(rollBack);
  deployCandidate.next(waitForEndpoint);
  describeCluster.next(nextStep);
  waitForEndpoint.next(checkEndpoint);
  checkEndpoint.next(endpointInService);
  endpointInService
    // Failed, or back in service without the candidate (SageMaker rolled its update back).
    .when(sfn.Condition.booleanEquals('$.endpoint.failed', true), rollBack)
    .when(sfn.Condition.booleanEquals('$.endpoint.inService', true), nextStep)
    .otherwise(waitForEndpoint);

  const rejectedRule = sfn.Condition.and(
    sfn.Condition.isPresent('$.rollback.Error'),
    sfn.Condition.stringEquals('$.rollback.Error', ROLLOUT_ERRORS.rolledBack),
    sfn.Condition.isPresent('$.error.Error'),
    sfn.Condition.or(...REJECTION_ERRORS.map((e) => sfn.Condition.stringEquals('$.error.Error', e))),
  );
  nextStep
    .when(rejectedRule, notifyRejected)
    .when(sfn.Condition.isPresent('$.rollback'), notifyRolledBack)
    // Validate leaves progress null; Advance step makes it the first step.
    .when(sfn.Condition.isNull('$.progress'), advanceStep)
    .when(sfn.Condition.booleanEquals('$.progress.done', true), promote)
    .otherwise(prepareApproval);
  advanceStep.next(nextStep);
  // A failed rollback restored nothing: no event, straight to the notice of the failure.
  rollBack.addCatch(nextStep, { errors: [sfn.Errors.ALL], resultPath: '$.rollback' });
  rollBack.next(rollbackReason);

  prepareApproval.next(requestApproval);
  requestApproval.next(trafficTarget);
  trafficTarget
    .when(sfn.Condition.stringEquals('$.rollout.target.kind', 'sagemaker'), setSageMakerWeights)
    .when(sfn.Condition.stringEquals('$.rollout.target.kind', 'eks'), readRoute)
    .otherwise(rollBack);
  setSageMakerWeights.next(verifySageMaker);
  verifySageMaker.next(bake);
  readRoute.next(planPatch);
  planPatch.next(patchRoute);
  patchRoute.next(verifyRoute);
  verifyRoute.next(bake);
  bake.next(checkCanary);
  checkCanary.next(canaryHealthy);
  canaryHealthy
    .when(sfn.Condition.booleanEquals('$.check.rollBack', true), rollBack)
    .when(sfn.Condition.booleanEquals('$.check.baked', true), advanceStep)
    .otherwise(bake);
  promote.next(emitPromoted).next(notifyPromoted);

  validate.next(deployTarget);
  return { chain: validate, setSageMakerWeights, patchRoute, readRoute };
}

/**
 * CallAwsService whose IAM statements are exactly the given ones: no statement at all when it has no
 * resources (a stage without SageMaker targets), where CallAwsService would emit one without a resource.
 */
export class ScopedCallAwsService extends tasks.CallAwsService {
  protected declare readonly taskPolicies: iam.PolicyStatement[];

  constructor(scope: Construct, id: string, props: tasks.CallAwsServiceProps) {
    super(scope, id, props);
    const action = props.iamAction ?? `${props.service}:${props.action}`;
    this.taskPolicies = props.iamResources.length === 0 ? [] : [new iam.PolicyStatement({ actions: [action], resources: [...props.iamResources] }), ...(props.additionalIamStatements ?? [])];
  }
}

/** The ARN of an EKS cluster of this stack's account and region. */
export function eksClusterArn(scope: Construct, clusterName: string): string {
  return Stack.of(scope).formatArn({ service: 'eks', resource: 'cluster', resourceName: clusterName });
}

/** The ARN of a SageMaker endpoint (SageMaker writes resource names lower-case in ARNs). */
export function sageMakerEndpointArn(scope: Construct, endpointName: string): string {
  return Stack.of(scope).formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: endpointName.toLowerCase() });
}
