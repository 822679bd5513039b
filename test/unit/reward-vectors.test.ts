/**
 * The shared reward vectors (test/vectors/): the TypeScript scorer must reproduce every expected value.
 * training/tests/test_reward_vectors.py runs the same files against the Python reward functions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scoreCompletion } from '../../lambdas/gate-score/reward/completion';
import { estimateGroundedness } from '../../lambdas/gate-score/reward/groundedness';
import { rewardPolicySchema } from '../../lambdas/gate-score/reward/policy';

const VECTORS = join(__dirname, '..', 'vectors');
const read = (name: string): unknown => JSON.parse(readFileSync(join(VECTORS, name), 'utf8'));

interface GroundednessCase {
  name: string;
  answer: string;
  contexts: string[];
  minTokenLength: number;
  sentenceSupportThreshold: number;
  expected: number | null;
}
interface CompletionCase {
  name: string;
  completion: string;
  contexts: string[];
  judge?: number;
  expected: { reward: number; components: Record<string, number | null>; chars: number };
}

const groundedness = (read('reward-groundedness.json') as { cases: GroundednessCase[] }).cases;
const completion = read('reward-completion.json') as { policy: unknown; cases: CompletionCase[] };

describe('shared reward vectors', () => {
  it.each(groundedness.map((c) => [c.name, c] as const))('groundedness: %s', (_name, c) => {
    const got = estimateGroundedness(c.answer, c.contexts, { minTokenLength: c.minTokenLength, sentenceSupportThreshold: c.sentenceSupportThreshold });
    if (c.expected === null) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(c.expected, 12);
  });

  const policy = rewardPolicySchema.parse(completion.policy);
  it.each(completion.cases.map((c) => [c.name, c] as const))('completion: %s', (_name, c) => {
    const got = scoreCompletion(c.completion, c.contexts, policy, c.judge);
    expect(got.reward).toBeCloseTo(c.expected.reward, 12);
    expect(got.chars).toBe(c.expected.chars);
    for (const [name, value] of Object.entries(c.expected.components)) {
      if (value === null) expect(got.components[name as keyof typeof got.components]).toBeNull();
      else expect(got.components[name as keyof typeof got.components]).toBeCloseTo(value, 12);
    }
  });
});
