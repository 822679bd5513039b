/**
 * Confidence scores per agent x model ("how well does model X work for agent Y"), recomputed each day from
 * every feedback outcome in the lake, so a re-delivered event or a rerun changes nothing:
 * - the prior is the model's global score (its positive-outcome rate over all agents), or the global
 *   baseline of all traffic for a model with no feedback at all;
 * - the agent's own rate is blended with the prior, `weight = min(1, feedbackCount / fullWeightFeedback)`;
 * - each day without feedback moves the score `decayPerIdleDay` (10 %) of the way back to the prior;
 * - a score `divergenceReviewPoints` or more from the global one is flagged for human review.
 */

export interface ConfidenceSettings {
  readonly decayPerIdleDay: number;
  readonly fullWeightFeedback: number;
  readonly divergenceReviewPoints: number;
}

/** The lake's feedback outcomes of one agent on one model, up to the report's end. */
export interface AgentModelOutcomes {
  readonly agent_id: string;
  readonly model: string;
  readonly feedback_count: number;
  readonly positive_count: number;
  /** ISO 8601; the newest feedback of the pair. */
  readonly last_feedback_at: string;
}

export interface ConfidenceScore {
  readonly agent_id: string;
  readonly model: string;
  readonly score: number;
  readonly global_score: number;
  readonly observed_rate: number;
  readonly feedback_count: number;
  /** The agent's own share of the score: `min(1, feedbackCount / fullWeightFeedback)`. */
  readonly weight: number;
  readonly idle_days: number;
  readonly divergence_pp: number;
  readonly needs_review: boolean;
  readonly last_feedback_at: string;
}

const DAY_MS = 86_400_000;
const round = (value: number) => Math.round(value * 1e4) / 1e4;

/** The global prior per model and the baseline of all traffic (for a model nobody gave feedback on). */
export function globalScores(outcomes: readonly AgentModelOutcomes[]): { readonly byModel: ReadonlyMap<string, number>; readonly baseline: number } {
  const sums = new Map<string, { n: number; positive: number }>();
  let n = 0;
  let positive = 0;
  for (const o of outcomes) {
    const s = sums.get(o.model) ?? { n: 0, positive: 0 };
    s.n += o.feedback_count;
    s.positive += o.positive_count;
    sums.set(o.model, s);
    n += o.feedback_count;
    positive += o.positive_count;
  }
  // With no feedback at all the baseline is an even chance: nothing is known either way.
  const baseline = n === 0 ? 0.5 : positive / n;
  return { byModel: new Map([...sums].map(([model, s]) => [model, s.n === 0 ? baseline : s.positive / s.n])), baseline };
}

/** The score of one agent x model pair as of `asOf`. */
export function confidenceScore(outcome: AgentModelOutcomes, globalScore: number, asOf: Date, settings: ConfidenceSettings): ConfidenceScore {
  const observed = outcome.feedback_count === 0 ? globalScore : outcome.positive_count / outcome.feedback_count;
  const weight = Math.min(1, outcome.feedback_count / settings.fullWeightFeedback);
  const blended = weight * observed + (1 - weight) * globalScore;
  const idleDays = Math.max(0, Math.floor((asOf.getTime() - Date.parse(outcome.last_feedback_at)) / DAY_MS));
  const score = globalScore + (blended - globalScore) * (1 - settings.decayPerIdleDay) ** idleDays;
  const divergence = round((score - globalScore) * 100);
  return {
    agent_id: outcome.agent_id,
    model: outcome.model,
    score: round(score),
    global_score: round(globalScore),
    observed_rate: round(observed),
    feedback_count: outcome.feedback_count,
    weight: round(weight),
    idle_days: idleDays,
    divergence_pp: divergence,
    needs_review: Math.abs(divergence) >= settings.divergenceReviewPoints,
    last_feedback_at: outcome.last_feedback_at,
  };
}

/** Every pair's score, ordered by agent and model. */
export function confidenceScores(outcomes: readonly AgentModelOutcomes[], asOf: Date, settings: ConfidenceSettings): ConfidenceScore[] {
  const global = globalScores(outcomes);
  return outcomes
    .map((o) => confidenceScore(o, global.byModel.get(o.model) ?? global.baseline, asOf, settings))
    .sort((a, b) => a.agent_id.localeCompare(b.agent_id) || a.model.localeCompare(b.model));
}
