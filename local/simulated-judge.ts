/**
 * SIMULATED judge model, for local mode, the tests and the judge benchmark. It is not a language model
 * and says so in its name. It answers every step of the policy's prompts in the requested JSON, from
 * lexical rules, deterministically:
 * - claims: the answer's sentences;
 * - verdicts: a claim is supported when at least 60 % of its content words occur in the contexts;
 * - answer relevance: the share of the question's content words the answer repeats;
 * - misroute: a stable hash of the request and tier, true at `misrouteRate`.
 * `disagreement` flips that share of verdicts (by a stable hash), so calibration against a scripted
 * reviewer has something to find.
 *
 * It reads its inputs back out of the rendered prompts: each template of the policy becomes a pattern
 * whose placeholders are captured, so it works with whatever prompts the policy defines.
 */
import { createHash } from 'node:crypto';
import { estimateGroundedness } from '../lambdas/gate-score/reward/groundedness';
import type { JudgeCompletion, JudgeCompletionRequest, JudgeModel } from '../lambdas/judge/judge-model';
import type { JudgePolicy, JudgeStep, Placeholder } from '../lambdas/judge/judge-policy';

export interface SimulatedJudgeOptions {
  /** Share of claim verdicts flipped, 0..1. @default 0 */
  readonly disagreement?: number;
  /** Share of routed requests called misrouted, 0..1. @default 0.1 */
  readonly misrouteRate?: number;
  /** Latency of every call, ms. @default 0 */
  readonly latencyMs?: number;
}

/** A template as a pattern: literal text escaped, each placeholder a lazy capture. */
function templatePattern(template: string): { pattern: RegExp; names: Placeholder[] } {
  const names: Placeholder[] = [];
  const source = template
    .split(/(\{\{[a-z_]+\}\})/)
    .map((part) => {
      const placeholder = /^\{\{([a-z_]+)\}\}$/.exec(part);
      if (placeholder === null) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(placeholder[1] as Placeholder);
      return '([\\s\\S]*?)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}$`), names };
}

/** Stable fraction in [0, 1) of a string. */
function fraction(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

const SENTENCE = /[^.!?\n]+[.!?]?/g;
const WORD = /[\p{L}\p{N}]{3,}/gu;
const HAS_WORD = /[\p{L}\p{N}]{3,}/u;

export class SimulatedJudgeModel implements JudgeModel {
  readonly name = 'simulated-judge (deterministic rules, not a language model)';
  private readonly steps: Array<{ step: JudgeStep; system: RegExp; systemNames: Placeholder[]; user: RegExp; userNames: Placeholder[] }>;

  constructor(
    policy: JudgePolicy,
    private readonly options: SimulatedJudgeOptions = {},
  ) {
    this.steps = (Object.keys(policy.prompts) as JudgeStep[]).map((step) => {
      const system = templatePattern(policy.prompts[step].system);
      const user = templatePattern(policy.prompts[step].user);
      return { step, system: system.pattern, systemNames: system.names, user: user.pattern, userNames: user.names };
    });
  }

  async complete(request: JudgeCompletionRequest): Promise<JudgeCompletion> {
    if ((this.options.latencyMs ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
    const text = this.answer(request);
    return { text, inputTokens: Math.ceil((request.system.length + request.user.length) / 4), outputTokens: Math.ceil(text.length / 4), truncated: false };
  }

  private answer(request: JudgeCompletionRequest): string {
    for (const candidate of this.steps) {
      const system = candidate.system.exec(request.system);
      const user = candidate.user.exec(request.user);
      if (system === null || user === null) continue;
      const values: Partial<Record<Placeholder, string>> = {};
      candidate.systemNames.forEach((name, i) => (values[name] = system[i + 1]));
      candidate.userNames.forEach((name, i) => (values[name] = user[i + 1]));
      return JSON.stringify(this.judge(candidate.step, values));
    }
    return 'The simulated judge does not recognise this prompt.';
  }

  private judge(step: JudgeStep, values: Partial<Record<Placeholder, string>>): object {
    switch (step) {
      case 'claims':
        return { claims: (values.answer?.match(SENTENCE) ?? []).map((s) => s.trim()).filter((s) => HAS_WORD.test(s)) };
      case 'verdicts': {
        const contexts = values.contexts ?? '';
        const claims = (values.claims ?? '').split('\n').map((line) => line.replace(/^\d+\.\s*/, ''));
        return {
          verdicts: claims.map((claim, i) => {
            const supported = (estimateGroundedness(claim, [contexts], { minTokenLength: 3, sentenceSupportThreshold: 0.6 }) ?? 0) >= 1;
            const flipped = fraction(`verdict:${claim}`) < (this.options.disagreement ?? 0);
            return { claim: i + 1, supported: flipped ? !supported : supported };
          }),
        };
      }
      case 'answerRelevance': {
        const question = new Set((values.question ?? '').toLowerCase().match(WORD) ?? []);
        const answer = new Set((values.answer ?? '').toLowerCase().match(WORD) ?? []);
        const shared = [...question].filter((w) => answer.has(w)).length;
        return { score: question.size === 0 ? 0 : Math.round((shared / question.size) * 100) / 100 };
      }
      case 'misroute':
        return { misrouted: fraction(`misroute:${values.question ?? ''}:${values.route_tier ?? ''}`) < (this.options.misrouteRate ?? 0.1) };
    }
  }
}
