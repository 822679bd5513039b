/**
 * The reward-policy backtest report and the pure figures in it: score distributions, their rank
 * correlation, threshold crossings, the DPO pairs and per-agent eligibility each policy's selection
 * makes, and agreement with people's reviews. Nothing here reads the lake; run-backtest.ts feeds it.
 */
import { dimensionAgreement, type DimensionAgreement } from '../judge/agreement-report';
import { spearman } from '../judge/agreement';
import { judgeComponent } from '../judge/judge-trace';
import type { JudgePolicy } from '../judge/judge-policy';
import type { AgentEligibility } from '../pipeline/dataset/dataset-queries';

/** Histogram bins over [0, 1]: ten of width 0.1, the last one closed (a reward of 1 falls in it). */
export const HISTOGRAM_BINS = 10;
export const QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

/**
 * Agreement figures here are for comparing the two policies, not the weekly calibration alarm: kappa
 * below 0.6 (less than "substantial") or fewer than 30 reviewed items is flagged so a reader does not
 * lean on it.
 */
export const REVIEW_AGREEMENT = { minKappa: 0.6, minReviewed: 30 } as const;

export interface Distribution {
  readonly n: number;
  readonly mean: number | null;
  /** By quantile, e.g. "0.5": linear interpolation between order statistics. */
  readonly quantiles: Readonly<Record<string, number>>;
  /** Counts per bin; bin i is [i/10, (i+1)/10), the last one [0.9, 1]. */
  readonly histogram: readonly number[];
}

/** Mean, quantiles and histogram of rewards in [0, 1]. */
export function distribution(values: readonly number[]): Distribution {
  const histogram = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v) || v < 0 || v > 1) throw new RangeError(`a reward must be in [0, 1]; received ${v}`);
    const bin = Math.min(HISTOGRAM_BINS - 1, Math.floor(v * HISTOGRAM_BINS));
    histogram[bin] = (histogram[bin] as number) + 1;
  }
  if (values.length === 0) return { n: 0, mean: null, quantiles: {}, histogram };
  const sorted = [...values].sort((a, b) => a - b);
  const quantiles: Record<string, number> = {};
  for (const q of QUANTILES) {
    const position = q * (sorted.length - 1);
    const low = Math.floor(position);
    const high = Math.min(sorted.length - 1, low + 1);
    quantiles[String(q)] = (sorted[low] as number) + (position - low) * ((sorted[high] as number) - (sorted[low] as number));
  }
  return { n: values.length, mean: values.reduce((s, v) => s + v, 0) / values.length, quantiles, histogram };
}

/** One trace's reward under both policies. */
export interface ScorePair {
  readonly current: number;
  readonly candidate: number;
}

export interface ScoreComparison {
  readonly traces: number;
  readonly current: Distribution;
  readonly candidate: Distribution;
  /** Spearman's rank correlation of the two rewards (average ranks for ties); null when a side is constant or n < 2. */
  readonly spearman: number | null;
  readonly meanAbsoluteChange: number | null;
  readonly highQuality: {
    readonly threshold: number;
    readonly current: number;
    readonly candidate: number;
    /** Below the threshold under the current policy, at or above it under the candidate. */
    readonly crossedUp: number;
    /** At or above under the current policy, below under the candidate. */
    readonly crossedDown: number;
  };
}

/** The two policies' scores compared; `threshold` is the stage's high-quality reward. */
export function compareScores(pairs: readonly ScorePair[], threshold: number): ScoreComparison {
  const current = pairs.map((p) => p.current);
  const candidate = pairs.map((p) => p.candidate);
  let crossedUp = 0;
  let crossedDown = 0;
  let absoluteChange = 0;
  for (const p of pairs) {
    const before = p.current >= threshold;
    const after = p.candidate >= threshold;
    if (!before && after) crossedUp += 1;
    if (before && !after) crossedDown += 1;
    absoluteChange += Math.abs(p.candidate - p.current);
  }
  return {
    traces: pairs.length,
    current: distribution(current),
    candidate: distribution(candidate),
    spearman: spearman(current, candidate) ?? null,
    meanAbsoluteChange: pairs.length === 0 ? null : absoluteChange / pairs.length,
    highQuality: {
      threshold,
      current: current.filter((v) => v >= threshold).length,
      candidate: candidate.filter((v) => v >= threshold).length,
      crossedUp,
      crossedDown,
    },
  };
}

/** One DPO pair by trace id, as the dataset build's selection makes it. */
export interface DpoPair {
  readonly agentId: string;
  readonly groupId: string;
  readonly chosenTraceId: string;
  readonly rejectedTraceId: string;
}

