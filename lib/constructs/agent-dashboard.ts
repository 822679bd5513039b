/**
 * The stage dashboard's section per agent (observability.ts adds it after the canary rows): for each
 * agent the stage lists, its traffic, its latency at its SLO's own percentile with the SLO alarm's
 * threshold, its daily cost with the cost alarm's anomaly band, both alarms' state, and what the last
 * daily reports found (regressions, confidence per model).
 *
 * Then one section for the gate's shared `unlisted` series, always: it is where the traffic of every
 * agent the stage does not list lands, and on a stage that lists none it is all the traffic there is.
 * It has no alarms and no confidence scores (neither exists for a mix of agents), so it graphs the
 * stage's default SLO as a plain line and the cost without a band.
 *
 * The latency and cost graphs use the alarms' metrics (same namespace, name, dimension, statistic and
 * period), and the report graphs the metrics the report function publishes (report-metrics.ts), so no
 * name is spelled here. CloudWatch cannot read the report files themselves: the heading says where they are.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { AgentLatencySlo, SloPercentile } from '../../config/operations';
import { DIMENSION, METRIC, UNLISTED_AGENT } from '../../lambdas/gate-score/publish-metrics';
import { REPORT_DIMENSION, REPORT_METRIC } from '../../lambdas/operations/report-metrics';
import { SLO_PERIOD, type AgentOperationsAlarms } from './agent-operations-alarms';
import { alarmTileHeight, heading } from './private/dashboard-layout';

/** What the agent sections read. */
export interface AgentDashboardProps {
  readonly stage: string;
  readonly metricsNamespace: string;
  /** The listed agents' SLOs, in the stage's order: one section each. */
  readonly slos: readonly AgentLatencySlo[];
  /** Their SLO and cost alarms. */
  readonly alarms: AgentOperationsAlarms;
  /** The band of the cost alarms (`operations.costAnomalyStdDevs`). */
  readonly costAnomalyStdDevs: number;
  /** What unlisted agents are held to (`defaultLatencySloMs`, at p95 as the reward reads it); graphed, never alarmed. */
  readonly defaultSlo: { readonly percentile: SloPercentile; readonly targetMs: number };
  /** The models whose confidence the report publishes per agent (the stage's target and priced models). */
  readonly models: readonly string[];
  /** Where the daily reports are written: `s3://<artifact bucket>/reports/`. */
  readonly reportsUri: string;
}

/** Period of the traffic graph: the gate's per-agent figures are standard resolution, summed per 5 minutes. */
export const AGENT_TRAFFIC_PERIOD = Duration.minutes(5);
/** Period and range of the cost and report graphs: a day per point (the cost alarm's day, one report a day), five weeks. */
export const AGENT_DAILY_PERIOD = Duration.days(1);
export const AGENT_DAILY_RANGE = '-P35D';

/** Builds one section per listed agent, then the `unlisted` section; each a heading and full-width rows. */
export function agentSections(props: AgentDashboardProps): cloudwatch.IWidget[] {
  const missing = props.slos.filter((s) => !props.alarms.sloAlarms.has(s.agentId) || !props.alarms.costAlarmStates.has(s.agentId)).map((s) => s.agentId);
  if (missing.length > 0) throw new Error(`Observability: agent ${missing.join(', ')} has no SLO or cost alarm; expected the agent alarms of the same agents`);
  const sections = new AgentSections(props);
  return [...props.slos.flatMap((slo) => sections.listed(slo)), ...sections.unlisted()];
}

class AgentSections {
  constructor(private readonly props: AgentDashboardProps) {}

  listed(slo: AgentLatencySlo): cloudwatch.IWidget[] {
    const { alarms, costAnomalyStdDevs, stage } = this.props;
    const id = slo.agentId;
    const sloAlarm = alarms.sloAlarms.get(id)!;
    const cost = this.cost(id);
    return [
      heading(
        `## Agent: ${id}`,
        `SLO ${slo.percentile} <= ${slo.targetMs} ms (\`sial-${stage}-slo-${id}\`); daily cost above its expected value + ${costAnomalyStdDevs} standard deviations (\`sial-${stage}-cost-${id}\`). ${this.reportsLine(`regressions-${id}.json`)}`,
      ),
      new cloudwatch.Row(
        this.traffic(id),
        this.graph(`${id}: ${slo.percentile} latency against its SLO (${SLO_PERIOD.toMinutes()} min)`, {
          left: [this.latency(id, slo.percentile)],
          // The alarm's own threshold: the SLO target, labelled as the alarm judges it.
          leftAnnotations: [sloAlarm.toAnnotation()],
          leftYAxis: { min: 0, label: 'ms', showUnits: false },
        }),
        this.graph(`${id}: daily cost (USD) and expected band`, {
          start: AGENT_DAILY_RANGE,
          left: [
            cost.with({ label: 'cost', color: cloudwatch.Color.BLUE }),
            // The cost alarm's expression: the alarm fires when the day's cost is above this band.
            new cloudwatch.MathExpression({
              expression: `ANOMALY_DETECTION_BAND(cost, ${costAnomalyStdDevs})`,
              usingMetrics: { cost },
              label: `expected daily cost (${costAnomalyStdDevs} standard deviations)`,
              color: cloudwatch.Color.GREY,
              period: AGENT_DAILY_PERIOD,
            }),
          ],
          leftYAxis: { min: 0, label: 'USD', showUnits: false },
        }),
        new cloudwatch.AlarmStatusWidget({ title: `${id}: SLO and cost alarms`, alarms: [sloAlarm, alarms.costAlarmStates.get(id)!], width: 6, height: alarmTileHeight(2) }),
      ),
      new cloudwatch.Row(
        this.regressions(id, 12),
        this.graph(`${id}: confidence per model (daily report)`, {
          width: 12,
          start: AGENT_DAILY_RANGE,
          left: this.props.models.map((model) => this.report(REPORT_METRIC.confidence, { [REPORT_DIMENSION.agent]: id, [REPORT_DIMENSION.model]: model }, model)),
          leftYAxis: { min: 0, max: 1, showUnits: false },
        }),
      ),
    ];
  }

