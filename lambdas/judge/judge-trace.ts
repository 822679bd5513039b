/**
 * Judges one (masked) trace under the policy's judge section: faithfulness (claims, then one verdict per
 * claim against the contexts), answer relevance, and misroute where the trace has a route tier. Each
 * call is retried up to `maxAttempts`: with full-jitter backoff after an endpoint's transient error, at
 * once after a malformed, refused or truncated answer. A dimension whose calls all fail is recorded as
 * no judgment with its reason, never as a score; the reward then leaves it out and renormalises.
 *
 * The judge only ever reads what the lake holds: text that went through the PII gate.
 */
import type { Sleep } from '../shared/ports';
import { parseClaims, parseMisroute, parseRelevance, parseVerdicts, type Parsed } from './judge-answers';
import { TransientJudgeError, type JudgeModel } from './judge-model';
import { judgePromptHash, renderTemplate, type JudgePolicy, type JudgeStep, type Placeholder } from './judge-policy';

/** What the judge reads of a trace. */
export interface JudgeInput {
  readonly traceId: string;
  /** The user's request: the last user message of the conversation. */
  readonly question: string;
  readonly answer: string;
  readonly contexts: readonly string[];
  /** The tier that served the request, when the trace was routed. */
  readonly routeTier?: string;
}

export const JUDGED_DIMENSIONS = ['faithfulness', 'answerRelevance', 'misroute'] as const;
export type JudgedDimension = (typeof JUDGED_DIMENSIONS)[number];

/** One trace's judgment: scores, or why a dimension has none; what it cost; under which prompts. */
export interface TraceJudgment {
  readonly traceId: string;
  readonly judgeModel: string;
  readonly endpoint: string;
  readonly promptHash: string;
  /** Supported claims / claims, or null. */
  readonly faithfulness: number | null;
  readonly answerRelevance: number | null;
  /** Null when the trace has no route tier or the judge gave no answer. */
  readonly misrouted: boolean | null;
  readonly claims: number | null;
  /** Why a dimension has no judgment (a short code, never model output). */
  readonly noJudgment: Partial<Record<JudgedDimension, string>>;
  readonly calls: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface JudgeDependencies {
  readonly model: JudgeModel;
  readonly policy: JudgePolicy;
  /** The stage's route tiers, cheapest first (what the misroute prompt offers). */
  readonly routeTiers: readonly string[];
  readonly sleep?: Sleep;
  readonly random?: () => number;
  /** Backoff after a transient endpoint error: first wait up to `baseDelayMs`, doubling, capped. */
  readonly backoff?: { readonly baseDelayMs: number; readonly maxDelayMs: number };
  /**
   * Send a trace's dimensions one after another instead of together (for an endpoint with a single
   * slot; the benchmark's naive baseline). @default false
   */
  readonly sequentialDimensions?: boolean;
}

const defaultSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Mutable tally of one trace's calls. */
interface Usage {
  calls: number;
  inputTokens: number;
  outputTokens: number;
}

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** An error's name when it is a plain identifier, else a generic one: names only, never messages. */
function errorName(error: unknown): string {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'UnnamedError';
}

async function ask<T>(
  step: JudgeStep,
  values: Partial<Record<Placeholder, string>>,
  parse: (text: string, truncated: boolean) => Parsed<T>,
  deps: JudgeDependencies,
  usage: Usage,
): Promise<Outcome<T>> {
  const { policy, model } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const backoff = deps.backoff ?? { baseDelayMs: 500, maxDelayMs: 8_000 };
  const prompt = policy.prompts[step];
  const request = {
    model: policy.model,
    system: renderTemplate(prompt.system, values),
    user: renderTemplate(prompt.user, values),
    temperature: policy.temperature,
    maxOutputTokens: policy.maxOutputTokens,
  };
  let reason = 'not_attempted';
  let transientFailures = 0;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt += 1) {
    try {
      usage.calls += 1;
      const completion = await model.complete(request);
      usage.inputTokens += completion.inputTokens;
      usage.outputTokens += completion.outputTokens;
      const parsed = parse(completion.text, completion.truncated);
      if (parsed.ok) return { ok: true, value: parsed.value };
      reason = `malformed_answer: ${parsed.problem}`;
    } catch (error) {
      if (!(error instanceof TransientJudgeError)) return { ok: false, reason: `endpoint_error: ${errorName(error)}` };
      reason = `endpoint_error: ${errorName(error)}`;
      const cap = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** transientFailures);
      transientFailures += 1;
      if (attempt < policy.maxAttempts) await sleep(Math.floor(random() * cap));
    }
  }
  return { ok: false, reason };
}

