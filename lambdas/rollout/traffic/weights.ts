/**
 * Traffic splits in percent: from a step's progress, from raw weights (SageMaker variant weights or
 * HTTPRoute backendRef weights are relative numbers, not percentages), and compared.
 */
import { trafficWeightsSchema, type RolloutProgress, type TrafficWeights } from '../contracts';
import { WeightsNotApplied } from '../errors';

/** Everything on the current version: where every rollback ends. */
export const ALL_CURRENT: TrafficWeights = Object.freeze({ currentPercent: 100, candidatePercent: 0 });

/** The split a step asks for. */
export function weightsOfProgress(progress: Pick<RolloutProgress, 'currentPercent' | 'candidatePercent'>): TrafficWeights {
  return trafficWeightsSchema.parse({ currentPercent: progress.currentPercent, candidatePercent: progress.candidatePercent });
}

/** The split with `candidatePercent` on the candidate. */
export function weightsWithCandidate(candidatePercent: number): TrafficWeights {
  return trafficWeightsSchema.parse({ currentPercent: 100 - candidatePercent, candidatePercent });
}

export function sameWeights(a: TrafficWeights, b: TrafficWeights): boolean {
  return a.currentPercent === b.currentPercent && a.candidatePercent === b.candidatePercent;
}

/** Relative weights as a target reports them: the two versions', and any other that carries traffic. */
export interface RawShares {
  /** Undefined when the current version is not on the target at all. */
  readonly current: number | undefined;
  /** 0 when the candidate is absent (not deployed yet, or already removed). */
  readonly candidate: number;
  /** Every other variant or backend, by name, with its weight. */
  readonly others: ReadonlyArray<{ readonly name: string; readonly weight: number }>;
}

/**
 * The split in percent of the target's traffic. The candidate's share is rounded to a whole percent
 * and the current version gets the rest, so the two always sum to 100.
 *
 * @param where names the target in error messages ("endpoint sial-dev-qwen3-4b").
 * @param expected what the caller wants, when it knows, for the error's expected/observed message.
 * @throws WeightsNotApplied when the traffic is not a split between the two versions.
 */
export function percentSplit(shares: RawShares, where: string, expected?: TrafficWeights): TrafficWeights {
  if (shares.current === undefined) throw new WeightsNotApplied(expected, undefined, `the current version is not on ${where}`);
  const elsewhere = shares.others.filter((o) => o.weight > 0);
  const total = shares.current + shares.candidate + elsewhere.reduce((sum, o) => sum + o.weight, 0);
  if (!(total > 0)) throw new WeightsNotApplied(expected, undefined, `no version on ${where} carries traffic (all weights are 0)`);
  if (elsewhere.length > 0) {
    const described = elsewhere.map((o) => `${o.name} ${Math.round((100 * o.weight) / total)} %`).join(', ');
    throw new WeightsNotApplied(expected, undefined, `${where} also sends traffic to ${described}`);
  }
  return weightsWithCandidate(Math.round((100 * shares.candidate) / total));
}
