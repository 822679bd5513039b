/**
 * An EventBridge Scheduler schedule that starts a state machine with `{}`, and the role it starts it
 * with: assumable only by the scheduler of this account's default schedule group. Retries 3 times and
 * drops a start older than an hour (the next scheduled run comes anyway).
 */
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/** The role EventBridge Scheduler assumes, as `id` (default `SchedulerRole`) in `scope`. */
export function schedulerRole(scope: Construct, description: string, id = 'SchedulerRole'): iam.Role {
  const stack = Stack.of(scope);
  return new iam.Role(scope, id, {
    description,
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }) } },
    }),
  });
}

export interface StateMachineScheduleProps {
  readonly stateMachine: sfn.IStateMachine;
  /** The role's description (who it starts). */
  readonly roleDescription: string;
  /** The schedule's description. */
  readonly description: string;
  /** An EventBridge Scheduler expression, in `timezone`. */
  readonly expression: string;
  readonly timezone: string;
  readonly enabled: boolean;
}

/** `Schedule` (and `SchedulerRole`) in `scope`. */
export function scheduleStateMachine(scope: Construct, props: StateMachineScheduleProps): scheduler.Schedule {
  return new scheduler.Schedule(scope, 'Schedule', {
    description: props.description,
    schedule: scheduler.ScheduleExpression.expression(props.expression, TimeZone.of(props.timezone)),
    enabled: props.enabled,
    target: new schedulerTargets.StepFunctionsStartExecution(props.stateMachine, {
      role: schedulerRole(scope, props.roleDescription),
      input: scheduler.ScheduleTargetInput.fromObject({}),
      retryAttempts: 3,
      maxEventAge: Duration.hours(1),
    }),
  });
}
