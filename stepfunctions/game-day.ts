/**
 * The game-day drill (proves automatic reversion within the bound, 5 minutes by default) as a Standard
 * workflow, JSONPath only, states named exactly as GAME_DAY_STATES:
 *
 *   Start drill -> $.rollout (a self canary: the current version as both current and candidate)
 *   Set self canary -> $.selfCanary (the small split verified)
 *   Breach canary alarm (aws-sdk cloudwatch:setAlarmState ALARM on the model's drill child alarm)
 *   Wait for rollback / Check rollback -> $.drillRollback / Rollback verified? (loop)
 *   Record drill -> $.drill (GameDayRollbackSeconds published, judged against maxRollbackSeconds)
 *   Within bound? -> Drill passed | Drill failed
 *
 * The breach goes to a child metric alarm of the composite (canary-alarms.ts DRILL_SIGNAL): CloudWatch
 * lets SetAlarmState set a composite alarm too, but a composite set by hand keeps that state until a
 * child changes, so the model's next real rollout would start in ALARM. The child returns to its real
 * state at its next evaluation and the composite follows, exactly like a real breach; the alarm Lambda
 * then rolls the self canary back through the same EventBridge path a real breach takes.
 *
 * `$.drill` always holds `Error` and `Cause` when the drill fails: the measurement with
 * `Error: RollbackTooSlow` and its summary added, or a caught failure's own `{ Error, Cause }`.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { ROLLOUT_LAMBDA_ERRORS } from '../lambdas/rollout/errors';
import { ScopedCallAwsService } from './canary-rollout';
import { GAME_DAY_STATES } from './canary-rollout-states';
import { invokeForResult } from './lambda-tasks';

/** The drill's Lambda functions. */
export interface GameDayFunctions {
  /** lambdas/rollout/game-day: the self-canary plan of the model (`$.rollout`), claimed as its active rollout. */
  readonly startDrill: lambda.IFunction;
  /** lambdas/rollout/game-day: the self canary's small split, set and verified (`$.selfCanary`). */
  readonly setSelfCanary: lambda.IFunction;
  /** lambdas/rollout/game-day `checkDrillRollback`: `$.drillRollback` ({ rolledBack }). */
  readonly checkRollback: lambda.IFunction;
  /** lambdas/rollout/game-day `measureDrill`: `$.drill` (publishes GameDayRollbackSeconds). */
  readonly recordDrill: lambda.IFunction;
}

/** Dependencies of {@link buildGameDayDefinition}. */
export interface GameDayDefinitionProps {
  readonly functions: GameDayFunctions;
  /** ARNs of the alarms `Breach canary alarm` may set (one drill child alarm per target model). */
  readonly drillAlarmArns: readonly string[];
  /** Suffix of the drill child alarm's name after the composite's (`-errors`). */
  readonly drillAlarmSuffix: string;

  /**
   * Pause between rollback checks after the breach.
   *
   * @default Duration.seconds(5)
   */
  readonly rollbackPollInterval?: Duration;
}

/** What {@link buildGameDayDefinition} returns. */
export interface GameDayDefinition {
  readonly chain: sfn.IChainable;
  /** `Breach canary alarm`, whose IAM statement names the drill alarms. */
  readonly breachAlarm: tasks.CallAwsService;
}

/** `Error` of a drill that rolled back, but not within the bound (or not through the alarm path). */
export const DRILL_TOO_SLOW_ERROR = 'RollbackTooSlow';

/** Where every caught failure of the drill lands (read by `Drill failed`). */
export const DRILL_PATH = '$.drill';

/** Fields of the `Record drill` result kept in `$.drill` (lambdas/rollout/game-day/measure-drill.ts DrillMeasurement). */
export const DRILL_MEASUREMENT_FIELDS = [
  'rolloutId',
  'targetModelId',
  'by',
  'breachAt',
  'verifiedAt',
  'rollbackSeconds',
  'maxRollbackSeconds',
  'targetRollbackSeconds',
  'withinBound',
  'withinTarget',
  'summary',
] as const;

const J = sfn.JsonPath;

