/**
 * The versioned reward policy (config/reward-policies/*.json). Its version is stamped on every lake row
 * so a dataset can be rebuilt, or a backtest compared, under exactly the policy that scored it.
 */
import * as z from '../../shared/zod-mini';
import { judgePolicySchema } from '../../judge/judge-policy';
import { FEEDBACK_OUTCOMES } from '../trace';

const unit = z.number().check(z.gte(0), z.lte(1));

export const rewardPolicySchema = z.strictObject({
    version: z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]*$/)),
    /** The single accountable owner of reward-policy changes. */
    owner: z.string().check(z.minLength(1)),
    description: z.string(),
    weights: z.strictObject({
      feedback: unit,
      errors: unit,
      latency: unit,
      groundedness: unit,
      /** The LLM judge; a weight above 0 needs the `judge` section. */
      judge: unit,
    }),
    components: z.strictObject({
      feedback: z.strictObject({
        outcomeScores: z.strictObject(Object.fromEntries(FEEDBACK_OUTCOMES.map((o) => [o, unit])) as Record<(typeof FEEDBACK_OUTCOMES)[number], typeof unit>),
        /** Share of the feedback component taken by the 0-10 quality rating when both are present. */
        qualityShare: unit,
      }),
      errors: z.strictObject({
        /** Score of a request that ended in an error. */
        requestErrorScore: unit,
        /** Subtracted per failed tool call (floored at 0). */
        toolFailurePenalty: unit,
      }),
      latency: z.strictObject({
        /** Latency at or under this fraction of the SLO scores 1. */
        fullScoreAtSloFraction: z.number().check(z.positive()),
        /** Latency at or over this multiple of the SLO scores 0; linear in between. */
        zeroScoreAtSloMultiple: z.number().check(z.positive()),
      }),
      groundedness: z.strictObject({
        /** Tokens shorter than this are ignored (articles, particles). */
        minTokenLength: z.number().check(z.int(), z.gte(1)),
        /** An answer sentence counts as supported when this share of its tokens occurs in the contexts. */
        sentenceSupportThreshold: unit,
      }),
    }),
    /**
     * How a *generated* completion is scored: the GRPO trainer's reward and the evaluator's scores
     * (training/sial_training/reward.py; `scoreCompletion` in completion.ts is the same rule). A generated
     * answer has no user feedback, error status or latency, so it is scored on groundedness against its
     * prompt's contexts, format, length and, once configured, the judge.
     */
    generation: z.strictObject({
      weights: z.strictObject({ groundedness: unit, format: unit, length: unit, judge: unit }),
      format: z.strictObject({
        /** Chat-template markers whose presence in an answer means the model leaked its template. */
        forbiddenSubstrings: z.array(z.string().check(z.minLength(1))).check(z.maxLength(50)),
      }),
      length: z.strictObject({
        /** Answers up to this many characters (code points) score 1; longer is never better. */
        fullScoreAtChars: z.number().check(z.int(), z.positive()),
        /** Answers of this many characters or more score 0; linear in between. */
        zeroScoreAtChars: z.number().check(z.int(), z.positive()),
      }),
    }),
    /**
     * The LLM judge: model, temperature, prompts, limits and how its dimensions combine
     * (lambdas/judge/judge-policy.ts). Required once the judge has any weight.
     */
    judge: z.optional(judgePolicySchema),
  }).check(z.superRefine((policy, ctx) => {
    if ((policy.weights.judge > 0 || policy.generation.weights.judge > 0) && policy.judge === undefined) {
      ctx.addIssue({ code: 'custom', path: ['judge'], message: 'a policy that gives the judge weight must define the judge (model, prompts, limits)' });
    }
    const total = Object.values(policy.weights).reduce((a, b) => a + b, 0);
    if (Math.abs(total - 1) > 1e-9) {
      ctx.addIssue({ code: 'custom', path: ['weights'], message: `weights must sum to 1, received a sum of ${total}` });
    }
    const generationTotal = Object.values(policy.generation.weights).reduce((a, b) => a + b, 0);
    if (Math.abs(generationTotal - 1) > 1e-9) {
      ctx.addIssue({ code: 'custom', path: ['generation', 'weights'], message: `generation weights must sum to 1, received a sum of ${generationTotal}` });
    }
    const { fullScoreAtChars, zeroScoreAtChars } = policy.generation.length;
    if (zeroScoreAtChars <= fullScoreAtChars) {
      ctx.addIssue({
        code: 'custom',
        path: ['generation', 'length'],
        message: `zeroScoreAtChars (${zeroScoreAtChars}) must exceed fullScoreAtChars (${fullScoreAtChars})`,
      });
    }
    const { fullScoreAtSloFraction, zeroScoreAtSloMultiple } = policy.components.latency;
    if (zeroScoreAtSloMultiple <= fullScoreAtSloFraction) {
      ctx.addIssue({
        code: 'custom',
        path: ['components', 'latency'],
        message: `zeroScoreAtSloMultiple (${zeroScoreAtSloMultiple}) must exceed fullScoreAtSloFraction (${fullScoreAtSloFraction})`,
      });
    }
  }));

export type RewardPolicy = z.infer<typeof rewardPolicySchema>;
