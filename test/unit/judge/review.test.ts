/**
 * The review sample (stratified, deterministic) and the agreement report's alarm rules.
 */
import { dimensionAgreement } from '../../../lambdas/judge/agreement-report';
import { scoreBand, selectReviewSample, type ReviewCandidate } from '../../../lambdas/judge/review-sample';

const bands = [0.5, 0.8, 1];

describe('the review sample', () => {
  const candidates: ReviewCandidate[] = [
    ...Array.from({ length: 1_000 }, (_, i) => ({ traceId: `a-${i}`, agentId: 'support', score: 0.9 })),
    ...Array.from({ length: 40 }, (_, i) => ({ traceId: `b-${i}`, agentId: 'support', score: 0.2 })),
    ...Array.from({ length: 3 }, (_, i) => ({ traceId: `c-${i}`, agentId: 'ide', score: 0.95 })),
    { traceId: 'd-0', agentId: 'ide', score: null },
  ];

  it('takes the rate from every stratum of agent and score band, at least one each', () => {
    const sample = selectReviewSample(candidates, { rate: 0.02, bandUpperBounds: bands }, '2026-W49');
    const count = (prefix: string) => sample.filter((c) => c.traceId.startsWith(prefix)).length;
    expect(count('a-')).toBe(20);
    expect(count('b-')).toBe(1); // ceil(0.02 x 40)
    expect(count('c-')).toBe(1); // the rare agent is reviewed too
    expect(count('d-')).toBe(1); // so is a trace the judge could not judge
  });

  it('is deterministic per salt and changes with it', () => {
    const ids = (salt: string) => selectReviewSample(candidates, { rate: 0.02, bandUpperBounds: bands }, salt).map((c) => c.traceId);
    expect(ids('2026-W49')).toEqual(ids('2026-W49'));
    expect(ids('2026-W50')).not.toEqual(ids('2026-W49'));
  });

  it('bands scores by upper bound', () => {
    expect([0, 0.5, 0.51, 0.8, 0.81, 1].map((s) => scoreBand(s, bands))).toEqual(['band-0', 'band-0', 'band-1', 'band-1', 'band-2', 'band-2']);
    expect(scoreBand(null, bands)).toBe('unjudged');
    expect(() => selectReviewSample(candidates, { rate: 2, bandUpperBounds: bands }, 's')).toThrow(RangeError);
  });
});

describe('agreement per dimension', () => {
  const thresholds = { passAt: 0.8, minKappa: 0.6, minReviewed: 100 };
  const agreeing = Array.from({ length: 120 }, (_, i) => ({ traceId: `t${i}`, judge: i % 3 === 0 ? 0.3 : 0.9, human: i % 3 === 0 ? 0.2 : 0.95 }));

  it('does not alarm when judge and people agree on enough items', () => {
    const result = dimensionAgreement(agreeing, thresholds);
    expect(result).toMatchObject({ reviewed: 120, truePositiveRate: 1, trueNegativeRate: 1, alarms: [] });
    expect(result.kappa?.kappa).toBeCloseTo(1, 12);
  });

  it('alarms below the kappa floor and with too few items', () => {
    const disagreeing = agreeing.map((item, i) => (i % 3 === 1 ? { ...item, judge: item.judge >= 0.8 ? 0.1 : 0.9 } : item));
    expect(dimensionAgreement(disagreeing, thresholds).alarms).toEqual([expect.stringMatching(/^kappa 0\.\d\d is below 0\.6$/)]);
    expect(dimensionAgreement(agreeing.slice(0, 30), thresholds).alarms).toEqual(['only 30 items reviewed in the window; at least 100 are needed']);
  });
});
