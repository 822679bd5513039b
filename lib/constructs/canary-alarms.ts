/**
 * The canary alarms of one stage (thresholds in docs/governance.md): per target model, four CloudWatch alarms on
 * metric math over the gate/score Lambda's per-variant metrics (`Model` = target model id, `Variant` =
 * `current` | `candidate`, published at 1-second resolution by lambdas/gate-score/publish-metrics.ts),
 * combined in one composite alarm per model. The composite's ALARM is what rolls a canary back: an
 * EventBridge rule (CanaryRollout) sends its state change to the rollback Lambda, and `Check canary`
 * reads its state in the bake loop.
 *
 * Serving must tag traces with `model.name` = the target model id and `model.variant` = `current` or
 * `candidate` (docs/trace-formats.md); the gate turns those into the `Model` and `Variant` dimensions.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { CanaryConfig } from '../../config/schema';
import { CANARY_VARIANTS, DIMENSION, METRIC } from '../../lambdas/gate-score/publish-metrics';
import { JUDGED_METRIC } from '../../lambdas/judge/curation/judged-metrics';
import { canaryAlarmName } from '../../lambdas/pipeline/settings';

export { CANARY_VARIANTS };

/** The four signals of a canary alarm, by key (also the suffix of each child alarm's name). */
export const CANARY_SIGNALS = ['faithfulness', 'misroute', 'errors', 'latency'] as const;
export type CanarySignal = (typeof CANARY_SIGNALS)[number];

/**
 * The child alarm a game day forces into ALARM. SetAlarmState on the composite itself is allowed, but
 * CloudWatch documents that a composite set by hand stays in that state until one of its children
 * changes state: the next real rollout of the model would then start in ALARM and roll back at once. A
 * child metric alarm returns to its real state at its next evaluation, and the composite follows both
 * transitions. The error-rate child is used because it has no evidence minimum, so its real state is
 * OK (not breaching) whenever the self canary serves without errors.
 */
export const DRILL_SIGNAL: CanarySignal = 'errors';

/** Name of a child alarm: the composite's name plus the signal, e.g. `sial-dev-qwen3-4b-canary-errors`. */
export function canarySignalAlarmName(stage: string, targetModelId: string, signal: CanarySignal): string {
  return `${canaryAlarmName(stage, targetModelId)}-${signal}`;
}

/** Properties of {@link CanaryAlarms}. */
export interface CanaryAlarmsProps {
  /** Stage name; part of every alarm name (`sial-<stage>-<targetModelId>-canary`, a contract with the Lambdas). */
  readonly stage: string;
  /** Namespace the gate/score Lambda publishes its EMF metrics in (`config.metricsNamespace`). */
  readonly metricsNamespace: string;
  /** Target model ids of the stage: one composite alarm each. */
  readonly targetModelIds: readonly string[];
  /** Thresholds, period and evaluation (`config.canary.alarms`). */
  readonly alarms: CanaryConfig['alarms'];
  /**
   * Misroute rise thresholds by target model id, replacing `alarms.misrouteRise` for those models: a
   * router's own `maxMisrouteRise`, since misroute is the router's key signal.
   *
   * @default - every model uses `alarms.misrouteRise`
   */
  readonly misrouteRiseByModel?: Readonly<Record<string, number>>;
}

/** One model's alarms. */
export interface ModelCanaryAlarms {
  /** The four metric-math alarms, by signal. */
  readonly signals: Readonly<Record<CanarySignal, cloudwatch.Alarm>>;
  /** ALARM when any signal is in ALARM: the alarm that rolls the model's canary back. */
  readonly composite: cloudwatch.CompositeAlarm;
}

const MODEL_ID = /^[a-z0-9][a-z0-9.-]{0,62}$/;

/**
 * Per target model: faithfulness drop and misroute rise of the candidate against the current version
 * (judged only with at least `minTracesPerPeriod` traces on each side), candidate error rate and mean
 * latency (always judged), each `datapointsToAlarm` of `evaluationPeriods` periods, missing data not
 * breaching; and the composite alarm `sial-<stage>-<model>-canary` = any of them.
 */
export class CanaryAlarms extends Construct {
  /** The alarms by target model id. */
  public readonly models: Readonly<Record<string, ModelCanaryAlarms>>;
  /** Composite alarm names by target model id (what the rollout plan's `alarmName` holds). */
  public readonly compositeAlarmNames: Readonly<Record<string, string>>;
  /** The period of every alarm and of its metrics (`canary.alarms.periodSeconds`). */
  public readonly period: Duration;
  private readonly metricsNamespace: string;

