/**
 * The judge's numbers per model and serving variant as CloudWatch metrics (EMF through Powertools), with
 * the same `Model` and `Variant` dimensions as the gate's lexical signals, as sums and counts so that a
 * rate over any period is exact. A stage whose canary alarms read the judge (`canary.alarms.
 * qualitySignalSource: 'judge'`) compares these between `current` and `candidate`; the gate's lexical
 * estimate stays the default, always-available signal.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { DIMENSION } from '../../gate-score/publish-metrics';
import type { JudgedVariantMetrics } from './curation';

/** Metric names: a contract with the canary alarms and the dashboard. */
export const JUDGED_METRIC = {
  faithfulnessSum: 'JudgedFaithfulnessSum',
  faithfulnessJudged: 'JudgedFaithfulnessCount',
  misrouted: 'JudgedMisroutedTraces',
  misrouteJudged: 'JudgedMisrouteCount',
} as const;

/** The metric values of one variant (sums and counts), as published. */
export function judgedMetricValues(v: JudgedVariantMetrics): Record<(typeof JUDGED_METRIC)[keyof typeof JUDGED_METRIC], number> {
  return {
    [JUDGED_METRIC.faithfulnessSum]: (v.faithfulnessMean ?? 0) * v.faithfulnessJudged,
    [JUDGED_METRIC.faithfulnessJudged]: v.faithfulnessJudged,
    [JUDGED_METRIC.misrouted]: Math.round((v.misrouteRate ?? 0) * v.misrouteJudged),
    [JUDGED_METRIC.misrouteJudged]: v.misrouteJudged,
  };
}

/** Publishes every variant's values, each under its own `Model` and `Variant` (no service dimension). */
export function publishJudgedMetrics(metrics: Metrics, variants: readonly JudgedVariantMetrics[]): void {
  for (const v of variants) {
    for (const [name, value] of Object.entries(judgedMetricValues(v))) {
      const single = metrics.singleMetric();
      single.clearDefaultDimensions();
      single.addDimensions({ [DIMENSION.model]: v.model, [DIMENSION.variant]: v.variant });
      // A single-metric instance flushes its EMF document on addMetric.
      single.addMetric(name, MetricUnit.Count, value);
    }
  }
}