/** The states, built in `scope`; returns the chain from `Start drill`. */
export function buildGameDayDefinition(scope: Construct, props: GameDayDefinitionProps): GameDayDefinition {
  const pollSeconds = (props.rollbackPollInterval ?? Duration.seconds(5)).toSeconds();
  if (!Number.isInteger(pollSeconds) || pollSeconds < 1) throw new Error(`Game day: rollbackPollInterval is ${pollSeconds} s; expected whole seconds, at least 1`);
  if (!/^-[a-z]+$/.test(props.drillAlarmSuffix)) throw new Error(`Game day: drillAlarmSuffix is "${props.drillAlarmSuffix}"; expected "-" and lower-case letters, e.g. "-errors"`);
  const { functions: fn } = props;
  const S = GAME_DAY_STATES;

  const invoke = (id: string, lambdaFunction: lambda.IFunction, payload: Record<string, unknown>, resultPath: string, extra: Partial<tasks.LambdaInvokeProps> = {}): tasks.LambdaInvoke =>
    invokeForResult(scope, id, lambdaFunction, payload, resultPath, extra);

  const passed = new sfn.Succeed(scope, S.drillPassed, { comment: 'Breach to verified 100 % current within maxRollbackSeconds', outputPath: DRILL_PATH });
  const failed = new sfn.Fail(scope, S.drillFailed, {
    comment: `${DRILL_TOO_SLOW_ERROR} with the measurement, or the error that stopped the drill`,
    errorPath: `${DRILL_PATH}.Error`,
    causePath: `${DRILL_PATH}.Cause`,
  });
  const onFailure = (task: tasks.LambdaInvoke | tasks.CallAwsService): void => {
    task.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: DRILL_PATH });
  };

  // As in the rollout, the claim records the execution's ARN for `sial rollout release`.
  const startDrill = invoke(S.startDrill, fn.startDrill, { input: J.entirePayload, executionName: J.executionName, executionArn: J.executionId }, '$.rollout');
  onFailure(startDrill);
  const rolloutId = { rolloutId: J.stringAt('$.rollout.rolloutId') };

  const setSelfCanary = invoke(S.setSelfCanary, fn.setSelfCanary, { rollout: J.objectAt('$.rollout') }, '$.selfCanary');
  // A SageMaker self canary needs a second variant: the endpoint is busy until it is in service.
  setSelfCanary.addRetry({ errors: [ROLLOUT_LAMBDA_ERRORS.trafficTargetBusy], interval: Duration.seconds(30), maxAttempts: 40, backoffRate: 1 });
  onFailure(setSelfCanary);

  const breachAlarm = new ScopedCallAwsService(scope, S.breachAlarm, {
    service: 'cloudwatch',
    action: 'setAlarmState',
    iamAction: 'cloudwatch:SetAlarmState',
    iamResources: [...props.drillAlarmArns],
    parameters: {
      AlarmName: J.format(`{}${props.drillAlarmSuffix}`, J.stringAt('$.rollout.alarmName')),
      StateValue: 'ALARM',
      StateReason: J.format('Game day drill {}: breach forced by the drill (SetAlarmState)', J.executionName),
    },
    resultPath: J.DISCARD,
  });
  breachAlarm.addRetry({ errors: ['CloudWatch.CloudWatchException', 'CloudWatch.LimitExceededException'], interval: Duration.seconds(2), maxAttempts: 4, backoffRate: 2 });
  onFailure(breachAlarm);

  const waitForRollback = new sfn.Wait(scope, S.waitForRollback, { time: sfn.WaitTime.duration(Duration.seconds(pollSeconds)) });
  const checkRollback = invoke(S.checkRollback, fn.checkRollback, rolloutId, '$.drillRollback');
  onFailure(checkRollback);
  const rollbackVerified = new sfn.Choice(scope, S.rollbackVerified);

  // The measurement keeps its fields and gains Error/Cause for `Drill failed` (see the header).
  const recordDrill = invoke(S.recordDrill, fn.recordDrill, rolloutId, DRILL_PATH, {
    resultSelector: {
      ...Object.fromEntries(DRILL_MEASUREMENT_FIELDS.map((field) => [field, J.stringAt(`$.${field}`)])),
      Error: DRILL_TOO_SLOW_ERROR,
      Cause: J.stringAt('$.summary'),
    },
  });
  onFailure(recordDrill);
  const withinBound = new sfn.Choice(scope, S.withinBound);

  startDrill.next(setSelfCanary).next(breachAlarm).next(waitForRollback).next(checkRollback).next(rollbackVerified);
  rollbackVerified.when(sfn.Condition.booleanEquals('$.drillRollback.rolledBack', true), recordDrill).otherwise(waitForRollback);
  recordDrill.next(withinBound);
  withinBound
    .when(sfn.Condition.and(sfn.Condition.isPresent('$.drill.withinBound'), sfn.Condition.booleanEquals('$.drill.withinBound', true)), passed)
    .otherwise(failed);
  return { chain: startDrill, breachAlarm };
}
