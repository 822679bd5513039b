/**
 * The weekly agreement report over the window: per judged dimension, the judge's verdicts against the
 * reviewers' (agreement-report.ts: kappa with its interval, TPR/TNR, Spearman) and why the alarm
 * fires. A pair counts for a dimension only when both sides gave a verdict: no judgment, or a
 * reviewer's "n.a.", leaves it out of that dimension.
 */
import { dimensionAgreement, type AgreementThresholds, type DimensionAgreement, type ReviewedScore } from '../agreement-report';
import type { ReviewedPair } from './calibration-queries';

/** The dimensions reported, with the metric dimension value each is published under. */
export const CALIBRATION_DIMENSIONS = ['faithfulness', 'answer_relevance', 'misroute'] as const;
export type CalibrationDimension = (typeof CALIBRATION_DIMENSIONS)[number];

export interface CalibrationReport {
  /** `SIMULATED` when the reviews came from the scripted local reviewer, so nobody mistakes it for people's agreement. */
  readonly label?: string;
  readonly generatedAt: string;
  readonly window: { readonly from: string; readonly to: string; readonly days: number };
  readonly thresholds: AgreementThresholds;
  readonly reviews: number;
  readonly dimensions: Readonly<Record<CalibrationDimension, DimensionAgreement>>;
  /** `<dimension>: <why>` for every alarm reason; empty when the judge is calibrated. */
  readonly alarms: readonly string[];
}

/** Misroute as a score: 1 = routed right (a pass), 0 = misrouted. */
const routedRight = (misrouted: boolean | null): number | null => (misrouted === null ? null : misrouted ? 0 : 1);

function scores(pairs: readonly ReviewedPair[], pick: (side: ReviewedPair['judge']) => number | null): ReviewedScore[] {
  const out: ReviewedScore[] = [];
  for (const pair of pairs) {
    const judge = pick(pair.judge);
    const human = pick(pair.human);
    if (judge !== null && human !== null) out.push({ traceId: pair.traceId, judge, human });
  }
  return out;
}

/** The report of the reviewed pairs of a window. */
export function buildCalibrationReport(
  pairs: readonly ReviewedPair[],
  thresholds: AgreementThresholds,
  window: { readonly from: Date; readonly to: Date },
  generatedAt: Date,
  label?: string,
): CalibrationReport {
  const dimensions: Record<CalibrationDimension, DimensionAgreement> = {
    faithfulness: dimensionAgreement(scores(pairs, (s) => s.faithfulness), thresholds),
    answer_relevance: dimensionAgreement(scores(pairs, (s) => s.answerRelevance), thresholds),
    misroute: dimensionAgreement(scores(pairs, (s) => routedRight(s.misrouted)), thresholds),
  };
  return {
    ...(label !== undefined ? { label } : {}),
    generatedAt: generatedAt.toISOString(),
    window: { from: window.from.toISOString(), to: window.to.toISOString(), days: Math.round((window.to.getTime() - window.from.getTime()) / 86_400_000) },
    thresholds,
    reviews: pairs.length,
    dimensions,
    alarms: CALIBRATION_DIMENSIONS.flatMap((d) => dimensions[d].alarms.map((a) => `${d}: ${a}`)),
  };
}

/** The metric values published per dimension: kappa (absent when undefined) and the reviewed count. */
export interface CalibrationMetric {
  readonly dimension: CalibrationDimension;
  readonly kappa: number | null;
  readonly reviewed: number;
}

export function calibrationMetrics(report: CalibrationReport): CalibrationMetric[] {
  return CALIBRATION_DIMENSIONS.map((dimension) => ({ dimension, kappa: report.dimensions[dimension].kappa?.kappa ?? null, reviewed: report.dimensions[dimension].reviewed }));
}

/**
 * Metric names (CloudWatch, dimensions `service` and `Dimension`), shared by the report function and the
 * alarms: `service` is the report function's Powertools service name, which Powertools adds to every metric.
 */
export const CALIBRATION_METRICS = { kappa: 'JudgeHumanKappa', reviewed: 'JudgeItemsReviewed', dimensionName: 'Dimension', service: 'judge-calibration-report' } as const;
