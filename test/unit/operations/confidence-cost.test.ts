import { confidenceScore, confidenceScores, globalScores } from '../../../lambdas/operations/confidence';
import { costReportCsv, requestCostUsd } from '../../../lambdas/operations/cost';
import { parseWindowDays, reportWindows } from '../../../lambdas/operations/report-window';

const settings = { decayPerIdleDay: 0.1, fullWeightFeedback: 50, divergenceReviewPoints: 20 };
const asOf = new Date('2026-12-01T00:00:00.000Z');

describe('confidence scores', () => {
  it('starts at the global score and blends in the agent with weight min(1, n / 50)', () => {
    const none = confidenceScore({ agent_id: 'a', model: 'm', feedback_count: 0, positive_count: 0, last_feedback_at: asOf.toISOString() }, 0.8, asOf, settings);
    expect(none.score).toBe(0.8);
    const half = confidenceScore({ agent_id: 'a', model: 'm', feedback_count: 25, positive_count: 5, last_feedback_at: asOf.toISOString() }, 0.8, asOf, settings);
    expect(half.weight).toBe(0.5);
    expect(half.score).toBe(0.5); // 0.5 * 0.2 + 0.5 * 0.8
    const full = confidenceScore({ agent_id: 'a', model: 'm', feedback_count: 200, positive_count: 40, last_feedback_at: asOf.toISOString() }, 0.8, asOf, settings);
    expect(full.weight).toBe(1);
    expect(full.score).toBe(0.2);
  });

  it('decays 10 % of the way back to the prior per idle day', () => {
    const outcome = { agent_id: 'a', model: 'm', feedback_count: 100, positive_count: 40, last_feedback_at: '2026-11-28T12:00:00.000Z' };
    const score = confidenceScore(outcome, 0.8, asOf, settings);
    expect(score.idle_days).toBe(2);
    expect(score.score).toBeCloseTo(0.8 + (0.4 - 0.8) * 0.81, 4);
  });

  it('flags a score 20 points or more from the global one for review', () => {
    expect(confidenceScore({ agent_id: 'a', model: 'm', feedback_count: 100, positive_count: 60, last_feedback_at: asOf.toISOString() }, 0.8, asOf, settings)).toEqual(expect.objectContaining({ divergence_pp: -20, needs_review: true }));
    expect(confidenceScore({ agent_id: 'a', model: 'm', feedback_count: 100, positive_count: 61, last_feedback_at: asOf.toISOString() }, 0.8, asOf, settings).needs_review).toBe(false);
  });

  it('takes the prior per model over all agents, and orders the table', () => {
    const outcomes = [
      { agent_id: 'b', model: 'm', feedback_count: 10, positive_count: 10, last_feedback_at: asOf.toISOString() },
      { agent_id: 'a', model: 'm', feedback_count: 30, positive_count: 10, last_feedback_at: asOf.toISOString() },
    ];
    expect(globalScores(outcomes).byModel.get('m')).toBe(0.5);
    expect(globalScores([]).baseline).toBe(0.5);
    expect(confidenceScores(outcomes, asOf, settings).map((s) => s.agent_id)).toEqual(['a', 'b']);
  });
});

describe('cost attribution', () => {
  const price = { inputPer1kTokensUsd: 0.0002, outputPer1kTokensUsd: 0.0006, servingPerRequestUsd: 0.0004 };
  it('prices tokens in and out plus serving per request; no token counts, no cost', () => {
    expect(requestCostUsd(price, 1000, 500)).toBe(0.0009);
    expect(requestCostUsd(price, undefined, 500)).toBeNull();
  });

  it('writes the report as CSV with agent_id, tokens_in, tokens_out, cost_usd first, quoting what needs it', () => {
    const csv = costReportCsv([{ agent_id: 'a,b', requests: 2, tokens_in: 10, tokens_out: 20, cost_usd: 0.5, unpriced_requests: 0 }]);
    expect(csv).toBe('agent_id,tokens_in,tokens_out,cost_usd,requests,unpriced_requests\n"a,b",10,20,0.500000,2,0\n');
  });
});

describe('report windows', () => {
  it('puts the current window before the end and the baseline before it', () => {
    const w = reportWindows(new Date('2026-12-01T00:00:00.000Z'), 7, 28);
    expect(w.currentStart.toISOString()).toBe('2026-11-24T00:00:00.000Z');
    expect(w.baselineStart.toISOString()).toBe('2026-10-27T00:00:00.000Z');
  });

  it('reads 7d and 7, and refuses anything else', () => {
    expect(parseWindowDays('7d')).toBe(7);
    expect(parseWindowDays('14')).toBe(14);
    expect(() => parseWindowDays('1w')).toThrow('window "1w" is not a number of days');
    expect(() => parseWindowDays('0d')).toThrow();
  });
});
