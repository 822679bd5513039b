/**
 * The canary rollout of a stage: the rollout's Lambda functions (each with only the variables
 * it reads and the grants it uses), the SageMaker execution role candidate models run under, the
 * rollout state machine (stepfunctions/canary-rollout.ts) and the game-day state machine
 * (stepfunctions/game-day.ts), the EventBridge rule that sends a canary alarm's ALARM to the rollback
 * Lambda, and the game-day schedules (EventBridge Scheduler, disabled unless configured).
 */
import type * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, TimeZone, Validations, type CfnElement } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RolloutTarget } from '../../config/schema';
import { approvalTimeoutSeconds } from '../../lambdas/pipeline/approvals/prepare-approval';
import type { PipelineSettings } from '../../lambdas/pipeline/settings';
import { ROLLOUT_ENV } from '../../lambdas/rollout/env';
import { buildCanaryRolloutDefinition, eksClusterArn, sageMakerEndpointArn, type CanaryRolloutFunctions } from '../../stepfunctions/canary-rollout';
import { buildGameDayDefinition, type GameDayFunctions } from '../../stepfunctions/game-day';
import type { Approvals } from './approvals';
import type { ArtifactStore } from './artifact-store';
import { DRILL_SIGNAL, type CanaryAlarms } from './canary-alarms';
import type { ModelRegistry } from './model-registry';
import { PROJECT_ROOT, createEsmFunction } from './private/esm-function';
import { acknowledgeWildcardResource, acknowledgeWildcardResourceToken } from './private/acknowledge';

/** Step key of each rollout function: the state machines' dependencies plus the alarm rollback. */
export type RolloutStep = Exclude<keyof CanaryRolloutFunctions, 'prepareApproval' | 'requestApproval'> | 'alarmRollback' | keyof GameDayFunctions;

/**
 * Where each function's handler lives, relative to the repository root. The two verify states share a
 * handler but are two functions: only the SageMaker one may describe endpoints.
 */
export const ROLLOUT_HANDLER_ENTRIES: Readonly<Record<RolloutStep, string>> = {
  validateRollout: 'lambdas/rollout/validate-rollout/handler.ts',
  deployCandidate: 'lambdas/rollout/deploy-variant/deploy-handler.ts',
  endpointStatus: 'lambdas/rollout/deploy-variant/status-handler.ts',
  verifySageMakerWeights: 'lambdas/rollout/verify-weights/handler.ts',
  verifyRouteWeights: 'lambdas/rollout/verify-weights/handler.ts',
  planRoutePatch: 'lambdas/rollout/route-patch/handler.ts',
  checkCanary: 'lambdas/rollout/check-canary/handler.ts',
  advanceStep: 'lambdas/rollout/advance-step/handler.ts',
  promote: 'lambdas/rollout/promote/handler.ts',
  rollBack: 'lambdas/rollout/roll-back/handler.ts',
  alarmRollback: 'lambdas/rollout/alarm-rollback/handler.ts',
  startDrill: 'lambdas/rollout/game-day/start-handler.ts',
  setSelfCanary: 'lambdas/rollout/game-day/self-canary-handler.ts',
  checkRollback: 'lambdas/rollout/game-day/check-handler.ts',
  recordDrill: 'lambdas/rollout/game-day/measure-handler.ts',
};

/**
 * How long a function that waits for weights to take may wait (TRAFFIC_SETTLE_TIMEOUT_SECONDS), and its
 * timeout: a minute longer, so a mismatch is reported by the function, not cut off by Lambda.
 */
export const SETTLE_TIMEOUT_SECONDS = 240;
const SETTLING_FUNCTION_TIMEOUT = Duration.seconds(SETTLE_TIMEOUT_SECONDS + 60);

