/**
 * The loop's CloudWatch dashboard, one per stage, in the loop stack. It graphs what the
 * loop's alarms judge, with the alarms' own metric objects, so an operator sees the series that rolls a
 * canary back or warns FinOps, not a look-alike:
 *
 * 1. Loop health: the state of every canary composite alarm and the GPU budget alarm, then the canary
 *    child alarms (which signal breached).
 * 2. Per target model: faithfulness and misroute of the current and candidate variants beside the
 *    alarm's own difference and threshold, the candidate's error rate and mean latency (the alarm
 *    expressions) beside the current version's, traces per variant, and drops per variant by gate.
 * 3. Per agent (agent-dashboard.ts): traffic, latency at the SLO's percentile against the SLO alarm, daily
 *    cost against the cost alarm's anomaly band, both alarms' state, the daily reports' regressions and
 *    confidence per model; then the shared `unlisted` series.
 * 4. Ingest: the gate's batch totals, drops by gate and reason, Firehose Iceberg delivery and the gate
 *    invocations Firehose makes.
 * 5. Pipeline: executions by outcome of the training, rollout and game-day state machines, and the GPU
 *    budget's used share of the month's ceiling with the alarm threshold.
 * 6. Rollback: seconds from breach to verified rollback (alarm Lambda and game days) against the
 *    configured bound and target, promotions and rollbacks.
 *
 * Metric and dimension names come from the Lambdas that publish them (the gate, the budget steps, the
 * rollout functions); none is spelled here.
 */
