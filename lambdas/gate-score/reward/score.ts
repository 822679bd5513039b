/**
 * Online reward under a versioned policy: a weighted mean of the components that can be computed for
 * this trace. A component that has no evidence (no feedback yet, no latency, no contexts) is left out
 * and the remaining weights are renormalised, so a trace is not punished for missing signal.
 */
import type { Trace } from '../trace';
import { estimateGroundedness } from './groundedness';
import type { RewardPolicy } from './policy';

export const REWARD_COMPONENTS = ['feedback', 'errors', 'latency', 'groundedness', 'judge'] as const;
export type RewardComponentName = (typeof REWARD_COMPONENTS)[number];

/** Each component in [0, 1], or null where it had no evidence. */
export type RewardComponents = Record<RewardComponentName, number | null>;

export interface Reward {
  /** In [0, 1]. */
  readonly reward: number;
  readonly components: RewardComponents;
  readonly policyVersion: string;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** Explicit user feedback: the outcome's score, blended with the 0-10 quality rating when both exist. */
export function feedbackComponent(trace: Trace, policy: RewardPolicy): number | null {
  const settings = policy.components.feedback;
  const outcome = trace.feedback?.outcome;
  const quality = trace.feedback?.quality;
  const outcomeScore = outcome === undefined ? undefined : settings.outcomeScores[outcome];
  const qualityScore = quality === undefined ? undefined : quality / 10;
  if (outcomeScore !== undefined && qualityScore !== undefined) {
    return clamp01((1 - settings.qualityShare) * outcomeScore + settings.qualityShare * qualityScore);
  }
  return outcomeScore ?? qualityScore ?? null;
}

/** Errors and tool failures: a failed request scores the policy's error score; each failed tool costs a penalty. */
export function errorsComponent(trace: Trace, policy: RewardPolicy): number {
  const settings = policy.components.errors;
  if (trace.error) return settings.requestErrorScore;
  const failedTools = trace.tool_calls.filter((call) => call.status === 'error').length;
  return clamp01(1 - failedTools * settings.toolFailurePenalty);
}

/** Latency against the agent's SLO: 1 at or under the full-score fraction, 0 at the zero-score multiple, linear between. */
export function latencyComponent(trace: Trace, policy: RewardPolicy, sloMs: number): number | null {
  if (trace.latency_ms === undefined) return null;
  const { fullScoreAtSloFraction, zeroScoreAtSloMultiple } = policy.components.latency;
  const ratio = trace.latency_ms / sloMs;
  if (ratio <= fullScoreAtSloFraction) return 1;
  if (ratio >= zeroScoreAtSloMultiple) return 0;
  return 1 - (ratio - fullScoreAtSloFraction) / (zeroScoreAtSloMultiple - fullScoreAtSloFraction);
}

/** Scores a (masked) trace. `judgeScore` is the LLM judge's opinion where one is configured. */
export function scoreTrace(trace: Trace, policy: RewardPolicy, sloMs: number, judgeScore?: number): Reward {
  const components: RewardComponents = {
    feedback: feedbackComponent(trace, policy),
    errors: errorsComponent(trace, policy),
    latency: latencyComponent(trace, policy, sloMs),
    groundedness: estimateGroundedness(trace.output, trace.retrieved_contexts, policy.components.groundedness) ?? null,
    judge: judgeScore === undefined ? null : clamp01(judgeScore),
  };
  let weighted = 0;
  let weight = 0;
  for (const name of REWARD_COMPONENTS) {
    const value = components[name];
    if (value === null) continue;
    weighted += policy.weights[name] * value;
    weight += policy.weights[name];
  }
  // The errors component always has evidence; if the policy gives it no weight and nothing else has
  // evidence, fall back to it rather than inventing a neutral score.
  const reward = weight > 0 ? weighted / weight : (components.errors ?? 0);
  return { reward: clamp01(reward), components, policyVersion: policy.version };
}