export interface PairComparison {
  readonly current: number;
  readonly candidate: number;
  /** Groups paired under the candidate only. */
  readonly gained: number;
  /** Groups paired under the current policy only. */
  readonly lost: number;
  /** Groups paired under both, with another chosen or rejected answer. */
  readonly changed: number;
  readonly unchanged: number;
}

export function comparePairs(current: readonly DpoPair[], candidate: readonly DpoPair[]): PairComparison {
  const key = (p: DpoPair): string => `${p.agentId}\n${p.groupId}`;
  const before = new Map(current.map((p) => [key(p), p]));
  const after = new Map(candidate.map((p) => [key(p), p]));
  let gained = 0;
  let changed = 0;
  let unchanged = 0;
  for (const [k, p] of after) {
    const q = before.get(k);
    if (q === undefined) gained += 1;
    else if (q.chosenTraceId === p.chosenTraceId && q.rejectedTraceId === p.rejectedTraceId) unchanged += 1;
    else changed += 1;
  }
  const lost = [...before.keys()].filter((k) => !after.has(k)).length;
  return { current: current.length, candidate: candidate.length, gained, lost, changed, unchanged };
}

export interface AgentEligibilityChange {
  readonly agentId: string;
  readonly current: Omit<AgentEligibility, 'agentId'> | null;
  readonly candidate: Omit<AgentEligibility, 'agentId'> | null;
  /** Eligible under one policy and not the other. */
  readonly changed: boolean;
}

/** Per agent, its eligibility figures under each policy (null: the agent has no figures under it). */
export function compareEligibility(current: readonly AgentEligibility[], candidate: readonly AgentEligibility[]): AgentEligibilityChange[] {
  const strip = ({ agentId: _agentId, ...rest }: AgentEligibility): Omit<AgentEligibility, 'agentId'> => rest;
  const agents = [...new Set([...current, ...candidate].map((a) => a.agentId))].sort();
  return agents.map((agentId) => {
    const before = current.find((a) => a.agentId === agentId);
    const after = candidate.find((a) => a.agentId === agentId);
    return {
      agentId,
      current: before === undefined ? null : strip(before),
      candidate: after === undefined ? null : strip(after),
      changed: (before?.eligible ?? false) !== (after?.eligible ?? false),
    };
  });
}

/** A reviewed trace: the person's own scores and both policies' rewards. */
export interface ReviewedTrace {
  readonly traceId: string;
  readonly faithfulness: number | null;
  readonly answerRelevance: number | null;
  readonly current: number;
  readonly candidate: number;
}

export interface HumanAgreement {
  readonly reviewed: number;
  /** How the person's score is formed (the same for both policies). */
  readonly humanScore: string;
  readonly passAt: number;
  readonly current: DimensionAgreement;
  readonly candidate: DimensionAgreement;
}

/** Equal weights where no policy defines how the judged dimensions combine. */
const EQUAL_COMBINE: JudgePolicy['combine'] = { faithfulness: 0.5, answerRelevance: 0.5 };

/**
 * Agreement of each policy's reward with people's own scores (agreement.ts: kappa on pass/fail at
 * `passAt`, the true-positive and true-negative rates, Spearman). The person's score is their
 * faithfulness and relevance combined like the judge component, with `combine` (the candidate's, so the
 * yardstick is the one the candidate is meant to approach; equal weights when neither policy has one).
 * A review with neither dimension is left out.
 */
export function humanAgreement(items: readonly ReviewedTrace[], passAt: number, combine: JudgePolicy['combine'] | undefined): HumanAgreement {
  const weights = combine ?? EQUAL_COMBINE;
  const scored = items.flatMap((item) => {
    const human = judgeComponent({ faithfulness: item.faithfulness, answerRelevance: item.answerRelevance }, weights);
    return human === null ? [] : [{ item, human }];
  });
  const thresholds = { passAt, ...REVIEW_AGREEMENT };
  return {
    reviewed: scored.length,
    humanScore: `the reviewer's faithfulness x ${weights.faithfulness} + answer relevance x ${weights.answerRelevance}, renormalised over the dimensions reviewed`,
    passAt,
    current: dimensionAgreement(scored.map(({ item, human }) => ({ traceId: item.traceId, judge: item.current, human })), thresholds),
    candidate: dimensionAgreement(scored.map(({ item, human }) => ({ traceId: item.traceId, judge: item.candidate, human })), thresholds),
  };
}
