/**
 * The judge part of a reward policy (config/reward-policies/<version>.json, `judge`): which judge model,
 * at which temperature, with which prompts and output limits, and how the judged dimensions combine into
 * the reward's `judge` component. All of it is versioned with the policy, and its hash (`judgePromptHash`)
 * is stamped on every judgment, so a stored judgment is reused only under the very prompts that made it.
 *
 * Dimensions:
 * - faithfulness, the Ragas way: the judge lists the answer's claims, then decides for each whether the
 *   retrieved contexts support it; the score is supported / total (no claims: no judgment);
 * - answer relevance: how directly the answer addresses the question, 0..1;
 * - misroute: whether the serving tier was wrong for the request (only for traces with a route tier).
 */
import { createHash } from 'node:crypto';
import * as z from '../shared/zod-mini';

/** The placeholders a template may use; each prompt declares which it needs (see REQUIRED_PLACEHOLDERS). */
export const PLACEHOLDERS = ['question', 'answer', 'contexts', 'claims', 'route_tier', 'route_tiers'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const prompt = z.strictObject({
  /** The system message. */
  system: z.string().check(z.minLength(1), z.maxLength(8_000)),
  /** The user message, with `{{placeholder}}`s. */
  user: z.string().check(z.minLength(1), z.maxLength(8_000)),
});
export type JudgePrompt = z.infer<typeof prompt>;

/** The prompts of each step, and the placeholders each must use (a prompt that omits its evidence is refused). */
export const REQUIRED_PLACEHOLDERS = {
  claims: ['question', 'answer'],
  verdicts: ['contexts', 'claims'],
  answerRelevance: ['question', 'answer'],
  misroute: ['question', 'route_tier', 'route_tiers'],
} as const satisfies Record<string, readonly Placeholder[]>;
export type JudgeStep = keyof typeof REQUIRED_PLACEHOLDERS;

const unit = z.number().check(z.gte(0), z.lte(1));

export const judgePolicySchema = z.strictObject({
    /** The judge model as its endpoint names it (e.g. `Qwen/Qwen3-4B-Instruct-2507`, a Bedrock model id). */
    model: z.string().check(z.minLength(1), z.maxLength(256)),
    temperature: z.number().check(z.gte(0), z.lte(2)),
    /** Output tokens per call; an answer cut at this limit is malformed and retried. */
    maxOutputTokens: z.number().check(z.int(), z.gte(16), z.lte(8_192)),
    /** Attempts per call, counting malformed or refused answers as well as endpoint errors. */
    maxAttempts: z.number().check(z.int(), z.gte(1), z.lte(5)),
    /** Claims judged per answer at most (longer answers are judged on their first claims). */
    maxClaims: z.number().check(z.int(), z.gte(1), z.lte(50)),
    prompts: z.strictObject({ claims: prompt, verdicts: prompt, answerRelevance: prompt, misroute: prompt }),
    /** How faithfulness and answer relevance combine into the reward's `judge` component (sum 1). */
    combine: z.strictObject({ faithfulness: unit, answerRelevance: unit }),
  }).check(z.superRefine((policy, ctx) => {
    for (const [step, needed] of Object.entries(REQUIRED_PLACEHOLDERS) as [JudgeStep, readonly Placeholder[]][]) {
      const { system, user } = policy.prompts[step];
      const text = `${system}\n${user}`;
      for (const name of needed) {
        if (!text.includes(`{{${name}}}`)) ctx.addIssue({ code: 'custom', path: ['prompts', step], message: `must use the placeholder {{${name}}}` });
      }
      for (const match of text.matchAll(/\{\{([^}]*)\}\}/g)) {
        if (!(PLACEHOLDERS as readonly string[]).includes(match[1] ?? '')) {
          ctx.addIssue({ code: 'custom', path: ['prompts', step], message: `unknown placeholder {{${match[1]}}}; known: ${PLACEHOLDERS.join(', ')}` });
        }
      }
    }
    const total = policy.combine.faithfulness + policy.combine.answerRelevance;
    if (Math.abs(total - 1) > 1e-9) ctx.addIssue({ code: 'custom', path: ['combine'], message: `must sum to 1, received a sum of ${total}` });
  }));

export type JudgePolicy = z.infer<typeof judgePolicySchema>;

/** Canonical JSON: keys sorted at every level, so the hash does not depend on how the file is laid out. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * `sha256:<hex>` of everything that shapes a judgment (model, temperature, limits, prompts; not the
 * combination weights, which only weigh stored scores): two policies with the same hash judge alike,
 * so a backtest may replay stored judgments instead of judging again.
 */
export function judgePromptHash(policy: JudgePolicy): string {
  const { combine: _combine, ...shaping } = policy;
  return `sha256:${createHash('sha256').update(canonicalJson(shaping)).digest('hex')}`;
}

/** Fills a template's placeholders; a placeholder without a value is an error (the policy check makes it unreachable). */
export function renderTemplate(template: string, values: Partial<Record<Placeholder, string>>): string {
  return template.replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
    const value = values[name as Placeholder];
    if (value === undefined) throw new Error(`judge prompt placeholder {{${name}}} has no value`);
    return value;
  });
}