  unlisted(): cloudwatch.IWidget[] {
    const { percentile, targetMs } = this.props.defaultSlo;
    const id = UNLISTED_AGENT;
    return [
      heading(
        `## Agents the stage does not list (\`${id}\`)`,
        `The gate folds every agent outside \`agents\` into one \`${id}\` series: no alarms, no confidence scores; the default SLO ${percentile} <= ${targetMs} ms is drawn, not alarmed. ${this.reportsLine('regressions-<agent>.json')}`,
      ),
      new cloudwatch.Row(
        this.traffic(id),
        this.graph(`${id}: ${percentile} latency against the default SLO (${SLO_PERIOD.toMinutes()} min)`, {
          left: [this.latency(id, percentile)],
          leftAnnotations: [{ value: targetMs, label: `default SLO ${targetMs} ms (defaultLatencySloMs, no alarm)`, color: cloudwatch.Color.RED }],
          leftYAxis: { min: 0, label: 'ms', showUnits: false },
        }),
        this.graph(`${id}: daily cost (USD)`, { start: AGENT_DAILY_RANGE, left: [this.cost(id).with({ label: 'cost' })], leftYAxis: { min: 0, label: 'USD', showUnits: false } }),
        this.regressions(id, 6),
      ),
    ];
  }

  private reportsLine(file: string): string {
    return `Daily reports: \`${this.props.reportsUri}<date>/${file}\` and \`confidence.json\` (locally \`sial report regressions|confidence\`).`;
  }

  private graph(title: string, props: Omit<cloudwatch.GraphWidgetProps, 'title'>): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({ title, width: 6, height: 6, ...props });
  }

  private gate(metricName: string, agent: string, statistic: string, period: Duration, label?: string): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: this.props.metricsNamespace, metricName, dimensionsMap: { [DIMENSION.agent]: agent }, statistic, period, label });
  }

  private traffic(agent: string): cloudwatch.GraphWidget {
    const sum = (metricName: string, label: string): cloudwatch.Metric => this.gate(metricName, agent, cloudwatch.Stats.SUM, AGENT_TRAFFIC_PERIOD, label);
    return this.graph(`${agent}: traces (${AGENT_TRAFFIC_PERIOD.toMinutes()} min)`, {
      left: [sum(METRIC.tracesIn, 'in'), sum(METRIC.tracesKept, 'kept'), sum(METRIC.tracesDiscarded, 'discarded')],
      leftYAxis: { min: 0, showUnits: false },
    });
  }

  /** The SLO alarm's metric: every latency is an EMF value, so the percentile is CloudWatch's own. */
  private latency(agent: string, percentile: SloPercentile): cloudwatch.Metric {
    return this.gate(METRIC.latencyMs, agent, percentile, SLO_PERIOD, `${percentile} latency`);
  }

  /** The cost alarm's metric: the day's summed `CostUsd`. */
  private cost(agent: string): cloudwatch.Metric {
    return this.gate(METRIC.costUsd, agent, cloudwatch.Stats.SUM, AGENT_DAILY_PERIOD);
  }

  private report(metricName: string, dimensions: Readonly<Record<string, string>>, label: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.props.metricsNamespace,
      metricName,
      dimensionsMap: { [REPORT_DIMENSION.stage]: this.props.stage, ...dimensions },
      // One report a day; a rerun the same day publishes the same figures again.
      statistic: cloudwatch.Stats.MAXIMUM,
      period: AGENT_DAILY_PERIOD,
      label,
    });
  }

  private regressions(agent: string, width: number): cloudwatch.GraphWidget {
    return this.graph(`${agent}: regressions in the daily report`, {
      width,
      start: AGENT_DAILY_RANGE,
      left: [this.report(REPORT_METRIC.regressions, { [REPORT_DIMENSION.agent]: agent }, 'regressed dimensions')],
      leftYAxis: { min: 0, showUnits: false },
    });
  }
}