/** Properties of {@link CanaryRollout}. */
export interface CanaryRolloutProps {
  /** Stage name, used in descriptions, subjects and schedules. */
  readonly stage: string;
  /** PIPELINE_SETTINGS of every function (target models with their rollout targets, canary settings). */
  readonly settings: PipelineSettings;
  /** CloudWatch namespace of the functions' EMF metrics. */
  readonly metricsNamespace: string;
  /** The deployments table (data stack), encrypted with a customer managed key. */
  readonly deploymentsTable: dynamodb.ITable;
  /** The model package groups (data stack): candidates are read, and approved at promotion. */
  readonly registry: ModelRegistry;
  /** The artifact bucket (data stack): candidate models are `runs/<runId>/output/model.tar.gz`. */
  readonly artifacts: ArtifactStore;
  /** Topics, page and the page function that completes step approvals. */
  readonly approvals: Approvals;
  /** The approval Lambdas the training pipeline already has (prepare, request), shared by every approval. */
  readonly approvalFunctions: { readonly prepare: lambda.IFunction; readonly request: lambda.IFunction };
  /** The canary alarms of the stage's models. */
  readonly alarms: CanaryAlarms;
  /** The serving container of the model packages (the SageMaker execution role pulls it). */
  readonly servingImageUri: string;
  /**
   * The router image (RouterTrainingCompute's), which serves router candidates (`serve`): SageMaker pulls
   * it with the execution role.
   *
   * @default - no router in the stage
   */
  readonly routerImage?: ecrAssets.DockerImageAsset;
  /** Time zone of the game-day schedules (`config.schedules.timezone`). */
  readonly timezone: string;

  /**
   * Handler modules by step, relative to the repository root.
   *
   * @default ROLLOUT_HANDLER_ENTRIES
   */
  readonly handlerEntries?: Partial<Record<RolloutStep, string>>;

  /**
   * Retention of the function and state machine log groups.
   *
   * @default logs.RetentionDays.ONE_YEAR (the execution log is the rollout's audit trail)
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
}

type SageMakerTarget = Extract<RolloutTarget, { kind: 'sagemaker' }>;
type EksTarget = Extract<RolloutTarget, { kind: 'eks' }>;

/** The shortest a drill may be bounded to besides its rollback: the self canary's deployment. */
const GAME_DAY_SETUP_ALLOWANCE = Duration.hours(1);

/**
 * Fourteen functions, a SageMaker execution role, the rollout and game-day state machines (Standard,
 * X-Ray, execution log level ALL without execution data), the alarm-to-rollback rule and one game-day
 * schedule per target model.
 */
export class CanaryRollout extends Construct {
  /** The functions by step. */
  public readonly functions: Readonly<Record<RolloutStep, nodejs.NodejsFunction>>;
  /** Their execution roles by step. */
  public readonly roles: Readonly<Record<RolloutStep, iam.Role>>;
  /** The role SageMaker assumes for candidate models (pulls the serving image, reads the model artifacts). */
  public readonly sageMakerExecutionRole: iam.Role;
  /** The canary rollout. */
  public readonly stateMachine: sfn.StateMachine;
  /** Its execution log. */
  public readonly stateMachineLogGroup: logs.LogGroup;
  /** The game-day drill. */
  public readonly gameDayStateMachine: sfn.StateMachine;
  /** Its execution log. */
  public readonly gameDayLogGroup: logs.LogGroup;
  /** Canary alarm state change to ALARM -> the alarm rollback Lambda. */
  public readonly alarmRollbackRule: events.Rule;
  /** The role EventBridge Scheduler starts drills with. */
  public readonly schedulerRole: iam.Role;
  /** Game-day schedules by target model id (disabled unless `canary.gameDay.enabled`). */
  public readonly gameDaySchedules: Readonly<Record<string, scheduler.Schedule>>;
  /**
   * Roles that call the Kubernetes API of the EKS clusters (the state machine's eks:call, the rollback
   * Lambdas): each needs an access entry with get/patch on the model's HTTPRoute. Empty without EKS targets.
   */
  public readonly eksClusterPrincipals: readonly iam.IRole[];

