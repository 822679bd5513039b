/**
 * Per-agent operating alarms as synthesized in the loop stack: one latency SLO alarm per listed agent at
 * its own percentile and target, on the gate's per-agent latency values, and one daily cost alarm above
 * an anomaly detection band of the configured width, to the FinOps topic.
 */
import { loadStageConfig } from '../../config';
import { agentSlos } from '../../config/operations';
import { DIMENSION, METRIC } from '../../lambdas/gate-score/publish-metrics';
import { loopTemplate, resourcesOfType } from '../helpers/app';

type Props = Record<string, unknown> & { AlarmName?: string };

describe('agent operating alarms (dev)', () => {
  const config = loadStageConfig('dev');
  const template = loopTemplate('dev');
  const topicId = (name: string) => resourcesOfType(template, 'AWS::SNS::Topic').find(([id]) => id.startsWith(name))?.[0];
  const notificationsTopic = topicId('ApprovalsNotificationsTopic');
  const finopsTopic = topicId('ApprovalsFinopsTopic');
  const alarms = new Map(resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id, r]) => [(r.Properties as Props).AlarmName, { id, props: r.Properties as Props }]));

  it.each(agentSlos(config.agents))('$agentId: an SLO alarm at $percentile <= $targetMs ms on the latency values', (slo) => {
    const alarm = alarms.get(`sial-dev-slo-${slo.agentId}`);
    expect(alarm?.props).toEqual(
      expect.objectContaining({
        Namespace: config.metricsNamespace,
        MetricName: METRIC.latencyMs,
        Dimensions: [{ Name: DIMENSION.agent, Value: slo.agentId }],
        ExtendedStatistic: slo.percentile,
        Period: 300,
        Threshold: slo.targetMs,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: notificationsTopic }],
      }),
    );
  });

  it('the IDE agent holds p99 <= 100 ms and the chat client p95 <= 500 ms', () => {
    expect(alarms.get('sial-dev-slo-ide-assistant')?.props).toEqual(expect.objectContaining({ ExtendedStatistic: 'p99', Threshold: 100 }));
    expect(alarms.get('sial-dev-slo-chat-assistant')?.props).toEqual(expect.objectContaining({ ExtendedStatistic: 'p95', Threshold: 500 }));
  });

  it.each(config.agents.map((a) => a.id))('%s: a daily cost alarm above the expected cost + 2 sigma, to FinOps', (agentId) => {
    const alarm = alarms.get(`sial-dev-cost-${agentId}`)?.props as { Metrics: Array<Record<string, unknown>>; ThresholdMetricId: string; ComparisonOperator: string; AlarmActions: unknown[] };
    expect(alarm.ComparisonOperator).toBe('GreaterThanUpperThreshold');
    expect(alarm.ThresholdMetricId).toBe('band');
    expect(alarm.Metrics).toEqual([
      expect.objectContaining({ Id: 'cost', MetricStat: { Metric: { Namespace: config.metricsNamespace, MetricName: METRIC.costUsd, Dimensions: [{ Name: DIMENSION.agent, Value: agentId }] }, Period: 86_400, Stat: 'Sum' } }),
      expect.objectContaining({ Id: 'band', Expression: `ANOMALY_DETECTION_BAND(cost, ${config.operations.costAnomalyStdDevs})` }),
    ]);
    expect(alarm.AlarmActions).toEqual([{ Ref: finopsTopic }]);
  });
});
