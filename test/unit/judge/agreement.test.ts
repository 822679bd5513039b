/**
 * Agreement statistics against reference values computed independently with statsmodels
 * (`statsmodels.stats.inter_rater.cohens_kappa`, whose `std_kappa` is the large-sample standard error
 * of Fleiss, Cohen and Everitt) and scipy (`scipy.stats.spearmanr`).
 */
import { averageRanks, cohensKappa, spearman, truePositiveAndNegativeRates } from '../../../lambdas/judge/agreement';

/** Paired labels from a 2x2 table [[judge fail & human fail, judge fail & human pass], [judge pass & human fail, judge pass & human pass]]. */
function labels(table: [[number, number], [number, number]]): { judge: boolean[]; human: boolean[] } {
  const judge: boolean[] = [];
  const human: boolean[] = [];
  table.forEach((row, j) =>
    row.forEach((count, h) => {
      for (let i = 0; i < count; i += 1) {
        judge.push(j === 1);
        human.push(h === 1);
      }
    }),
  );
  return { judge, human };
}

describe("Cohen's kappa with its 95 % interval", () => {
  it.each([
    ['a textbook table', [[20, 5], [10, 15]], 0.4, 0.151092290476661, 0.6489077095233389],
    ['strong agreement', [[45, 3], [2, 50]], 0.8997594226142742, 0.8141392966953114, 0.9853795485332371],
    ['weak agreement (the interval crosses 0)', [[12, 10], [9, 14]], 0.15430267062314534, -0.13419198113643915, 0.44279732238272984],
    ['skewed marginals', [[88, 4], [5, 3]], 0.35158501440922174, 0.022001988939884476, 0.681168039878559],
  ] as const)('%s matches statsmodels', (_name, table, kappa, lower, upper) => {
    const { judge, human } = labels(table as unknown as [[number, number], [number, number]]);
    const result = cohensKappa(judge, human);
    expect(result?.kappa).toBeCloseTo(kappa, 10);
    expect(result?.lower95).toBeCloseTo(lower, 10);
    expect(result?.upper95).toBeCloseTo(upper, 10);
  });

  it('is undefined without items or when chance agreement is total, and refuses unpaired labels', () => {
    expect(cohensKappa([], [])).toBeUndefined();
    expect(cohensKappa([true, true], [true, true])).toBeUndefined();
    expect(() => cohensKappa([true], [true, false])).toThrow(RangeError);
  });

  it('is 1 for perfect agreement, with a zero-width interval', () => {
    const result = cohensKappa([true, false, true, false], [true, false, true, false]);
    expect(result).toMatchObject({ kappa: 1, lower95: 1, upper95: 1 });
  });
});

describe('true-positive and true-negative rates', () => {
  it('take the person as the truth', () => {
    const { judge, human } = labels([[20, 5], [10, 15]]);
    // human pass: 5 judged fail, 15 judged pass; human fail: 20 judged fail, 10 judged pass
    expect(truePositiveAndNegativeRates(judge, human)).toEqual({ tpr: 15 / 20, tnr: 20 / 30 });
    expect(truePositiveAndNegativeRates([true], [true])).toEqual({ tpr: 1, tnr: undefined });
  });
});

describe("Spearman's rank correlation", () => {
  it('matches scipy, ties included', () => {
    expect(spearman([0.9, 0.8, 0.8, 0.3, 0.5, 1.0, 0.2, 0.2, 0.7], [1.0, 0.7, 0.9, 0.2, 0.5, 0.9, 0.4, 0.1, 0.6])).toBeCloseTo(0.9324977523358329, 12);
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 12);
  });

  it('is undefined for a constant side or fewer than two items; refuses non-finite scores', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeUndefined();
    expect(spearman([1], [1])).toBeUndefined();
    expect(() => spearman([1, Number.NaN], [1, 2])).toThrow(RangeError);
  });

  it('gives tied values their average rank', () => {
    expect(averageRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });
});