import { Duration, Fn, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { CanaryConfig } from '../../config/schema';
import { DIMENSION, METRIC } from '../../lambdas/gate-score/publish-metrics';
import { ROLLOUT_DIMENSION, ROLLOUT_METRIC } from '../../lambdas/rollout/rollout-metrics';
import { agentSections, type AgentDashboardProps } from './agent-dashboard';
import { CANARY_SIGNALS, CANARY_VARIANTS, type CanaryAlarms } from './canary-alarms';
import type { GpuBudget } from './gpu-budget';
import { alarmTileHeight, heading, MAX_DASHBOARD_WIDGETS, widgetCount } from './private/dashboard-layout';

/** The state machines whose executions the dashboard counts. */
export interface ObservedStateMachines {
  /** The training pipeline. */
  readonly trainingPipeline: sfn.IStateMachine;
  /** The canary rollout. */
  readonly rollout: sfn.IStateMachine;
  /** The game-day drill. */
  readonly gameDay: sfn.IStateMachine;
}

/** Properties of {@link Observability}. */
export interface ObservabilityProps {
  /** Stage name: the dashboard's name and the `Stage` dimension of the rollout metrics. */
  readonly stage: string;
  /** Namespace the loop's Lambdas publish their EMF metrics in (`config.metricsNamespace`). */
  readonly metricsNamespace: string;
  /** Target model ids of the stage: one row each. */
  readonly targetModelIds: readonly string[];
  /** The canary settings (`config.canary`): the alarm period, the game-day bound and target. */
  readonly canary: Pick<CanaryConfig, 'alarms' | 'gameDay'>;
  /** The canary alarms of the same target models. */
  readonly canaryAlarms: CanaryAlarms;
  /** The GPU budget (its used-fraction metric and alarm). */
  readonly budget: GpuBudget;
  /** The three state machines of the loop. */
  readonly stateMachines: ObservedStateMachines;
  /** Name of the trace delivery stream (the `AWS/Firehose` `DeliveryStreamName` dimension). */
  readonly traceDeliveryStreamName: string;
  /** The per-agent sections: the stage's agents, their alarms, the daily reports (agent-dashboard.ts). */
  readonly agents: Omit<AgentDashboardProps, 'stage' | 'metricsNamespace'>;

  /**
   * The dashboard's name. CloudWatch dashboard names are unique per account, not per region, so the
   * stage (unique across regions) is part of it.
   *
   * @default `sial-<stage>`
   */
  readonly dashboardName?: string;
}

/** The default dashboard name of a stage: `sial-<stage>`. */
export function dashboardNameOf(stage: string): string {
  return `sial-${stage}`;
}

/**
 * What the time-range picker shows when the dashboard opens: CloudWatch keeps 1-second data for 3 hours,
 * so the canary rows show the alarms' own sub-minute periods across the whole default range.
 */
export const DEFAULT_DASHBOARD_INTERVAL = Duration.hours(3);
/** Period of the gate totals and Firehose delivery (standard-resolution and service metrics). */
export const INGEST_PERIOD = Duration.minutes(5);
/** Period of the per-variant drops by gate (standard resolution: one minute is the finest). */
export const VARIANT_DROPS_PERIOD = Duration.minutes(1);
/** Period and time range of the pipeline row: weekly runs and a monthly ceiling, seen over five weeks. */
export const PIPELINE_PERIOD = Duration.days(1);
export const PIPELINE_RANGE = '-P35D';
/** Time range of the rollback row: monthly game days, three of them. */
export const ROLLBACK_RANGE = '-P95D';

const VARIANTS = ['current', 'candidate'] as const satisfies ReadonlyArray<keyof typeof CANARY_VARIANTS>;
const VARIANT_COLOR: Readonly<Record<keyof typeof CANARY_VARIANTS, string>> = { current: cloudwatch.Color.BLUE, candidate: cloudwatch.Color.ORANGE };
const DASHBOARD_NAME = /^[A-Za-z0-9_-]{1,255}$/;
// Characters CloudWatch allows in a namespace; nothing here can break out of a SEARCH string.
const NAMESPACE = /^[A-Za-z0-9._/#:-]{1,255}$/;
const FIREHOSE_NAMESPACE = 'AWS/Firehose';

/** One CloudWatch dashboard for the stage's loop: health, canaries, agents, ingest, pipeline, rollbacks. */
export class Observability extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** Its name (physical, so operators and the README can name it). */
  public readonly dashboardName: string;
  /** Console URL of the dashboard in the stack's region. */
  public readonly dashboardUrl: string;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const name = props.dashboardName ?? dashboardNameOf(props.stage);
    if (!DASHBOARD_NAME.test(name)) throw new Error(`Observability: dashboard name "${name}" is not 1-255 letters, digits, dashes or underscores`);
    if (!NAMESPACE.test(props.metricsNamespace)) {
      throw new Error(`Observability: metricsNamespace "${props.metricsNamespace}" has characters CloudWatch does not allow in a namespace; expected letters, digits and . _ / # : -`);
    }
    if (props.targetModelIds.length === 0) throw new Error('Observability: targetModelIds is empty; expected at least one target model');
    const unalarmed = props.targetModelIds.filter((m) => props.canaryAlarms.models[m] === undefined);
    if (unalarmed.length > 0) {
      throw new Error(`Observability: target model ${unalarmed.join(', ')} has no canary alarms (the alarms cover ${Object.keys(props.canaryAlarms.models).join(', ')}); expected the same target models`);
    }
    if (props.canaryAlarms.period.toSeconds() !== props.canary.alarms.periodSeconds) {
      throw new Error(`Observability: the canary alarms use ${props.canaryAlarms.period.toSeconds()} s periods but canary.alarms.periodSeconds is ${props.canary.alarms.periodSeconds}; expected both from the same configuration`);
    }
    const { maxRollbackSeconds, targetRollbackSeconds } = props.canary.gameDay;
    if (!(targetRollbackSeconds > 0 && targetRollbackSeconds <= maxRollbackSeconds)) {
      throw new Error(`Observability: game-day target ${targetRollbackSeconds} s and bound ${maxRollbackSeconds} s; expected 0 < target <= bound`);
    }

    this.dashboardName = name;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      // A physical name on purpose: the README and the stack output send operators to it by name.
      dashboardName: name,
      defaultInterval: DEFAULT_DASHBOARD_INTERVAL,
      // Each widget keeps its period: the canary rows show exactly the alarms' periods, not a coarser
      // one the console would pick for the time range.
      periodOverride: cloudwatch.PeriodOverride.INHERIT,
    });
    const region = Stack.of(this).region;
    this.dashboardUrl = Fn.join('', [`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/`, this.dashboard.dashboardName]);

    const widgets = new DashboardWidgets(props);
    const rows = [
      ...widgets.loopHealth(),
      ...props.targetModelIds.flatMap((modelId) => widgets.canaryModel(modelId)),
      ...agentSections({ ...props.agents, stage: props.stage, metricsNamespace: props.metricsNamespace }),
      ...widgets.ingest(),
      ...widgets.pipeline(),
      ...widgets.rollback(),
    ];
    // CloudWatch refuses the whole body beyond its widget limit; say so at synth, not at deploy.
    const count = widgetCount(rows);
    if (count > MAX_DASHBOARD_WIDGETS) {
      throw new Error(`Observability: the dashboard would have ${count} widgets (${props.targetModelIds.length} target models, ${props.agents.slos.length} agents); CloudWatch allows ${MAX_DASHBOARD_WIDGETS}`);
    }
    this.dashboard.addWidgets(...rows);
  }
}