  constructor(scope: Construct, id: string, props: CanaryRolloutProps) {
    super(scope, id);
    const { settings, approvals, registry, artifacts, alarms } = props;
    if (settings.stage !== props.stage) throw new Error(`CanaryRollout: settings are for stage "${settings.stage}" but the stage is "${props.stage}"`);
    if (props.deploymentsTable.encryptionKey === undefined) throw new Error('CanaryRollout: the deployments table has no customer managed key; expected one');
    const missingAlarms = settings.targetModels.map((m) => m.id).filter((m) => alarms.models[m] === undefined);
    if (missingAlarms.length > 0) throw new Error(`CanaryRollout: no canary alarm for target model ${missingAlarms.join(', ')}; the alarms must cover every target model`);
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
    const table = props.deploymentsTable;

    const sageMakerTargets = settings.targetModels.flatMap((m) => (m.rollout.kind === 'sagemaker' ? [{ modelId: m.id, target: m.rollout }] : [])) as Array<{ modelId: string; target: SageMakerTarget }>;
    const eksTargets = settings.targetModels.flatMap((m) => (m.rollout.kind === 'eks' ? [{ modelId: m.id, target: m.rollout }] : [])) as Array<{ modelId: string; target: EksTarget }>;
    const endpointArns = [...new Set(sageMakerTargets.map((t) => t.target.endpointName))].map((name) => sageMakerEndpointArn(this, name));
    const clusterArns = [...new Set(eksTargets.map((t) => t.target.clusterName))].map((name) => eksClusterArn(this, name));

    // The role SageMaker runs candidate models with: the serving image and the run's model artifacts.
    this.sageMakerExecutionRole = new iam.Role(this, 'SageMakerExecutionRole', {
      description: `${props.stage}: SageMaker runs canary candidate models with this role (serving image pull, model artifacts under runs/)`,
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    artifacts.grantRead(this.sageMakerExecutionRole, artifacts.runsPrefix);
    grantImagePull(this.sageMakerExecutionRole, props.servingImageUri);
    // A router candidate serves from the router image, in this stack's asset repository.
    props.routerImage?.repository.grantPull(this.sageMakerExecutionRole);
    const endpointLogs = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '/aws/sagemaker/Endpoints/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    iam.Grant.addToPrincipal({
      grantee: this.sageMakerExecutionRole,
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resourceArns: [endpointLogs],
    });
    acknowledgeWildcardResourceToken(this.sageMakerExecutionRole, endpointLogs, "The log groups SageMaker creates for the endpoints' containers (/aws/sagemaker/Endpoints/<endpoint>): named by SageMaker at deployment.");
    Validations.of(this.sageMakerExecutionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Only ecr:GetAuthorizationToken is on *: it supports no resource-level permission; image layers are pulled from the serving repository only.',
    });

    // Functions.
    const common = { [ROLLOUT_ENV.settings]: JSON.stringify(settings), POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace };
    const withTable = { ...common, [ROLLOUT_ENV.deploymentsTable]: table.tableName };
    const settling = { [ROLLOUT_ENV.settleTimeoutSeconds]: String(SETTLE_TIMEOUT_SECONDS) };
    const service = (name: string): Record<string, string> => ({ POWERTOOLS_SERVICE_NAME: `rollout-${name}` });
    const specs: Record<RolloutStep, FunctionSpec> = {
      validateRollout: { description: 'Validate rollout: the handed-over registration becomes the plan; claims the model', memorySize: 256, timeout: Duration.seconds(30), environment: { ...withTable, ...service('validate') } },
      deployCandidate: {
        description: 'Deploy candidate variant: the candidate as a second production variant at weight 0 (SageMaker)',
        memorySize: 256,
        timeout: Duration.seconds(60),
        environment: { ...common, [ROLLOUT_ENV.sageMakerExecutionRoleArn]: this.sageMakerExecutionRole.roleArn, ...service('deploy-candidate') },
      },
      endpointStatus: { description: 'Check endpoint status: is the endpoint in service with the candidate variant (SageMaker)', memorySize: 256, timeout: Duration.seconds(30), environment: { ...common, ...service('endpoint-status') } },
      verifySageMakerWeights: {
        description: 'Verify SageMaker weights: DescribeEndpoint until the step split serves, or WeightsNotApplied',
        memorySize: 256,
        timeout: SETTLING_FUNCTION_TIMEOUT,
        environment: { ...withTable, ...settling, ...service('verify-weights') },
      },
      planRoutePatch: { description: 'Plan HTTPRoute patch: the merge patch that weighs the two backends and keeps every rule as read', memorySize: 256, timeout: Duration.seconds(10), environment: { ...service('plan-route-patch') } },
      verifyRouteWeights: { description: 'Verify HTTPRoute weights: the route as read back carries the step split', memorySize: 256, timeout: Duration.seconds(30), environment: { ...withTable, ...service('verify-route') } },
      checkCanary: { description: 'Check canary: canary alarm state and rollback record during the bake', memorySize: 256, timeout: Duration.seconds(30), environment: { ...withTable, ...service('check-canary') } },
      advanceStep: { description: 'Advance step: the next traffic step, or done', memorySize: 256, timeout: Duration.seconds(10), environment: { ...common, ...service('advance-step') } },
      promote: { description: 'Promote candidate: registry Approved, the candidate becomes current, previous versions stay deployable', memorySize: 256, timeout: Duration.seconds(60), environment: { ...withTable, ...service('promote') } },
      rollBack: { description: 'Roll back: 100 % on the current version, verified and recorded', memorySize: 256, timeout: SETTLING_FUNCTION_TIMEOUT, environment: { ...withTable, ...settling, ...service('roll-back') } },
      alarmRollback: {
        description: 'Alarm rollback: a canary alarm in ALARM sets 100 % current at once, verifies, records and notifies',
        memorySize: 256,
        timeout: SETTLING_FUNCTION_TIMEOUT,
        environment: { ...withTable, ...settling, [ROLLOUT_ENV.notificationsTopicArn]: approvals.notificationsTopic.topicArn, ...service('alarm-rollback') },
      },
      startDrill: { description: 'Game day, start drill: a self canary of the current version, claimed as the active rollout', memorySize: 256, timeout: Duration.seconds(30), environment: { ...withTable, ...service('game-day-start') } },
      setSelfCanary: {
        description: 'Game day, set self canary: the current version on both sides at a small split, verified',
        memorySize: 256,
        timeout: SETTLING_FUNCTION_TIMEOUT,
        environment: { ...common, ...settling, [ROLLOUT_ENV.sageMakerExecutionRoleArn]: this.sageMakerExecutionRole.roleArn, ...service('game-day-self-canary') },
      },
      checkRollback: { description: 'Game day, check rollback: has the alarm path recorded the rollback', memorySize: 256, timeout: Duration.seconds(30), environment: { ...withTable, ...service('game-day-check') } },
      recordDrill: { description: 'Game day, record drill: breach to verified rollback, GameDayRollbackSeconds, judged against the bound', memorySize: 256, timeout: Duration.seconds(30), environment: { ...withTable, ...service('game-day-record') } },
    };

