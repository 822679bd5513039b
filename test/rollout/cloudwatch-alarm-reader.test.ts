import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchAlarmReader } from '../../lambdas/rollout/aws/cloudwatch-alarm-reader';
import { LocalAlarmReader } from '../../local/rollout/local-alarm-reader';

const cloudwatch = mockClient(CloudWatchClient);
const reader = new CloudWatchAlarmReader(new CloudWatchClient({ region: 'us-east-1' }));

beforeEach(() => cloudwatch.reset());

describe('CloudWatchAlarmReader', () => {
  it('reads a composite alarm by name, dated by its last state transition', async () => {
    cloudwatch.on(DescribeAlarmsCommand, { AlarmNames: ['sial-dev-qwen3-4b-canary'], AlarmTypes: ['CompositeAlarm', 'MetricAlarm'] }).resolves({
      CompositeAlarms: [
        {
          AlarmName: 'sial-dev-qwen3-4b-canary',
          StateValue: 'ALARM',
          StateReason: 'faithfulness transitioned to ALARM',
          StateTransitionedTimestamp: new Date('2026-05-04T10:00:04.512Z'),
          StateUpdatedTimestamp: new Date('2026-05-04T10:00:30.000Z'),
        },
      ],
    });
    expect(await reader.state('sial-dev-qwen3-4b-canary')).toEqual({ state: 'ALARM', reason: 'faithfulness transitioned to ALARM', updatedAt: new Date('2026-05-04T10:00:04.512Z') });
  });

  it('reads a metric alarm the same way', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'm', StateValue: 'INSUFFICIENT_DATA', StateUpdatedTimestamp: new Date('2026-05-04T09:00:00Z') }] });
    expect(await reader.state('m')).toEqual({ state: 'INSUFFICIENT_DATA', reason: '', updatedAt: new Date('2026-05-04T09:00:00Z') });
  });

  it('fails closed when the alarm does not exist', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ CompositeAlarms: [], MetricAlarms: [] });
    await expect(reader.state('gone')).rejects.toThrow('CloudWatch has no alarm named gone');
  });
});

describe('LocalAlarmReader', () => {
  it('reports what a test set, dating only real transitions, and fails for an alarm never set', async () => {
    const alarms = new LocalAlarmReader(() => new Date('2026-05-04T10:00:00Z'));
    await expect(alarms.state('a')).rejects.toThrow('no local alarm named a');
    alarms.set('a', 'OK', 'fine', new Date('2026-05-04T09:00:00Z'));
    alarms.set('a', 'OK', 'still fine', new Date('2026-05-04T09:30:00Z'));
    expect(await alarms.state('a')).toEqual({ state: 'OK', reason: 'still fine', updatedAt: new Date('2026-05-04T09:00:00Z') });
    alarms.set('a', 'ALARM');
    expect(await alarms.state('a')).toEqual({ state: 'ALARM', reason: '[SIMULATED] set to ALARM', updatedAt: new Date('2026-05-04T10:00:00Z') });
  });
});