  constructor(scope: Construct, id: string, props: CanaryAlarmsProps) {
    super(scope, id);
    const a = props.alarms;
    if (![10, 30].includes(a.periodSeconds) && a.periodSeconds % 60 !== 0) {
      throw new Error(`CanaryAlarms: periodSeconds is ${a.periodSeconds}; expected 10 or 30 (high-resolution) or a multiple of 60`);
    }
    if (!Number.isInteger(a.evaluationPeriods) || a.evaluationPeriods < 1 || !Number.isInteger(a.datapointsToAlarm) || a.datapointsToAlarm < 1 || a.datapointsToAlarm > a.evaluationPeriods) {
      throw new Error(`CanaryAlarms: ${a.datapointsToAlarm} of ${a.evaluationPeriods} datapoints; expected whole numbers with 1 <= datapointsToAlarm <= evaluationPeriods`);
    }
    // CloudWatch limits an alarm with a period under an hour to one day of evaluation.
    if (a.periodSeconds * a.evaluationPeriods > 86_400) {
      throw new Error(`CanaryAlarms: ${a.evaluationPeriods} periods of ${a.periodSeconds} s exceed the one-day evaluation range CloudWatch allows`);
    }
    for (const [field, value] of [
      ['faithfulnessDrop', a.faithfulnessDrop],
      ['misrouteRise', a.misrouteRise],
      ['maxErrorRate', a.maxErrorRate],
      ['maxMeanLatencyMs', a.maxMeanLatencyMs],
    ] as const) {
      // Every threshold must be above 0: an expression answers 0 when there is not enough evidence.
      if (!(value > 0)) throw new Error(`CanaryAlarms: ${field} is ${value}; expected a positive threshold`);
    }
    if (!Number.isInteger(a.minTracesPerPeriod) || a.minTracesPerPeriod < 0) {
      throw new Error(`CanaryAlarms: minTracesPerPeriod is ${a.minTracesPerPeriod}; expected a whole number >= 0`);
    }
    if (props.targetModelIds.length === 0) throw new Error('CanaryAlarms: targetModelIds is empty; expected at least one target model');
    const duplicates = props.targetModelIds.filter((m, i) => props.targetModelIds.indexOf(m) !== i);
    if (duplicates.length > 0) throw new Error(`CanaryAlarms: target model ${duplicates.join(', ')} is listed twice; expected unique ids`);
    const invalid = props.targetModelIds.filter((m) => !MODEL_ID.test(m));
    if (invalid.length > 0) throw new Error(`CanaryAlarms: target model id ${invalid.map((m) => JSON.stringify(m)).join(', ')} is not a lower-case id (letters, digits, dots, dashes)`);

    const period = Duration.seconds(a.periodSeconds);
    this.period = period;
    this.metricsNamespace = props.metricsNamespace;
    const models: Record<string, ModelCanaryAlarms> = {};
    const names: Record<string, string> = {};
    for (const modelId of props.targetModelIds) {
      const construct = new Construct(this, modelId);
      const misrouteRise = props.misrouteRiseByModel?.[modelId] ?? a.misrouteRise;
      if (!(misrouteRise > 0)) throw new Error(`CanaryAlarms: the misroute rise of ${modelId} is ${misrouteRise}; expected a positive threshold`);
      const metric = (metricName: string, variant: keyof typeof CANARY_VARIANTS): cloudwatch.Metric => this.variantMetric(modelId, metricName, variant);
      const alarm = (signal: CanarySignal, description: string, expression: cloudwatch.MathExpression, threshold: number, operator: cloudwatch.ComparisonOperator): cloudwatch.Alarm =>
        new cloudwatch.Alarm(construct, signal, {
          alarmName: canarySignalAlarmName(props.stage, modelId, signal),
          alarmDescription: `${props.stage} canary of ${modelId}: ${description} (${a.datapointsToAlarm} of ${a.evaluationPeriods} periods of ${a.periodSeconds} s). Part of ${canaryAlarmName(props.stage, modelId)}.`,
          metric: expression,
          threshold,
          comparisonOperator: operator,
          evaluationPeriods: a.evaluationPeriods,
          datapointsToAlarm: a.datapointsToAlarm,
          // No traffic on a variant (before the first step, or on `current` at 100 %) is not a breach.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          // The composite carries the actions; a child only feeds it.
          actionsEnabled: false,
        });
      const min = a.minTracesPerPeriod;
      // Faithfulness and misroute as the stage says: the gate's lexical estimate (default) or the judge's.
      const judged = a.qualitySignalSource === 'judge';
      const quality = judged
        ? { faithfulnessSum: JUDGED_METRIC.faithfulnessSum, faithfulnessScored: JUDGED_METRIC.faithfulnessJudged, misrouted: JUDGED_METRIC.misrouted, routed: JUDGED_METRIC.misrouteJudged }
        : { faithfulnessSum: METRIC.groundednessSum, faithfulnessScored: METRIC.groundednessScored, misrouted: METRIC.misroutedTraces, routed: METRIC.routedTraces };
      const source = judged ? 'judged' : 'lexical';
      const signals: Record<CanarySignal, cloudwatch.Alarm> = {
        faithfulness: alarm(
          'faithfulness',
          `candidate ${source} faithfulness at least ${a.faithfulnessDrop} below the current version's`,
          new cloudwatch.MathExpression({
            // current - candidate faithfulness, judged only with enough evidence on both sides (0 otherwise:
            // never breaching, since the threshold is above 0).
            expression: `IF(candScored >= ${min} AND curScored >= ${min}, curSum / curScored - candSum / candScored, 0)`,
            usingMetrics: {
              candSum: metric(quality.faithfulnessSum, 'candidate'),
              candScored: metric(quality.faithfulnessScored, 'candidate'),
              curSum: metric(quality.faithfulnessSum, 'current'),
              curScored: metric(quality.faithfulnessScored, 'current'),
            },
            label: 'Faithfulness drop (current - candidate)',
            period,
          }),
          a.faithfulnessDrop,
          cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        ),
        misroute: alarm(
          'misroute',
          `candidate ${source} misroute rate at least ${misrouteRise} above the current version's`,
          new cloudwatch.MathExpression({
            expression: `IF(candRouted >= ${min} AND curRouted >= ${min}, candMisrouted / candRouted - curMisrouted / curRouted, 0)`,
            usingMetrics: {
              candMisrouted: metric(quality.misrouted, 'candidate'),
              candRouted: metric(quality.routed, 'candidate'),
              curMisrouted: metric(quality.misrouted, 'current'),
              curRouted: metric(quality.routed, 'current'),
            },
            label: 'Misroute rise (candidate - current)',
            period,
          }),
          misrouteRise,
          cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        ),
        // Availability signals have no evidence minimum: a candidate that fails every request must roll
        // back even when a small canary carries only a few requests per period.
        errors: alarm(
          'errors',
          `candidate error rate above ${a.maxErrorRate}`,
          new cloudwatch.MathExpression({
            expression: 'IF(candKept > 0, candErrors / candKept, 0)',
            usingMetrics: { candErrors: metric(METRIC.errorTraces, 'candidate'), candKept: metric(METRIC.tracesKept, 'candidate') },
            label: 'Candidate error rate',
            period,
          }),
          a.maxErrorRate,
          cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        ),
        latency: alarm(
          'latency',
          `candidate mean latency above ${a.maxMeanLatencyMs} ms`,
          new cloudwatch.MathExpression({
            expression: 'IF(candMeasured > 0, candLatencySum / candMeasured, 0)',
            usingMetrics: { candLatencySum: metric(METRIC.latencyMsSum, 'candidate'), candMeasured: metric(METRIC.latencyMeasured, 'candidate') },
            label: 'Candidate mean latency (ms)',
            period,
          }),
          a.maxMeanLatencyMs,
          cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        ),
      };
      const compositeName = canaryAlarmName(props.stage, modelId);
      const composite = new cloudwatch.CompositeAlarm(construct, 'Composite', {
        // A physical name on purpose: the rollout plan, the rollback Lambda and game days find it by name.
        compositeAlarmName: compositeName,
        alarmDescription: `${props.stage} canary of ${modelId}: any of faithfulness drop >= ${a.faithfulnessDrop}, misroute rise >= ${misrouteRise}, error rate > ${a.maxErrorRate}, mean latency > ${a.maxMeanLatencyMs} ms. ALARM rolls the canary back (EventBridge -> rollback Lambda).`,
        alarmRule: cloudwatch.AlarmRule.anyOf(...CANARY_SIGNALS.map((s) => cloudwatch.AlarmRule.fromAlarm(signals[s], cloudwatch.AlarmState.ALARM))),
      });
      models[modelId] = { signals, composite };
      names[modelId] = compositeName;
    }
    this.models = models;
    this.compositeAlarmNames = names;
  }

