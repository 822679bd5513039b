/**
 * An alarm on any failed execution of a state machine within five minutes, sent to a topic: for the
 * workflows whose failure leaves a governance promise unkept (an erasure, a row expiry) and would
 * otherwise only show in the execution history.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

export function failedExecutionsAlarm(scope: Construct, stateMachine: sfn.StateMachine, topic: sns.ITopic, alarmDescription: string): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, 'FailedAlarm', {
    alarmDescription,
    metric: stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
  return alarm;
}
