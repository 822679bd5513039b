import { ROLLOUT_ERRORS } from '../../stepfunctions/canary-rollout-states';
import { WeightsNotApplied, describeWeights } from '../../lambdas/rollout/errors';
import { ALL_CURRENT, percentSplit, sameWeights, weightsOfProgress, weightsWithCandidate } from '../../lambdas/rollout/traffic/weights';

describe('traffic weights', () => {
  it('turns a step into the split it asks for', () => {
    expect(weightsOfProgress({ currentPercent: 90, candidatePercent: 10 })).toEqual({ currentPercent: 90, candidatePercent: 10 });
    expect(weightsWithCandidate(50)).toEqual({ currentPercent: 50, candidatePercent: 50 });
    expect(ALL_CURRENT).toEqual({ currentPercent: 100, candidatePercent: 0 });
    expect(() => weightsOfProgress({ currentPercent: 80, candidatePercent: 10 })).toThrow('weights must sum to 100');
  });

  it('reads relative weights as percentages that always sum to 100', () => {
    expect(percentSplit({ current: 9, candidate: 1, others: [] }, 'endpoint e')).toEqual({ currentPercent: 90, candidatePercent: 10 });
    expect(percentSplit({ current: 0.5, candidate: 0.5, others: [{ name: 'old', weight: 0 }] }, 'endpoint e')).toEqual({ currentPercent: 50, candidatePercent: 50 });
    // 1/3 vs 2/3 rounds the candidate and gives the current version the rest.
    expect(percentSplit({ current: 2, candidate: 1, others: [] }, 'endpoint e')).toEqual({ currentPercent: 67, candidatePercent: 33 });
    expect(percentSplit({ current: 1, candidate: 0, others: [] }, 'endpoint e')).toEqual(ALL_CURRENT);
  });

  it('refuses traffic that is not a split between the two versions', () => {
    const expected = { currentPercent: 90, candidatePercent: 10 };
    expect(() => percentSplit({ current: undefined, candidate: 1, others: [] }, 'endpoint e', expected)).toThrow('the current version is not on endpoint e');
    expect(() => percentSplit({ current: 0, candidate: 0, others: [] }, 'endpoint e', expected)).toThrow('no version on endpoint e carries traffic');
    let thrown: unknown;
    try {
      percentSplit({ current: 80, candidate: 10, others: [{ name: 'variant shadow', weight: 10 }] }, 'endpoint e', expected);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WeightsNotApplied);
    expect((thrown as Error).name).toBe(ROLLOUT_ERRORS.weightsNotApplied);
    expect((thrown as Error).message).toBe('expected current 90 % / candidate 10 %, observed no readable split: endpoint e also sends traffic to variant shadow 10 %');
  });

  it('compares and describes splits', () => {
    expect(sameWeights({ currentPercent: 90, candidatePercent: 10 }, { currentPercent: 90, candidatePercent: 10 })).toBe(true);
    expect(sameWeights({ currentPercent: 90, candidatePercent: 10 }, { currentPercent: 50, candidatePercent: 50 })).toBe(false);
    expect(describeWeights({ currentPercent: 50, candidatePercent: 50 })).toBe('current 50 % / candidate 50 %');
    const error = new WeightsNotApplied({ currentPercent: 50, candidatePercent: 50 }, { currentPercent: 90, candidatePercent: 10 }, 'endpoint e');
    expect(error.message).toBe('expected current 50 % / candidate 50 %, observed current 90 % / candidate 10 %: endpoint e');
    expect(new WeightsNotApplied(undefined, undefined, 'x').message).toBe('observed no readable split: x');
  });
});
