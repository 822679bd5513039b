/**
 * The weekly agreement report: per judged dimension, how the judge's verdicts compare with the
 * reviewers' on the items people scored, and whether the calibration alarm should fire (kappa below
 * the floor, or too few items reviewed in the window for any figure to mean much).
 */
import { cohensKappa, spearman, truePositiveAndNegativeRates, type KappaResult } from './agreement';

/** One reviewed item: the judge's score and the person's, for one dimension (both 0..1). */
export interface ReviewedScore {
  readonly traceId: string;
  readonly judge: number;
  readonly human: number;
}

export interface AgreementThresholds {
  /** A score at or above this is a pass (for kappa and the rates). */
  readonly passAt: number;
  /** The alarm fires below this kappa... */
  readonly minKappa: number;
  /** ...or with fewer reviewed items than this in the window. */
  readonly minReviewed: number;
}

export interface DimensionAgreement {
  readonly reviewed: number;
  readonly kappa: KappaResult | null;
  readonly truePositiveRate: number | null;
  readonly trueNegativeRate: number | null;
  readonly spearman: number | null;
  /** Why the alarm fires for this dimension; empty when it does not. */
  readonly alarms: string[];
}

export function dimensionAgreement(items: readonly ReviewedScore[], thresholds: AgreementThresholds): DimensionAgreement {
  const judgePass = items.map((i) => i.judge >= thresholds.passAt);
  const humanPass = items.map((i) => i.human >= thresholds.passAt);
  const kappa = cohensKappa(judgePass, humanPass) ?? null;
  const rates = truePositiveAndNegativeRates(judgePass, humanPass);
  const alarms: string[] = [];
  if (items.length < thresholds.minReviewed) alarms.push(`only ${items.length} items reviewed in the window; at least ${thresholds.minReviewed} are needed`);
  if (kappa !== null && kappa.kappa < thresholds.minKappa) alarms.push(`kappa ${kappa.kappa.toFixed(2)} is below ${thresholds.minKappa}`);
  if (kappa === null && items.length >= thresholds.minReviewed) alarms.push('kappa is undefined: judge and reviewers each gave a single verdict to every item');
  return {
    reviewed: items.length,
    kappa,
    truePositiveRate: rates.tpr ?? null,
    trueNegativeRate: rates.tnr ?? null,
    spearman: spearman(items.map((i) => i.judge), items.map((i) => i.human)) ?? null,
    alarms,
  };
}
