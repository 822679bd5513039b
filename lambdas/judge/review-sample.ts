/**
 * The weekly human-verification sample: 1-2 % of judged traces, stratified by agent and by the band of
 * the judge's score, so that rare agents and rare verdicts (the low-faithfulness band most of all) are
 * reviewed too instead of drowning in the common case. Deterministic: the order inside a stratum is a
 * hash of the salt (e.g. the ISO week) and the trace id, so re-running a week picks the same items.
 */
import { createHash } from 'node:crypto';

export interface ReviewCandidate {
  readonly traceId: string;
  readonly agentId: string;
  /** The judged faithfulness, or null when the judge gave none (its own band). */
  readonly score: number | null;
}

export interface ReviewSampleSettings {
  /** Share of each stratum taken, 0..1 (0.01-0.02 in practice). */
  readonly rate: number;
  /** Upper bounds of the score bands, ascending, the last 1 (e.g. [0.5, 0.8, 1]). */
  readonly bandUpperBounds: readonly number[];
  /** At least this many items from every non-empty stratum. @default 1 */
  readonly minPerStratum?: number;
}

/** The band of a score: the index of the first upper bound it does not exceed; null scores get their own. */
export function scoreBand(score: number | null, upperBounds: readonly number[]): string {
  if (score === null) return 'unjudged';
  const index = upperBounds.findIndex((bound) => score <= bound);
  return `band-${index === -1 ? upperBounds.length - 1 : index}`;
}

function order(salt: string, traceId: string): string {
  return createHash('sha256').update(salt).update('\u0000').update(traceId).digest('hex');
}

/** The sampled candidates, in stratum order (agent, then band) and hash order within each. */
export function selectReviewSample(candidates: readonly ReviewCandidate[], settings: ReviewSampleSettings, salt: string): ReviewCandidate[] {
  if (settings.rate < 0 || settings.rate > 1) throw new RangeError(`review rate must be within 0..1, received ${settings.rate}`);
  const strata = new Map<string, ReviewCandidate[]>();
  for (const candidate of candidates) {
    const key = `${candidate.agentId}\u0000${scoreBand(candidate.score, settings.bandUpperBounds)}`;
    const stratum = strata.get(key);
    if (stratum === undefined) strata.set(key, [candidate]);
    else stratum.push(candidate);
  }
  const minimum = settings.minPerStratum ?? 1;
  const sample: ReviewCandidate[] = [];
  for (const key of [...strata.keys()].sort()) {
    const stratum = strata.get(key) as ReviewCandidate[];
    const take = Math.min(stratum.length, Math.max(minimum, Math.ceil(settings.rate * stratum.length)));
    const ranked = stratum.map((c) => ({ c, rank: order(salt, c.traceId) })).sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
    sample.push(...ranked.slice(0, take).map(({ c }) => c));
  }
  return sample;
}