    const entries = { ...ROLLOUT_HANDLER_ENTRIES, ...props.handlerEntries };
    const functions = {} as Record<RolloutStep, nodejs.NodejsFunction>;
    const roles = {} as Record<RolloutStep, iam.Role>;
    for (const step of Object.keys(specs) as RolloutStep[]) {
      const spec = specs[step];
      const parts = createEsmFunction(new Construct(this, functionId(step)), {
        entry: path.join(PROJECT_ROOT, entries[step]),
        description: `${props.stage}: ${spec.description}`,
        memorySize: spec.memorySize,
        timeout: spec.timeout,
        environment: spec.environment,
        logRetention,
        logRemovalPolicy,
      });
      functions[step] = parts.fn;
      roles[step] = parts.role;
      Validations.of(parts.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          step === 'validateRollout'
            ? 'sagemaker:ListModelPackages and the X-Ray actions added for active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) support no resource-level permissions; nothing else is on *.'
            : 'Only the X-Ray actions added for active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) are on *: X-Ray supports no resource-level permissions.',
      });
    }
    this.functions = functions;
    this.roles = roles;

    // The deployments table: reads decrypt; conditional writes encrypt too.
    const deployments = (grantee: iam.IGrantable, actions: readonly ('GetItem' | 'PutItem' | 'DeleteItem')[]): void => {
      iam.Grant.addToPrincipal({ grantee, actions: actions.map((a) => `dynamodb:${a}`), resourceArns: [table.tableArn] });
      const key = table.encryptionKey!;
      if (actions.some((a) => a !== 'GetItem')) key.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
      else key.grantDecrypt(grantee);
    };
    deployments(roles.validateRollout, ['GetItem', 'PutItem']);
    deployments(roles.verifySageMakerWeights, ['GetItem']);
    deployments(roles.verifyRouteWeights, ['GetItem']);
    deployments(roles.checkCanary, ['GetItem']);
    deployments(roles.promote, ['GetItem', 'PutItem', 'DeleteItem']);
    deployments(roles.rollBack, ['GetItem', 'PutItem', 'DeleteItem']);
    deployments(roles.alarmRollback, ['GetItem', 'PutItem']);
    deployments(roles.startDrill, ['GetItem', 'PutItem']);
    deployments(roles.checkRollback, ['GetItem']);
    // Record drill also releases the model (clearActiveRollout: a conditional DeleteItem).
    deployments(roles.recordDrill, ['GetItem', 'DeleteItem']);

