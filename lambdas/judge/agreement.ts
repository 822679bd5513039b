/**
 * How well the judge agrees with people, per dimension, on the weekly review sample:
 * - Cohen's kappa on pass/fail, with a 95 % confidence interval (the large-sample standard error of
 *   Fleiss, Cohen and Everitt, 1969), so a kappa from few items is shown as the wide range it is;
 * - the judge's true-positive and true-negative rates against the person's pass/fail;
 * - Spearman's rank correlation of the continuous scores (average ranks for ties).
 * Pure functions; the review workflow feeds them and publishes the figures.
 */

export interface KappaResult {
  readonly kappa: number;
  readonly lower95: number;
  readonly upper95: number;
  readonly observedAgreement: number;
  readonly expectedAgreement: number;
  readonly n: number;
}

/** Two-sided 95 % normal quantile. */
const Z_95 = 1.959963984540054;

/**
 * Cohen's kappa of two raters' binary labels (`judge[i]` and `human[i]` rate item i). Undefined with no
 * items, or when chance agreement is total (both raters gave every item the same single label), where
 * kappa is not defined.
 */
export function cohensKappa(judge: readonly boolean[], human: readonly boolean[]): KappaResult | undefined {
  if (judge.length !== human.length) throw new RangeError(`kappa needs paired labels: ${judge.length} judge vs ${human.length} human`);
  const n = judge.length;
  if (n === 0) return undefined;
  // Cell proportions: [judge][human], 1 = pass.
  const p = [
    [0, 0],
    [0, 0],
  ] as [[number, number], [number, number]];
  for (let i = 0; i < n; i += 1) p[judge[i] ? 1 : 0][human[i] ? 1 : 0] += 1 / n;
  const rows = [p[0][0] + p[0][1], p[1][0] + p[1][1]];
  const cols = [p[0][0] + p[1][0], p[0][1] + p[1][1]];
  const po = p[0][0] + p[1][1];
  const pe = (rows[0] as number) * (cols[0] as number) + (rows[1] as number) * (cols[1] as number);
  if (pe >= 1) return undefined;
  const kappa = (po - pe) / (1 - pe);
  // Fleiss, Cohen & Everitt (1969): variance of kappa under the observed table.
  let a = 0;
  for (const k of [0, 1] as const) {
    const rk = rows[k] as number;
    const ck = cols[k] as number;
    a += p[k][k] * (1 - (rk + ck) * (1 - kappa)) ** 2;
  }
  let b = 0;
  for (const i of [0, 1] as const) {
    for (const j of [0, 1] as const) {
      if (i !== j) b += p[i][j] * ((cols[i] as number) + (rows[j] as number)) ** 2;
    }
  }
  b *= (1 - kappa) ** 2;
  const c = (kappa - pe * (1 - kappa)) ** 2;
  const variance = Math.max(0, (a + b - c) / (n * (1 - pe) ** 2));
  const half = Z_95 * Math.sqrt(variance);
  return { kappa, lower95: Math.max(-1, kappa - half), upper95: Math.min(1, kappa + half), observedAgreement: po, expectedAgreement: pe, n };
}

/** The judge's true-positive and true-negative rates, taking the person's label as the truth (undefined without positives or negatives). */
export function truePositiveAndNegativeRates(judge: readonly boolean[], human: readonly boolean[]): { tpr: number | undefined; tnr: number | undefined } {
  if (judge.length !== human.length) throw new RangeError(`rates need paired labels: ${judge.length} judge vs ${human.length} human`);
  let tp = 0;
  let fn = 0;
  let tn = 0;
  let fp = 0;
  for (let i = 0; i < judge.length; i += 1) {
    if (human[i]) {
      if (judge[i]) tp += 1;
      else fn += 1;
    } else if (judge[i]) fp += 1;
    else tn += 1;
  }
  return { tpr: tp + fn === 0 ? undefined : tp / (tp + fn), tnr: tn + fp === 0 ? undefined : tn / (tn + fp) };
}

/** Ranks 1..n with ties given their average rank. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((value, index) => ({ value, index })).sort((x, y) => x.value - y.value);
  const ranks = new Array<number>(values.length).fill(0);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && (order[j + 1] as { value: number }).value === (order[i] as { value: number }).value) j += 1;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k += 1) ranks[(order[k] as { index: number }).index] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Pearson correlation; undefined when either side has no variance or fewer than two items. */
function pearson(x: readonly number[], y: readonly number[]): number | undefined {
  const n = x.length;
  if (n < 2) return undefined;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i += 1) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return undefined;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rank correlation (Pearson on average ranks); undefined when a side is constant or n < 2. */
export function spearman(judge: readonly number[], human: readonly number[]): number | undefined {
  if (judge.length !== human.length) throw new RangeError(`spearman needs paired scores: ${judge.length} judge vs ${human.length} human`);
  if (judge.some((v) => !Number.isFinite(v)) || human.some((v) => !Number.isFinite(v))) throw new RangeError('spearman needs finite scores');
  return pearson(averageRanks(judge), averageRanks(human));
}