function numbered(items: readonly string[], style: 'brackets' | 'dots'): string {
  return items.map((item, i) => (style === 'brackets' ? `[${i + 1}] ${item}` : `${i + 1}. ${item}`)).join('\n');
}

async function judgeFaithfulness(input: JudgeInput, deps: JudgeDependencies, usage: Usage): Promise<Outcome<{ score: number; claims: number }>> {
  if (input.contexts.every((c) => c.trim().length === 0)) return { ok: false, reason: 'no_contexts' };
  const claims = await ask('claims', { question: input.question, answer: input.answer }, parseClaims, deps, usage);
  if (!claims.ok) return claims;
  const judged = claims.value.slice(0, deps.policy.maxClaims);
  if (judged.length === 0) return { ok: false, reason: 'no_claims' };
  const verdicts = await ask(
    'verdicts',
    { contexts: numbered(input.contexts, 'brackets'), claims: numbered(judged, 'dots') },
    (text, truncated) => parseVerdicts(text, truncated, judged.length),
    deps,
    usage,
  );
  if (!verdicts.ok) return verdicts;
  const supported = verdicts.value.filter(Boolean).length;
  return { ok: true, value: { score: supported / judged.length, claims: judged.length } };
}

/** Judges one trace. Never rejects: every failure becomes a dimension without judgment. */
export async function judgeTrace(input: JudgeInput, deps: JudgeDependencies): Promise<TraceJudgment> {
  const usage: Usage = { calls: 0, inputTokens: 0, outputTokens: 0 };
  const noJudgment: Partial<Record<JudgedDimension, string>> = {};
  const base = { traceId: input.traceId, judgeModel: deps.policy.model, endpoint: deps.model.name, promptHash: judgePromptHash(deps.policy) };
  if (input.answer.trim().length === 0) {
    return { ...base, faithfulness: null, answerRelevance: null, misrouted: null, claims: null, noJudgment: { faithfulness: 'empty_answer', answerRelevance: 'empty_answer', misroute: 'empty_answer' }, ...usage };
  }
  const dimensions = [
    () => judgeFaithfulness(input, deps, usage),
    () => ask('answerRelevance', { question: input.question, answer: input.answer }, parseRelevance, deps, usage),
    () =>
      input.routeTier === undefined
        ? Promise.resolve<Outcome<boolean>>({ ok: false, reason: 'not_routed' })
        : ask('misroute', { question: input.question, route_tier: input.routeTier, route_tiers: deps.routeTiers.join(', ') }, parseMisroute, deps, usage),
  ] as const;
  const [faithfulness, relevance, misroute] = deps.sequentialDimensions
    ? [await dimensions[0](), await dimensions[1](), await dimensions[2]()]
    : await Promise.all([dimensions[0](), dimensions[1](), dimensions[2]()]);
  if (!faithfulness.ok) noJudgment.faithfulness = faithfulness.reason;
  if (!relevance.ok) noJudgment.answerRelevance = relevance.reason;
  if (!misroute.ok) noJudgment.misroute = misroute.reason;
  return {
    ...base,
    faithfulness: faithfulness.ok ? faithfulness.value.score : null,
    answerRelevance: relevance.ok ? relevance.value : null,
    misrouted: misroute.ok ? misroute.value : null,
    claims: faithfulness.ok ? faithfulness.value.claims : null,
    noJudgment,
    ...usage,
  };
}

/**
 * The reward's `judge` component from a judgment: faithfulness and relevance weighted by the policy's
 * `combine`, renormalised over the dimensions that were judged; null when neither was.
 */
export function judgeComponent(judgment: Pick<TraceJudgment, 'faithfulness' | 'answerRelevance'>, combine: JudgePolicy['combine']): number | null {
  let weighted = 0;
  let weight = 0;
  if (judgment.faithfulness !== null) {
    weighted += combine.faithfulness * judgment.faithfulness;
    weight += combine.faithfulness;
  }
  if (judgment.answerRelevance !== null) {
    weighted += combine.answerRelevance * judgment.answerRelevance;
    weight += combine.answerRelevance;
  }
  return weight > 0 ? weighted / weight : null;
}
