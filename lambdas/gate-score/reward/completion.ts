/**
 * The reward policy applied to a *generated* completion (the policy's `generation` section): what the
 * GRPO trainer rewards and the evaluator scores, in Python (training/sial_training/reward.py). This is
 * the same rule in TypeScript, so the shared vectors (test/vectors/) hold both implementations to one
 * specification; a component without evidence is left out and the other weights renormalised, as in
 * online scoring.
 */
import { estimateGroundedness, hasWordChar } from './groundedness';
import type { RewardPolicy } from './policy';

export const COMPLETION_COMPONENTS = ['groundedness', 'format', 'length', 'judge'] as const;
export type CompletionComponentName = (typeof COMPLETION_COMPONENTS)[number];

export interface CompletionScore {
  /** In [0, 1]. */
  readonly reward: number;
  readonly components: Record<CompletionComponentName, number | null>;
  /** The answer's length in code points (what the length rule and the eval gate's length ratio count). */
  readonly chars: number;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** Length in Unicode code points (a lone surrogate counts one), as Python's len(). */
export function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** 1 for a usable answer; 0 for one without a single word character, or with a chat-template marker in it. */
export function formatComponent(completion: string, policy: RewardPolicy): number {
  if (!hasWordChar(completion)) return 0;
  return policy.generation.format.forbiddenSubstrings.some((marker) => completion.includes(marker)) ? 0 : 1;
}

/** 1 up to the full-score length, 0 from the zero-score length, linear in between. */
export function lengthComponent(chars: number, policy: RewardPolicy): number {
  const { fullScoreAtChars, zeroScoreAtChars } = policy.generation.length;
  if (chars <= fullScoreAtChars) return 1;
  if (chars >= zeroScoreAtChars) return 0;
  return 1 - (chars - fullScoreAtChars) / (zeroScoreAtChars - fullScoreAtChars);
}

/** Scores a generated completion against its prompt's retrieved contexts. */
export function scoreCompletion(completion: string, contexts: readonly string[], policy: RewardPolicy, judgeScore?: number): CompletionScore {
  const chars = codePoints(completion);
  const components: Record<CompletionComponentName, number | null> = {
    groundedness: estimateGroundedness(completion, contexts, policy.components.groundedness) ?? null,
    format: formatComponent(completion, policy),
    length: lengthComponent(chars, policy),
    judge: judgeScore === undefined || Number.isNaN(judgeScore) ? null : clamp01(judgeScore),
  };
  let weighted = 0;
  let weight = 0;
  for (const name of COMPLETION_COMPONENTS) {
    const value = components[name];
    if (value === null) continue;
    weighted += policy.generation.weights[name] * value;
    weight += policy.generation.weights[name];
  }
  const reward = weight > 0 ? weighted / weight : (components.format ?? 0);
  return { reward: clamp01(reward), components, chars };
}
