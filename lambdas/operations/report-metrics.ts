/**
 * The daily reports' verdicts as CloudWatch metrics (EMF through Powertools): CloudWatch cannot read the
 * report files in S3, so the stage dashboard shows each agent's last regression report and confidence
 * scores through these series, beside the agent's traffic, cost and SLO.
 *
 * Each metric is emitted through a single-metric instance without the default `service` dimension, so a
 * series has exactly the dimensions below (as lambdas/rollout/rollout-metrics.ts does). Only agents and
 * models the stage names get series of their own: both ids come from the traces, and every distinct
 * dimension value is a billed custom metric.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { UNLISTED_AGENT } from '../gate-score/publish-metrics';
import type { ConfidenceScore } from './confidence';
import type { RegressionReport } from './regression';

/** Metric names: a contract with the dashboard. */
export const REPORT_METRIC = {
  /** Regressed dimensions in the agent's last report (0: "no regression detected"); unlisted agents summed. */
  regressions: 'Regressions',
  /** An agent x model confidence score as of the report, 0..1. */
  confidence: 'ConfidenceScore',
} as const;

export const REPORT_DIMENSION = { stage: 'Stage', agent: 'Agent', model: 'Model' } as const;

/** What one report run found. */
export interface ReportFigures {
  readonly regressions: readonly RegressionReport[];
  readonly confidence: readonly ConfidenceScore[];
}

/** The agents and models the stage names: the only ones with series of their own. */
export interface ListedSeries {
  readonly agents: ReadonlySet<string>;
  readonly models: ReadonlySet<string>;
}

function emit(metrics: Metrics, dimensions: Readonly<Record<string, string>>, name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): void {
  const single = metrics.singleMetric();
  single.clearDefaultDimensions();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  // A single-metric instance flushes its EMF document on addMetric.
  single.addMetric(name, unit, value);
}

/** The regressions per series: listed agents as they are, every other agent summed into `unlisted`. */
export function regressionsPerSeries(reports: readonly RegressionReport[], listedAgents: ReadonlySet<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const report of reports) {
    const key = listedAgents.has(report.target) ? report.target : UNLISTED_AGENT;
    counts.set(key, (counts.get(key) ?? 0) + report.regressions.length);
  }
  return counts;
}

/**
 * One `Regressions` value per agent that had a report (an agent without traffic in either window gets
 * none, so its graph shows no data rather than a reassuring zero), and one `ConfidenceScore` per listed
 * agent x listed model. A score of unlisted agents or models is not published: a mean of several
 * agents' scores would describe none of them.
 */
export function publishReportMetrics(metrics: Metrics, stage: string, figures: ReportFigures, listed: ListedSeries): void {
  for (const [agent, count] of regressionsPerSeries(figures.regressions, listed.agents)) {
    emit(metrics, { [REPORT_DIMENSION.stage]: stage, [REPORT_DIMENSION.agent]: agent }, REPORT_METRIC.regressions, MetricUnit.Count, count);
  }
  for (const score of figures.confidence) {
    if (!listed.agents.has(score.agent_id) || !listed.models.has(score.model)) continue;
    emit(metrics, { [REPORT_DIMENSION.stage]: stage, [REPORT_DIMENSION.agent]: score.agent_id, [REPORT_DIMENSION.model]: score.model }, REPORT_METRIC.confidence, MetricUnit.NoUnit, score.score);
  }
}