/** Builds the rows; one method per row, each returning full-width rows of widgets. */
class DashboardWidgets {
  constructor(private readonly props: ObservabilityProps) {}

  loopHealth(): cloudwatch.IWidget[] {
    const { canaryAlarms, budget, targetModelIds } = this.props;
    const composites = targetModelIds.map((m) => canaryAlarms.models[m]!.composite);
    const children = targetModelIds.flatMap((m) => CANARY_SIGNALS.map((s) => canaryAlarms.models[m]!.signals[s]));
    return [
      heading(
        `# Loop health (${this.props.stage})`,
        'A canary composite alarm in ALARM rolls its model back (EventBridge to the rollback Lambda); the child alarms say which signal breached. The GPU budget alarm notifies FinOps.',
      ),
      new cloudwatch.Row(
        new cloudwatch.AlarmStatusWidget({ title: 'Canary composite alarms and GPU budget', alarms: [...composites, budget.alarm], width: 12, height: alarmTileHeight(composites.length + 1) }),
        new cloudwatch.AlarmStatusWidget({ title: 'Canary signals (child alarms)', alarms: children, width: 12, height: alarmTileHeight(children.length) }),
      ),
    ];
  }

  canaryModel(modelId: string): cloudwatch.IWidget[] {
    const { canaryAlarms, canary } = this.props;
    const alarms = canaryAlarms.models[modelId]!;
    const seconds = canary.alarms.periodSeconds;
    const v = (metricName: string, variant: keyof typeof CANARY_VARIANTS): cloudwatch.Metric => canaryAlarms.variantMetric(modelId, metricName, variant);
    const ratio = (label: string, numerator: string, denominator: string, variant: keyof typeof CANARY_VARIANTS, color: string): cloudwatch.MathExpression =>
      new cloudwatch.MathExpression({
        // Ids unique per variant and pair, so one graph can hold both variants' ratios.
        expression: `${variant}Num / ${variant}Den`,
        usingMetrics: { [`${variant}Num`]: v(numerator, variant), [`${variant}Den`]: v(denominator, variant) },
        label,
        color,
        period: canaryAlarms.period,
      });
    const graph = (title: string, props: Omit<cloudwatch.GraphWidgetProps, 'title'>): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title: `${modelId}: ${title} (${seconds} s)`, width: 6, height: 6, liveData: true, ...props });
    // Relative signals: each variant's own rate (left), the alarm's difference and threshold (right).
    const compared = (figure: string, numerator: string, denominator: string, alarm: cloudwatch.Alarm): cloudwatch.GraphWidget =>
      graph(figure, {
        left: VARIANTS.map((variant) => ratio(`${variant} ${figure}`, numerator, denominator, variant, VARIANT_COLOR[variant])),
        right: [alarm.metric],
        rightAnnotations: [alarm.toAnnotation()],
        leftYAxis: { min: 0, max: 1, showUnits: false },
        rightYAxis: { showUnits: false },
      });
    // Candidate-only signals: the alarm's candidate expression and threshold, the current version beside it.
    const candidateAlarm = (figure: string, numerator: string, denominator: string, alarm: cloudwatch.Alarm, unit?: string): cloudwatch.GraphWidget =>
      graph(figure, {
        left: [ratio(`current ${figure}`, numerator, denominator, 'current', VARIANT_COLOR.current), alarm.metric],
        leftAnnotations: [alarm.toAnnotation()],
        leftYAxis: { min: 0, label: unit, showUnits: false },
      });
    const traces = (variant: keyof typeof CANARY_VARIANTS): cloudwatch.IMetric[] => [
      v(METRIC.tracesIn, variant).with({ label: `${variant} in` }),
      v(METRIC.tracesKept, variant).with({ label: `${variant} kept` }),
      v(METRIC.tracesDiscarded, variant).with({ label: `${variant} discarded` }),
    ];
    const ns = this.props.metricsNamespace;
    return [
      heading(`## Canary: ${modelId}`, `Current vs candidate (\`${DIMENSION.model}\` = \`${modelId}\`, \`${DIMENSION.variant}\` = \`${CANARY_VARIANTS.current}\` | \`${CANARY_VARIANTS.candidate}\`), at the alarms' ${seconds} s period; each graph carries its alarm's threshold.`),
      new cloudwatch.Row(
        compared('faithfulness', METRIC.groundednessSum, METRIC.groundednessScored, alarms.signals.faithfulness),
        compared('misroute rate', METRIC.misroutedTraces, METRIC.routedTraces, alarms.signals.misroute),
        candidateAlarm('error rate', METRIC.errorTraces, METRIC.tracesKept, alarms.signals.errors),
        candidateAlarm('mean latency', METRIC.latencyMsSum, METRIC.latencyMeasured, alarms.signals.latency, 'ms'),
      ),
      new cloudwatch.Row(
        new cloudwatch.GraphWidget({
          title: `${modelId}: traces per variant (${seconds} s)`,
          width: 12,
          height: 6,
          liveData: true,
          left: [...traces('current'), ...traces('candidate')],
          leftYAxis: { min: 0, showUnits: false },
        }),
        new cloudwatch.GraphWidget({
          title: `${modelId}: drops per variant by gate (1 min)`,
          width: 12,
          height: 6,
          // A model whose traffic a gate mostly drops leaves its alarms without evidence: this shows which gate.
          left: [
            new cloudwatch.SearchExpression({
              expression: search(ns, [DIMENSION.model, DIMENSION.variant, DIMENSION.gate], METRIC.gateDrops, { [DIMENSION.model]: modelId }, 'Sum', VARIANT_DROPS_PERIOD),
              label: `${dimensionLabel(DIMENSION.variant)} dropped by ${dimensionLabel(DIMENSION.gate)}`,
              period: VARIANT_DROPS_PERIOD,
            }),
          ],
          leftYAxis: { min: 0, showUnits: false },
        }),
      ),
    ];
  }

  ingest(): cloudwatch.IWidget[] {
    const ns = this.props.metricsNamespace;
    const minutes = INGEST_PERIOD.toMinutes();
    const gateTotal = (metricName: string, label: string, color?: string): cloudwatch.Metric =>
      // The batch totals: one series per stage (publish-metrics.ts).
      new cloudwatch.Metric({ namespace: ns, metricName, dimensionsMap: { [DIMENSION.stage]: this.props.stage }, statistic: cloudwatch.Stats.SUM, period: INGEST_PERIOD, label, color });
    const stream = (metricName: string, statistic: string, label: string, color?: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: FIREHOSE_NAMESPACE,
        metricName,
        dimensionsMap: { DeliveryStreamName: this.props.traceDeliveryStreamName },
        statistic,
        period: INGEST_PERIOD,
        label,
        color,
      });
    return [
      heading('# Ingest: gate and delivery', 'Firehose invokes the gate/score Lambda with each buffer; kept traces and audit records go to Iceberg, failed records to the error output (`errors/traces/`).'),
      new cloudwatch.Row(
        new cloudwatch.GraphWidget({
          title: `Gate: records in and outcomes (${minutes} min)`,
          period: INGEST_PERIOD,
          width: 6,
          height: 6,
          left: [
            gateTotal(METRIC.recordsIn, 'records in', cloudwatch.Color.GREY),
            gateTotal(METRIC.tracesDelivered, 'delivered', cloudwatch.Color.GREEN),
            gateTotal(METRIC.tracesDiscarded, 'discarded by a gate', cloudwatch.Color.ORANGE),
            gateTotal(METRIC.recordsFailed, 'failed (error output)', cloudwatch.Color.RED),
            gateTotal(METRIC.duplicatesDropped, 'duplicates dropped', cloudwatch.Color.PURPLE),
          ],
          leftYAxis: { min: 0, showUnits: false },
        }),
        new cloudwatch.GraphWidget({
          title: `Gate: drops by gate and reason (${minutes} min)`,
          period: INGEST_PERIOD,
          width: 6,
          height: 6,
          left: [
            new cloudwatch.SearchExpression({
              expression: search(ns, [DIMENSION.gate, DIMENSION.reason], METRIC.gateDrops, {}, 'Sum', INGEST_PERIOD),
              label: `${dimensionLabel(DIMENSION.gate)}: ${dimensionLabel(DIMENSION.reason)}`,
              period: INGEST_PERIOD,
            }),
          ],
          leftYAxis: { min: 0, showUnits: false },
        }),
        new cloudwatch.GraphWidget({
          title: `Firehose: Iceberg delivery (${minutes} min)`,
          period: INGEST_PERIOD,
          width: 6,
          height: 6,
          left: [
            stream('IncomingRecords', cloudwatch.Stats.SUM, 'records received', cloudwatch.Color.GREY),
            stream('DeliveryToIceberg.SuccessfulRowCount', cloudwatch.Stats.SUM, 'rows delivered', cloudwatch.Color.GREEN),
            stream('DeliveryToIceberg.FailedRowCount', cloudwatch.Stats.SUM, 'rows failed (error output)', cloudwatch.Color.RED),
          ],
          right: [stream('DeliveryToIceberg.DataFreshness', cloudwatch.Stats.MAXIMUM, 'oldest undelivered record (s)', cloudwatch.Color.BROWN)],
          leftYAxis: { min: 0, showUnits: false },
          rightYAxis: { min: 0, label: 's', showUnits: false },
        }),
        new cloudwatch.GraphWidget({
          title: `Firehose: gate invocations (${minutes} min)`,
          period: INGEST_PERIOD,
          width: 6,
          height: 6,
          left: [stream('ExecuteProcessing.Success', cloudwatch.Stats.AVERAGE, 'invocations succeeded (share)', cloudwatch.Color.GREEN)],
          right: [stream('ExecuteProcessing.Duration', cloudwatch.Stats.MAXIMUM, 'longest invocation (ms)', cloudwatch.Color.PINK)],
          leftYAxis: { min: 0, max: 1, showUnits: false },
          rightYAxis: { min: 0, label: 'ms', showUnits: false },
        }),
      ),
    ];
  }

  pipeline(): cloudwatch.IWidget[] {
    const { stateMachines, budget } = this.props;
    const executions = (title: string, machine: sfn.IStateMachine): cloudwatch.GraphWidget => {
      const options = { period: PIPELINE_PERIOD, statistic: cloudwatch.Stats.SUM };
      return new cloudwatch.GraphWidget({
        title: `${title} executions (per day)`,
        width: 6,
        height: 6,
        start: PIPELINE_RANGE,
        stacked: true,
        left: [
          machine.metricSucceeded({ ...options, label: 'succeeded', color: cloudwatch.Color.GREEN }),
          machine.metricFailed({ ...options, label: 'failed', color: cloudwatch.Color.RED }),
          machine.metricTimedOut({ ...options, label: 'timed out', color: cloudwatch.Color.ORANGE }),
          machine.metricAborted({ ...options, label: 'aborted', color: cloudwatch.Color.GREY }),
        ],
        leftYAxis: { min: 0, showUnits: false },
      });
    };
    return [
      heading('# Pipeline (last 35 days)', 'Executions by outcome per day; the GPU budget is the highest used share of the month\'s ceiling published each day.'),
      new cloudwatch.Row(
        executions('Training pipeline', stateMachines.trainingPipeline),
        executions('Canary rollout', stateMachines.rollout),
        executions('Game day', stateMachines.gameDay),
        new cloudwatch.GraphWidget({
          title: 'GPU budget: used share of the monthly ceiling (per day)',
          width: 6,
          height: 6,
          start: PIPELINE_RANGE,
          left: [budget.usedFractionMetric.with({ period: PIPELINE_PERIOD, label: 'used share' })],
          leftAnnotations: [budget.alarm.toAnnotation(), { value: 1, label: 'ceiling', color: cloudwatch.Color.RED }],
          leftYAxis: { min: 0, max: 1.1, showUnits: false },
        }),
      ),
    ];
  }

  rollback(): cloudwatch.IWidget[] {
    const { stage, metricsNamespace: ns, targetModelIds, canary } = this.props;
    const { maxRollbackSeconds, targetRollbackSeconds } = canary.gameDay;
    const rolloutMetric = (metricName: string, modelId: string, statistic: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: ns,
        metricName,
        dimensionsMap: { [ROLLOUT_DIMENSION.stage]: stage, [ROLLOUT_DIMENSION.model]: modelId },
        statistic,
        period: PIPELINE_PERIOD,
        label,
      });
    return [
      heading('# Rollback (last 95 days)', `Breach to verified 100 % on the current version: real rollbacks (alarm Lambda) and game-day drills, against the ${maxRollbackSeconds} s bound and our ${targetRollbackSeconds} s target.`),
      new cloudwatch.Row(
        new cloudwatch.GraphWidget({
          title: 'Rollback seconds, breach to verified (per day, max)',
          width: 12,
          height: 6,
          start: ROLLBACK_RANGE,
          left: targetModelIds.flatMap((m) => [
            rolloutMetric(ROLLOUT_METRIC.rollbackSeconds, m, cloudwatch.Stats.MAXIMUM, `${m} rollback`),
            rolloutMetric(ROLLOUT_METRIC.gameDayRollbackSeconds, m, cloudwatch.Stats.MAXIMUM, `${m} game day`),
          ]),
          leftAnnotations: [
            { value: maxRollbackSeconds, label: `bound ${maxRollbackSeconds} s (canary.gameDay.maxRollbackSeconds)`, color: cloudwatch.Color.RED },
            { value: targetRollbackSeconds, label: `target ${targetRollbackSeconds} s (canary.gameDay.targetRollbackSeconds)`, color: cloudwatch.Color.GREEN },
          ],
          leftYAxis: { min: 0, label: 's', showUnits: false },
        }),
        new cloudwatch.GraphWidget({
          title: 'Promotions and rollbacks (per day)',
          width: 12,
          height: 6,
          start: ROLLBACK_RANGE,
          left: [
            ...targetModelIds.map((m) => rolloutMetric(ROLLOUT_METRIC.promotions, m, cloudwatch.Stats.SUM, `${m} promotions`)),
            // Rollbacks also carry who made them (`By`): one series per model and actor.
            new cloudwatch.SearchExpression({
              expression: search(ns, [ROLLOUT_DIMENSION.stage, ROLLOUT_DIMENSION.model, ROLLOUT_DIMENSION.by], ROLLOUT_METRIC.rollbacks, { [ROLLOUT_DIMENSION.stage]: stage }, 'Sum', PIPELINE_PERIOD),
              label: `${dimensionLabel(ROLLOUT_DIMENSION.model)} rollbacks by ${dimensionLabel(ROLLOUT_DIMENSION.by)}`,
              period: PIPELINE_PERIOD,
            }),
          ],
          leftYAxis: { min: 0, showUnits: false },
        }),
      ),
    ];
  }
}

/** A CloudWatch dynamic label: the value of dimension `name` of each series a SEARCH returns. */
function dimensionLabel(name: string): string {
  return `\${PROP('Dim.${name}')}`;
}

/**
 * `SEARCH('{"ns","D1",...} MetricName="name" D1="v1"', 'stat', seconds)`: every series of `metricName`
 * with exactly the dimensions `dimensions`, narrowed to the exact `values` given. Names and values are
 * quoted, so dots, slashes and dashes in them are matched literally.
 */
export function search(namespace: string, dimensions: readonly string[], metricName: string, values: Readonly<Record<string, string>>, statistic: string, period: Duration): string {
  const schema = [namespace, ...dimensions].map((part) => `"${part}"`).join(',');
  const terms = [`MetricName="${metricName}"`, ...Object.entries(values).map(([k, value]) => `${k}="${value}"`)].join(' ');
  return `SEARCH('{${schema}} ${terms}', '${statistic}', ${period.toSeconds()})`;
}