  /**
   * One of the gate's per-variant metrics as the alarms read it: `Model` and `Variant` dimensions,
   * statistic Sum, the alarms' period. The dashboard graphs the variant the alarms do not compare
   * (the current version's error rate and latency) through this, so both read the same series.
   */
  public variantMetric(modelId: string, metricName: string, variant: keyof typeof CANARY_VARIANTS): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      dimensionsMap: { [DIMENSION.model]: modelId, [DIMENSION.variant]: CANARY_VARIANTS[variant] },
      // Sums and counts: rates over any period are exact (sum of numerators / sum of denominators).
      statistic: cloudwatch.Stats.SUM,
      period: this.period,
    });
  }

  /** The composite alarms' ARNs (the EventBridge rule's resources, DescribeAlarms grants). */
  public get compositeAlarmArns(): string[] {
    return Object.values(this.models).map((m) => m.composite.alarmArn);
  }

  /** The alarms a game day forces into ALARM, one per model ({@link DRILL_SIGNAL}). */
  public get drillAlarmArns(): string[] {
    return Object.values(this.models).map((m) => m.signals[DRILL_SIGNAL].alarmArn);
  }

  /**
   * `cloudwatch:DescribeAlarms` on the composite alarms and their children (state and reason; the
   * child says which signal breached), nothing else.
   */
  public grantDescribe(grantee: iam.IGrantable): iam.Grant {
    const children = Object.values(this.models).flatMap((m) => CANARY_SIGNALS.map((s) => m.signals[s].alarmArn));
    return iam.Grant.addToPrincipal({ grantee, actions: ['cloudwatch:DescribeAlarms'], resourceArns: [...this.compositeAlarmArns, ...children] });
  }
}
