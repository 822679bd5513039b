/**
 * Per-agent operating alarms on the gate's EMF metrics:
 * - a latency SLO alarm per listed agent, at the agent's own percentile and target (the gate publishes
 *   every latency as a value, so CloudWatch computes true percentiles), to the pipeline notifications topic;
 * - a daily cost alarm per listed agent: the day's summed `CostUsd` above a CloudWatch anomaly detection
 *   band of `costAnomalyStdDevs` standard deviations (the expected value + 2 sigma by default), to FinOps.
 * Agents the stage does not list share the gate's `unlisted` series and get no alarm of their own.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AgentLatencySlo } from '../../config/operations';
import { DIMENSION, METRIC } from '../../lambdas/gate-score/publish-metrics';

export interface AgentOperationsAlarmsProps {
  readonly stage: string;
  readonly metricsNamespace: string;
  readonly slos: readonly AgentLatencySlo[];
  readonly costAnomalyStdDevs: number;
  /** Where SLO breaches go (the pipeline notifications topic). */
  readonly sloTopic: sns.ITopic;
  /** Where cost anomalies go (the FinOps topic). */
  readonly costTopic: sns.ITopic;
}

/** The SLO alarm's period: five minutes of latencies per percentile, two of three breaching. */
export const SLO_PERIOD = Duration.minutes(5);

export class AgentOperationsAlarms extends Construct {
  /** Per agent id. */
  readonly sloAlarms = new Map<string, cloudwatch.Alarm>();
  readonly costAlarms = new Map<string, cloudwatch.CfnAlarm>();
  /** The cost alarms as IAlarm (an anomaly band needs the L1 alarm), for alarm status widgets. */
  readonly costAlarmStates = new Map<string, cloudwatch.IAlarm>();

  constructor(scope: Construct, id: string, props: AgentOperationsAlarmsProps) {
    super(scope, id);
    props.slos.forEach((slo, index) => {
      const latency = new cloudwatch.Metric({
        namespace: props.metricsNamespace,
        metricName: METRIC.latencyMs,
        dimensionsMap: { [DIMENSION.agent]: slo.agentId },
        statistic: slo.percentile,
        period: SLO_PERIOD,
      });
      const alarm = latency.createAlarm(this, `Slo${index}`, {
        alarmName: `sial-${props.stage}-slo-${slo.agentId}`.slice(0, 255),
        alarmDescription: `${slo.agentId}: ${slo.percentile} latency above its SLO of ${slo.targetMs} ms in 2 of 3 five-minute periods`,
        threshold: slo.targetMs,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        // No traffic is no breach: an idle agent keeps its SLO.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.sloTopic));
      this.sloAlarms.set(slo.agentId, alarm);

      const cost = new cloudwatch.CfnAlarm(this, `Cost${index}`, {
        alarmName: `sial-${props.stage}-cost-${slo.agentId}`.slice(0, 255),
        alarmDescription: `${slo.agentId}: the day's cost is above its expected value + ${props.costAnomalyStdDevs} standard deviations (anomaly detection band)`,
        comparisonOperator: 'GreaterThanUpperThreshold',
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        thresholdMetricId: 'band',
        treatMissingData: 'notBreaching',
        alarmActions: [props.costTopic.topicArn],
        metrics: [
          {
            id: 'cost',
            returnData: true,
            metricStat: {
              metric: { namespace: props.metricsNamespace, metricName: METRIC.costUsd, dimensions: [{ name: DIMENSION.agent, value: slo.agentId }] },
              period: Duration.days(1).toSeconds(),
              stat: 'Sum',
            },
          },
          { id: 'band', returnData: true, expression: `ANOMALY_DETECTION_BAND(cost, ${props.costAnomalyStdDevs})`, label: 'expected daily cost' },
        ],
      });
      this.costAlarms.set(slo.agentId, cost);
      this.costAlarmStates.set(slo.agentId, cloudwatch.Alarm.fromAlarmArn(this, `CostState${index}`, cost.attrArn));
    });
  }
}
