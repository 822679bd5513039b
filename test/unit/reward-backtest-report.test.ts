/**
 * The backtest's pure figures, with numbers worked out by hand, and its readable forms.
 */
import { compareEligibility, comparePairs, compareScores, distribution, humanAgreement } from '../../lambdas/reward-backtest/backtest-report';
import { renderBacktestHtml, renderBacktestText } from '../../lambdas/reward-backtest/backtest-render';
import { judgeInputOf, rejudgedLiteral, type BacktestReport } from '../../lambdas/reward-backtest/run-backtest';

describe('distribution', () => {
  it('gives the mean, interpolated quantiles and a histogram whose last bin holds 1', () => {
    // Sorted 0, .1, .5, .9, 1: the median is .5; p25 sits at position 1 (.1); p05 at .2 -> 0 + .2 x .1 = .02;
    // p95 at 3.8 -> .9 + .8 x .1 = .98.
    const d = distribution([1, 0.5, 0, 0.9, 0.1]);
    expect(d.n).toBe(5);
    expect(d.mean).toBeCloseTo(0.5, 12);
    expect(d.quantiles['0.5']).toBeCloseTo(0.5, 12);
    expect(d.quantiles['0.25']).toBeCloseTo(0.1, 12);
    expect(d.quantiles['0.05']).toBeCloseTo(0.02, 12);
    expect(d.quantiles['0.95']).toBeCloseTo(0.98, 12);
    expect(d.histogram).toEqual([1, 1, 0, 0, 0, 1, 0, 0, 0, 2]);
  });

  it('is empty without values and refuses a reward outside [0, 1]', () => {
    expect(distribution([])).toEqual({ n: 0, mean: null, quantiles: {}, histogram: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    expect(() => distribution([1.2])).toThrow('a reward must be in [0, 1]; received 1.2');
  });
});

describe('compareScores', () => {
  it('counts threshold crossings each way and correlates the ranks', () => {
    const report = compareScores(
      [
        { current: 0.9, candidate: 0.7 }, // down
        { current: 0.5, candidate: 0.85 }, // up
        { current: 0.8, candidate: 0.8 }, // stays (at the threshold counts as high quality)
        { current: 0.1, candidate: 0.2 },
      ],
      0.8,
    );
    expect(report.highQuality).toEqual({ threshold: 0.8, current: 2, candidate: 2, crossedUp: 1, crossedDown: 1 });
    // Ranks (4, 2, 3, 1) and (2, 4, 3, 1): d = (2, -2, 0, 0), rho = 1 - 6 x 8 / (4 x 15) = 0.2.
    expect(report.spearman).toBeCloseTo(0.2, 12);
    expect(report.meanAbsoluteChange).toBeCloseTo((0.2 + 0.35 + 0 + 0.1) / 4, 12);
  });

  it('has no correlation when a side is constant', () => {
    expect(compareScores([{ current: 0.5, candidate: 0.1 }, { current: 0.5, candidate: 0.9 }], 0.8).spearman).toBeNull();
  });
});

describe('comparePairs', () => {
  const pair = (group: string, chosen: string, rejected: string, agentId = 'a') => ({ agentId, groupId: group, chosenTraceId: chosen, rejectedTraceId: rejected });
  it('tells gained, lost, changed and unchanged groups apart, per agent', () => {
    const before = [pair('g1', 't1', 't2'), pair('g2', 't3', 't4'), pair('g3', 't5', 't6'), pair('g9', 'x', 'y', 'b')];
    const after = [pair('g1', 't1', 't2'), pair('g2', 't4', 't3'), pair('g4', 't7', 't8'), pair('g9', 'x', 'y', 'c')];
    expect(comparePairs(before, after)).toEqual({ current: 4, candidate: 4, gained: 2, lost: 2, changed: 1, unchanged: 1 });
  });
});

describe('compareEligibility', () => {
  it('lists every agent of either side and flags a change of eligibility', () => {
    const e = (agentId: string, eligible: boolean, hq: number) => ({ agentId, positiveFeedback: 5, highQualityTraces: hq, eligible });
    expect(compareEligibility([e('b', true, 60), e('a', true, 50)], [e('a', true, 70), e('c', false, 1)])).toEqual([
      { agentId: 'a', current: { positiveFeedback: 5, highQualityTraces: 50, eligible: true }, candidate: { positiveFeedback: 5, highQualityTraces: 70, eligible: true }, changed: false },
      { agentId: 'b', current: { positiveFeedback: 5, highQualityTraces: 60, eligible: true }, candidate: null, changed: true },
      { agentId: 'c', current: null, candidate: { positiveFeedback: 5, highQualityTraces: 1, eligible: false }, changed: false },
    ]);
  });
});

describe('humanAgreement', () => {
  it("combines the person's dimensions with the given weights and leaves out a review with none", () => {
    const items = [
      { traceId: 't1', faithfulness: 1, answerRelevance: 0, current: 0.9, candidate: 0.9 }, // .7: fail at .8
      { traceId: 't2', faithfulness: null, answerRelevance: 0.9, current: 0.9, candidate: 0.5 }, // .9: pass
      { traceId: 't3', faithfulness: null, answerRelevance: null, current: 0.1, candidate: 0.1 }, // left out
    ];
    const a = humanAgreement(items, 0.8, { faithfulness: 0.7, answerRelevance: 0.3 });
    expect(a.reviewed).toBe(2);
    // current passes both: TPR 1 (t2), TNR 0 (t1); candidate passes t1 only: TPR 0, TNR 0.
    expect(a.current.truePositiveRate).toBe(1);
    expect(a.current.trueNegativeRate).toBe(0);
    expect(a.candidate.truePositiveRate).toBe(0);
    expect(a.candidate.alarms[0]).toMatch(/only 2 items reviewed/);
    // Without weights from either policy, the dimensions count equally: t1 becomes .5.
    expect(humanAgreement(items, 0.8, undefined).humanScore).toMatch(/x 0.5/);
  });
});

describe('the re-judged score list and the judge input', () => {
  it('writes |id=score| entries and refuses an id holding a delimiter', () => {
    expect(rejudgedLiteral(new Map([['t1', 0.5], ['t2', 1]]))).toBe('|t1=0.5|t2=1|');
    expect(rejudgedLiteral(new Map())).toBe('');
    expect(() => rejudgedLiteral(new Map([['a|b', 0.5]]))).toThrow('holds "|" or "="');
  });

  it('asks the judge about the last user message', () => {
    const input = judgeInputOf({
      trace_id: 't1',
      messages_json: JSON.stringify([['system', 'be brief'], ['user', 'first'], ['assistant', 'ok'], ['user', 'second']]),
      output: 'answer',
      contexts_json: '["c1","c2"]',
    });
    expect(input).toEqual({ traceId: 't1', question: 'second', answer: 'answer', contexts: ['c1', 'c2'] });
  });
});

describe('the readable report', () => {
  const comparison = compareScores([{ current: 0.9, candidate: 0.7 }, { current: 0.5, candidate: 0.85 }], 0.8);
  const agreement = humanAgreement([], 0.8, undefined);
  const policy = (version: string) => ({ version, hash: `sha256:${version}`, owner: 'owner <team>', description: '', weights: { feedback: 1, errors: 0, latency: 0, groundedness: 0, judge: 0 }, judgePromptHash: null });
  const report: BacktestReport = {
    kind: 'sial-reward-policy-backtest',
    formatVersion: 1,
    generatedAt: '2026-12-01T00:00:00.000Z',
    stage: 'dev',
    lake: { engine: 'duckdb', source: '/tmp/lake' },
    window: { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', days: 30 },
    current: policy('v1'),
    candidate: policy('v2'),
    scores: comparison,
    judge: {
      current: { judgePromptHash: null, mode: 'stored component', sources: { none: 2 } },
      candidate: {
        judgePromptHash: 'sha256:p',
        mode: 're-judged',
        sources: { rejudged: 1, none: 1 },
        rejudge: { judge: 'simulated-judge', simulated: true, withoutStoredJudgment: 2, offered: 1, judged: 1, skipped: {}, overBudget: 1, tokens: 10, budget: { maxTraces: 1, maxTokens: 100 } },
      },
    },
    dpoPairs: { current: 1, candidate: 2, gained: 1, lost: 0, changed: 0, unchanged: 1, minMargin: 0.2 },
    eligibility: [{ agentId: 'a', current: { positiveFeedback: 1, highQualityTraces: 1, eligible: false }, candidate: { positiveFeedback: 1, highQualityTraces: 2, eligible: true }, changed: true }],
    humanAgreement: agreement,
    notes: ['a note'],
  };

  it('prints the figures a reviewer needs, the simulated judge named as such', () => {
    const text = renderBacktestText(report).join('\n');
    expect(text).toContain('v1 (current) vs v2 (candidate)');
    expect(text).toContain('high quality (reward >= 0.8): 1 -> 1 (1 cross up, 1 cross down)');
    expect(text).toContain('re-judged by the SIMULATED judge simulated-judge: 1 judged of 2 traces without a stored judgment (1 offered, 1 over the 1-trace budget; 10 of 100 tokens)');
    expect(text).toContain('DPO pairs (margin 0.2): 1 -> 2 (gained 1, lost 0, changed 0, unchanged 1)');
    expect(text).toContain('a: not eligible (1, 1) -> eligible (1, 2)  CHANGED');
    expect(text).toContain('Note: a note');
  });

  it('escapes text in the HTML page', () => {
    const html = renderBacktestHtml(report);
    expect(html).toContain('owner &lt;team&gt;');
    expect(html).not.toContain('owner <team>');
    expect(html).toMatch(/^<!doctype html>/);
  });
});
