/**
 * CloudWatch adapter of the AlarmReader port: DescribeAlarms by name, composite or metric alarm (the
 * canary alarm is composite; a metric alarm works the same, so a stage can point a rollout at one).
 * IAM: cloudwatch:DescribeAlarms (it cannot be scoped to an alarm ARN; grant it on `*`).
 */
import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ALARM_STATES, type AlarmReader, type AlarmStateValue, type AlarmStatus } from '../ports';

function stateValue(value: string | undefined, alarmName: string): AlarmStateValue {
  if ((ALARM_STATES as readonly string[]).includes(value ?? '')) return value as AlarmStateValue;
  throw new Error(`alarm ${alarmName} reports an unknown state "${String(value)}"`);
}

export class CloudWatchAlarmReader implements AlarmReader {
  constructor(private readonly client: CloudWatchClient) {}

  async state(alarmName: string): Promise<AlarmStatus> {
    const response = await this.client.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName], AlarmTypes: ['CompositeAlarm', 'MetricAlarm'] }));
    const alarm = response.CompositeAlarms?.[0] ?? response.MetricAlarms?.[0];
    // Fail closed: a canary whose alarm is missing is a canary nobody watches.
    if (alarm === undefined) throw new Error(`CloudWatch has no alarm named ${alarmName}; the canary cannot be judged without it`);
    // StateTransitionedTimestamp is when the value last changed; StateUpdatedTimestamp also moves when
    // only the reason does, so it is the fallback.
    const updatedAt = alarm.StateTransitionedTimestamp ?? alarm.StateUpdatedTimestamp;
    if (updatedAt === undefined) throw new Error(`alarm ${alarmName} reports no state timestamp`);
    return { state: stateValue(alarm.StateValue, alarmName), reason: alarm.StateReason ?? '', updatedAt };
  }
}