    // The registry: Validate lists and describes candidates; Promote approves them.
    registry.grantRead(roles.validateRollout);
    iam.Grant.addToPrincipal({ grantee: roles.promote, actions: ['sagemaker:UpdateModelPackage'], resourceArns: registry.packageArns });
    acknowledgeRegistryPackages(roles.promote, registry, 'Approving a candidate at promotion (UpdateModelPackage): versions of the stage\'s model package groups are numbered by SageMaker.');

    // Canary alarms: read by the bake check and, for the breach time, by the rollback.
    alarms.grantDescribe(roles.checkCanary);
    alarms.grantDescribe(roles.rollBack);
    approvals.grantPublish(approvals.notificationsTopic, roles.alarmRollback);

    // SageMaker, on exactly the configured endpoints and the configurations and models the rollout names.
    if (sageMakerTargets.length > 0) {
      for (const step of ['endpointStatus', 'verifySageMakerWeights'] as const) {
        iam.Grant.addToPrincipal({ grantee: roles[step], actions: ['sagemaker:DescribeEndpoint'], resourceArns: endpointArns });
      }
      for (const step of ['rollBack', 'alarmRollback', 'setSelfCanary'] as const) {
        iam.Grant.addToPrincipal({ grantee: roles[step], actions: ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'], resourceArns: endpointArns });
      }
      for (const step of ['deployCandidate', 'setSelfCanary'] as const) this.grantVariantDeployment(roles[step], sageMakerTargets, endpointArns, registry);
    }

    // EKS: the functions that move traffic themselves find each cluster's API and CA with DescribeCluster.
    if (eksTargets.length > 0) {
      for (const step of ['rollBack', 'alarmRollback', 'setSelfCanary'] as const) {
        iam.Grant.addToPrincipal({ grantee: roles[step], actions: ['eks:DescribeCluster'], resourceArns: clusterArns });
      }
    }

    // The rollout state machine. Its sial.model.updated events (promoted, rolled back) go to the account's
    // default bus, as the training pipeline's do: source `sial.<stage>` tells stages apart.
    const eventBus = events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    const definition = buildCanaryRolloutDefinition(this, {
      stage: props.stage,
      functions: {
        validateRollout: functions.validateRollout,
        deployCandidate: functions.deployCandidate,
        endpointStatus: functions.endpointStatus,
        prepareApproval: props.approvalFunctions.prepare,
        requestApproval: props.approvalFunctions.request,
        verifySageMakerWeights: functions.verifySageMakerWeights,
        planRoutePatch: functions.planRoutePatch,
        verifyRouteWeights: functions.verifyRouteWeights,
        checkCanary: functions.checkCanary,
        advanceStep: functions.advanceStep,
        promote: functions.promote,
        rollBack: functions.rollBack,
      },
      notificationsTopic: approvals.notificationsTopic,
      eventBus,
      approvalTimeout: Duration.seconds(approvalTimeoutSeconds(settings.approvalExpiryHours)),
      sageMakerEndpointArns: endpointArns,
      eksClusterArns: clusterArns,
    });
    this.stateMachineLogGroup = new logs.LogGroup(this, 'StateMachineLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: `Self-Improving Agent Loop ${props.stage}: canary rollout ${settings.canary.stepsPercent.join(' -> ')} %, each step approved and baked, rollback on any failure`,
      definitionBody: sfn.DefinitionBody.fromChainable(definition.chain),
      tracingEnabled: true,
      // Every event, without inputs and outputs: states carry signed approval links and task tokens.
      logs: { destination: this.stateMachineLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    approvals.grantPublish(approvals.notificationsTopic, this.stateMachine);
    approvals.grantTaskDecisions(this.stateMachine);
    // events:PutEvents on the default bus only.
    eventBus.grantPutEventsTo(this.stateMachine);
    this.acknowledgeStateMachine(this.stateMachine, [
      functions.validateRollout,
      functions.deployCandidate,
      functions.endpointStatus,
      props.approvalFunctions.prepare,
      props.approvalFunctions.request,
      functions.verifySageMakerWeights,
      functions.planRoutePatch,
      functions.verifyRouteWeights,
      functions.checkCanary,
      functions.advanceStep,
      functions.promote,
      functions.rollBack,
    ]);

    // The game-day state machine. A drill's loop ends when the alarm path records the rollback; the
    // execution timeout bounds it when that never happens (the drill then fails as TIMED_OUT).
    const gameDay = buildGameDayDefinition(this, {
      functions: { startDrill: functions.startDrill, setSelfCanary: functions.setSelfCanary, checkRollback: functions.checkRollback, recordDrill: functions.recordDrill },
      drillAlarmArns: alarms.drillAlarmArns,
      drillAlarmSuffix: `-${DRILL_SIGNAL}`,
    });
    this.gameDayLogGroup = new logs.LogGroup(this, 'GameDayLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
    this.gameDayStateMachine = new sfn.StateMachine(this, 'GameDayStateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: `Self-Improving Agent Loop ${props.stage}: game-day drill, self canary -> forced canary alarm -> rollback measured against ${settings.canary.gameDay.maxRollbackSeconds} s`,
      definitionBody: sfn.DefinitionBody.fromChainable(gameDay.chain),
      timeout: GAME_DAY_SETUP_ALLOWANCE.plus(Duration.seconds(2 * settings.canary.gameDay.maxRollbackSeconds)),
      tracingEnabled: true,
      logs: { destination: this.gameDayLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.acknowledgeStateMachine(this.gameDayStateMachine, [functions.startDrill, functions.setSelfCanary, functions.checkRollback, functions.recordDrill]);

    // A canary alarm going to ALARM rolls its model back at once, without waiting for the next check.
    this.alarmRollbackRule = new events.Rule(this, 'AlarmRollbackRule', {
      description: `${props.stage}: a canary alarm in ALARM -> the alarm rollback Lambda (100 % current, verified, recorded)`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: alarms.compositeAlarmArns,
        detail: { state: { value: ['ALARM'] } },
      },
    });
    // Delivery retries cover a throttled or failing invocation; the rollout's own bake check is the
    // second line, within one check interval.
    this.alarmRollbackRule.addTarget(new eventsTargets.LambdaFunction(functions.alarmRollback, { retryAttempts: 4, maxEventAge: Duration.minutes(15) }));

    // Game-day schedules: one per target model, disabled unless the stage enables game days.
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `EventBridge Scheduler: starts ${props.stage} game-day drills`,
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
    const schedules: Record<string, scheduler.Schedule> = {};
    for (const model of settings.targetModels) {
      schedules[model.id] = new scheduler.Schedule(this, `GameDay-${model.id}`, {
        description: `${props.stage}: game-day drill for ${model.id} (self canary, forced canary alarm, rollback within ${settings.canary.gameDay.maxRollbackSeconds} s)`,
        schedule: scheduler.ScheduleExpression.expression(settings.canary.gameDay.schedule, timeZone),
        enabled: settings.canary.gameDay.enabled,
        target: new schedulerTargets.StepFunctionsStartExecution(this.gameDayStateMachine, {
          role: this.schedulerRole,
          input: scheduler.ScheduleTargetInput.fromObject({ targetModelId: model.id, requestedBy: 'scheduler:game-day' }),
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
        }),
      });
    }
    this.gameDaySchedules = schedules;

    this.eksClusterPrincipals = eksTargets.length === 0 ? [] : [this.stateMachine.role, roles.rollBack, roles.alarmRollback, roles.setSelfCanary];
  }

  /**
   * Deploying a variant: read the endpoint and its configuration, create the candidate's model and the
   * rollout's endpoint configuration (names from lambdas/rollout/sagemaker/variants.ts), update the
   * endpoint, and pass the execution role to SageMaker only.
   */
  private grantVariantDeployment(role: iam.Role, targets: ReadonlyArray<{ modelId: string; target: SageMakerTarget }>, endpointArns: readonly string[], registry: ModelRegistry): void {
    const stack = Stack.of(this);
    const sm = (resource: string, resourceName: string): string => stack.formatArn({ service: 'sagemaker', resource, resourceName });
    // `<endpoint>-c<hash>` (endpointConfigNameFor) and `<model>-v<version>-<hash>` (modelNameFor), lower-case in ARNs.
    const configs = [...new Set(targets.map((t) => sm('endpoint-config', `${t.target.endpointName.toLowerCase().slice(0, 53)}-c*`)))];
    const models = [...new Set(targets.map((t) => sm('model', `${`${t.modelId}-v`.slice(0, 54)}*`)))];
    // The configuration in use was created by the serving team under a name the loop cannot know.
    const anyConfig = sm('endpoint-config', '*');
    iam.Grant.addToPrincipal({ grantee: role, actions: ['sagemaker:DescribeEndpoint'], resourceArns: [...endpointArns] });
    iam.Grant.addToPrincipal({ grantee: role, actions: ['sagemaker:DescribeEndpointConfig'], resourceArns: [anyConfig] });
    iam.Grant.addToPrincipal({ grantee: role, actions: ['sagemaker:CreateEndpointConfig', 'sagemaker:AddTags'], resourceArns: configs });
    iam.Grant.addToPrincipal({ grantee: role, actions: ['sagemaker:CreateModel', 'sagemaker:AddTags'], resourceArns: models });
    iam.Grant.addToPrincipal({ grantee: role, actions: ['sagemaker:UpdateEndpoint'], resourceArns: [...endpointArns, ...configs] });
    iam.Grant.addToPrincipal({ grantee: role, actions: ['sagemaker:DescribeModelPackage'], resourceArns: registry.packageArns });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.sageMakerExecutionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    acknowledgeWildcardResourceToken(role, anyConfig, 'DescribeEndpointConfig only: the configuration serving the endpoint before its first rollout was named by the serving team; the candidate configuration copies its settings.');
    for (const arn of configs) acknowledgeWildcardResourceToken(role, arn, 'The endpoint configurations a rollout creates, <endpoint>-c<hash of the rollout id>: one per rollout, named at run time.');
    for (const arn of models) acknowledgeWildcardResourceToken(role, arn, 'The candidate models a rollout creates, <model>-v<version>-<hash of the package ARN>: one per package version, named at run time.');
    acknowledgeRegistryPackages(role, registry, 'CreateModel from a model package reads that package (DescribeModelPackage): versions of the stage\'s groups are numbered by SageMaker.');
  }

  /** cdk-nag IAM5 for a state machine role: X-Ray and logs delivery on *, each invoked function's versions. */
  private acknowledgeStateMachine(stateMachine: sfn.StateMachine, invoked: readonly lambda.IFunction[]): void {
    Validations.of(stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'On * only what has no resource-level permissions: the CloudWatch Logs delivery actions of execution logging and the X-Ray actions of tracing.',
    });
    for (const fn of new Set(invoked)) {
      acknowledgeWildcardResource(
        stateMachine.role,
        fn.node.defaultChild as CfnElement,
        'Arn',
        ':*',
        `lambda:InvokeFunction on the versions and aliases of ${fn.node.path.split('/').slice(-2, -1)[0] ?? fn.node.id} (function-arn:*), as the invoke task grants it; no other function is reachable.`,
      );
    }
  }
}

/** Records why `model-package/<group>/*` is needed on `role` (cdk-nag IAM5), once per group. */
function acknowledgeRegistryPackages(role: iam.Role, registry: ModelRegistry, reason: string): void {
  for (const arn of registry.packageArns) acknowledgeWildcardResourceToken(role, arn, reason);
}

/**
 * ECR pull of the serving image for SageMaker: the repository's layers and the account-wide
 * authorization token. An image outside ECR needs no grant (SageMaker serves packages from ECR anyway).
 */
function grantImagePull(role: iam.Role, imageUri: string): void {
  const ecr = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+?)(?::[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})?$/.exec(imageUri);
  if (ecr === null) throw new Error(`CanaryRollout: servingImageUri "${imageUri}" is not an ECR image URI; SageMaker serves model packages from ECR`);
  const [, account, region, repository] = ecr;
  const partition = Stack.of(role).partition;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      resources: [`arn:${partition}:ecr:${region}:${account}:repository/${repository}`],
    }),
  );
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
}

function functionId(step: RolloutStep): string {
  return `${step.charAt(0).toUpperCase()}${step.slice(1)}`;
}
