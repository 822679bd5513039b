/**
 * The eval gate's rules (per stage in config): the candidate's
 * faithfulness must reach the floor, and no metric that both the candidate and production report may
 * be worse than production's by more than the margin. Pure: no I/O.
 */
import type { EvalGateConfig } from '../../../config/schema';
import type { EvalMetrics } from '../contracts';

/** One rule the candidate broke, in figures and in words. */
export interface GateFailure {
  readonly rule: 'min-faithfulness' | 'max-regression' | 'answer-length' | 'candidate-metrics' | 'production-baseline';
  readonly message: string;
  readonly metric?: string;
  readonly candidate?: number;
  readonly production?: number;
  /** The threshold the value was held to. */
  readonly limit?: number;
}

/** The verdict of the rules on a candidate. */
export interface Judgement {
  readonly failures: readonly GateFailure[];
  /** Observations that do not fail the gate but a reviewer should see (e.g. different golden sets). */
  readonly notes: readonly string[];
}

// Metrics are fractions; a margin of exactly 1 point must allow a drop of exactly 1 point even when
// binary floating point computes 0.86 - 0.85 as 0.010000000000000009.
const EPSILON = 1e-9;

/** Every metric of a metrics.json by name, faithfulness included (the top-level value wins). */
export function namedMetrics(metrics: EvalMetrics): Record<string, number> {
  return { ...metrics.metrics, faithfulness: metrics.faithfulness };
}

const points = (value: number): string => `${(value * 100).toFixed(1)} points`;

/**
 * Length inflation: the candidate's mean answer length may be at most `maxAnswerLengthRatio` times
 * production's. Production's length comes from the same eval run when the job answered with production
 * too (same golden set, same decoding), otherwise from the production model's registered metrics.
 */
function judgeAnswerLength(candidate: EvalMetrics, production: EvalMetrics | null, rules: EvalGateConfig, failures: GateFailure[], notes: string[]): void {
  const inRun = candidate.production?.meanAnswerChars;
  const reference = inRun ?? production?.meanAnswerChars;
  if (reference === undefined) {
    notes.push("production's mean answer length is unknown: the length rule did not apply");
    return;
  }
  const source = inRun !== undefined ? 'answers in this eval run' : 'registered metrics';
  if (candidate.meanAnswerChars === undefined) {
    failures.push({ rule: 'answer-length', metric: 'meanAnswerChars', production: reference, message: "the candidate's metrics.json reports no mean answer length, so length inflation cannot be ruled out" });
    return;
  }
  const limit = rules.maxAnswerLengthRatio * reference;
  if (candidate.meanAnswerChars > limit + EPSILON) {
    const ratio = reference > 0 ? (candidate.meanAnswerChars / reference).toFixed(2) : 'infinitely';
    failures.push({
      rule: 'answer-length',
      metric: 'meanAnswerChars',
      candidate: candidate.meanAnswerChars,
      production: reference,
      limit,
      message: `mean answer length ${candidate.meanAnswerChars.toFixed(1)} characters is ${ratio}x production's ${reference.toFixed(1)} (${source}; at most ${rules.maxAnswerLengthRatio}x allowed)`,
    });
  }
}

/** Applies the gate's rules; `production` is null for the first model of a target. */
export function judgeMetrics(candidate: EvalMetrics, production: EvalMetrics | null, rules: EvalGateConfig): Judgement {
  const failures: GateFailure[] = [];
  const notes: string[] = [];
  if (candidate.faithfulness + EPSILON < rules.minFaithfulness) {
    failures.push({
      rule: 'min-faithfulness',
      metric: 'faithfulness',
      candidate: candidate.faithfulness,
      limit: rules.minFaithfulness,
      message: `faithfulness ${candidate.faithfulness} is below the minimum ${rules.minFaithfulness}`,
    });
  }
  judgeAnswerLength(candidate, production, rules, failures, notes);
  if (production === null) {
    notes.push('no approved production model of this target yet: only the faithfulness floor and the length rule apply');
    return { failures, notes };
  }
  if (production.goldenSetVersion !== candidate.goldenSetVersion) {
    notes.push(`golden sets differ (candidate ${candidate.goldenSetVersion}, production ${production.goldenSetVersion}): the comparison is not like for like`);
  }
  const ours = namedMetrics(candidate);
  const theirs = namedMetrics(production);
  for (const name of Object.keys(ours).sort()) {
    const value = ours[name]!;
    const baseline = theirs[name];
    if (baseline === undefined) continue;
    const drop = baseline - value;
    if (drop > rules.maxRegression + EPSILON) {
      failures.push({
        rule: 'max-regression',
        metric: name,
        candidate: value,
        production: baseline,
        limit: rules.maxRegression,
        message: `${name} ${value} is ${points(drop)} worse than production's ${baseline} (at most ${points(rules.maxRegression)} allowed)`,
      });
    }
  }
  const missing = Object.keys(theirs).filter((name) => ours[name] === undefined);
  if (missing.length > 0) notes.push(`production reports metrics the candidate does not: ${missing.sort().join(', ')} (not compared)`);
  return { failures, notes };
}
