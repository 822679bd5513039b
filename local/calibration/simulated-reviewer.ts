/**
 * SIMULATED reviewer, for local mode and the tests: not a person, and every review it writes is
 * signed `SIMULATED reviewer`. It scores a masked trace with the simulated judge's lexical rules
 * (local/simulated-judge.ts) so that, with `disagreement` 0, it mostly agrees with that judge:
 * - faithfulness: the share of the answer's sentences whose content words the contexts hold;
 * - answer relevance: the share of the question's content words the answer repeats;
 * - misrouted: n.a. for an unrouted request, else the judge's stable hash rule.
 * `disagreement` flips that share of pass/fail verdicts (by a stable hash of the trace), so the
 * agreement report has something to find.
 */
import { createHash } from 'node:crypto';
import { estimateGroundedness } from '../../lambdas/gate-score/reward/groundedness';
import type { MaskedTrace } from '../../lambdas/judge/calibration/calibration-queries';
import type { ReviewInput } from '../../lambdas/judge/calibration/submit-review';

/** The name every simulated review is recorded under (then pseudonymised like any reviewer's). */
export const SIMULATED_REVIEWER_NAME = 'SIMULATED reviewer (scripted rules, not a person)';

export interface SimulatedReviewerOptions {
  /** Share of verdicts flipped, 0..1. @default 0 */
  readonly disagreement?: number;
  /** Share of routed requests called misrouted, as the simulated judge's option. @default 0.1 */
  readonly misrouteRate?: number;
}

const WORD = /[\p{L}\p{N}]{3,}/gu;

function fraction(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

const round = (value: number): number => Math.round(value * 100) / 100;

export class SimulatedReviewer {
  readonly name = SIMULATED_REVIEWER_NAME;

  constructor(private readonly options: SimulatedReviewerOptions = {}) {
    const d = options.disagreement ?? 0;
    if (!(d >= 0 && d <= 1)) throw new RangeError(`SimulatedReviewer: disagreement must be within 0..1, received ${d}`);
  }

  /** The scripted reviewer's own scores of a trace. */
  review(trace: MaskedTrace): ReviewInput {
    const question = trace.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
    const flip = (dimension: string, score: number): number => (fraction(`${dimension}:${trace.traceId}`) < (this.options.disagreement ?? 0) ? round(1 - score) : score);
    const grounded = estimateGroundedness(trace.answer, trace.contexts, { minTokenLength: 3, sentenceSupportThreshold: 0.6 }) ?? 0;
    const asked = new Set(question.toLowerCase().match(WORD) ?? []);
    const said = new Set(trace.answer.toLowerCase().match(WORD) ?? []);
    const relevance = asked.size === 0 ? 0 : [...asked].filter((w) => said.has(w)).length / asked.size;
    let misrouted: ReviewInput['misrouted'] = 'na';
    if (trace.routeTier !== null) {
      const honest = fraction(`misroute:${question}:${trace.routeTier}`) < (this.options.misrouteRate ?? 0.1);
      misrouted = (fraction(`misroute-flip:${trace.traceId}`) < (this.options.disagreement ?? 0) ? !honest : honest) ? 'yes' : 'no';
    }
    return { faithfulness: flip('faithfulness', round(grounded)), answerRelevance: flip('relevance', round(relevance)), misrouted, reviewer: SIMULATED_REVIEWER_NAME };
  }
}
