/**
 * The judge domain: the policy's judge section, reading answers, judging a trace (retries, no-judgment
 * outcomes, the Ragas faithfulness arithmetic) and judging a batch within its cost controls.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractJsonObject, parseClaims, parseVerdicts } from '../../../lambdas/judge/judge-answers';
import { isSampled, judgeBatch, worstCaseTokens } from '../../../lambdas/judge/judge-batch';
import { TransientJudgeError, type JudgeCompletion, type JudgeCompletionRequest, type JudgeModel } from '../../../lambdas/judge/judge-model';
import { judgePolicySchema, judgePromptHash, renderTemplate, type JudgePolicy, type JudgeStep } from '../../../lambdas/judge/judge-policy';
import { judgeComponent, judgeTrace, type JudgeInput } from '../../../lambdas/judge/judge-trace';

const policyFile = join(__dirname, '..', '..', '..', 'config', 'judge-prompts', 'ragas-style-v1.json');
const policy: JudgePolicy = judgePolicySchema.parse(JSON.parse(readFileSync(policyFile, 'utf8')));

type Answer = string | Error | JudgeCompletion;

/** A judge endpoint that answers each step from a script (one entry per call, the last repeated). */
class ScriptedJudge implements JudgeModel {
  readonly name = 'scripted-test-judge';
  readonly requests: Array<{ step: JudgeStep; request: JudgeCompletionRequest }> = [];
  private readonly calls = new Map<JudgeStep, number>();

  constructor(private readonly script: Partial<Record<JudgeStep, Answer[]>>) {}

  async complete(request: JudgeCompletionRequest): Promise<JudgeCompletion> {
    const step = (Object.keys(policy.prompts) as JudgeStep[]).find((s) => request.system.startsWith(policy.prompts[s].system.split('{{')[0] as string));
    if (step === undefined) throw new Error('unknown step');
    this.requests.push({ step, request });
    const n = this.calls.get(step) ?? 0;
    this.calls.set(step, n + 1);
    const answers = this.script[step] ?? ['{}'];
    const answer = answers[Math.min(n, answers.length - 1)] as Answer;
    if (answer instanceof Error) throw answer;
    return typeof answer === 'string' ? { text: answer, inputTokens: 100, outputTokens: 20, truncated: false } : answer;
  }
}

const input: JudgeInput = {
  traceId: 'tr-1',
  question: 'How long do I have to ask for a refund?',
  answer: 'Refunds are possible within 30 days. Annual plans are prorated. Shipping is free.',
  contexts: ['Refunds are accepted within 30 days of purchase.', 'Annual plans are refunded pro rata.'],
  routeTier: 'small',
};
const noSleep = async (): Promise<void> => undefined;
const deps = (model: JudgeModel) => ({ model, policy, routeTiers: ['small', 'large'], sleep: noSleep, random: () => 0.5 });

describe('the judge section of a reward policy', () => {
  it('ships Ragas-style prompts that validate', () => {
    expect(policy.prompts.verdicts.user).toContain('{{contexts}}');
  });

  it('refuses a prompt that leaves out its evidence, an unknown placeholder, and weights that do not sum to 1', () => {
    const broken = structuredClone(policy) as unknown as { prompts: { verdicts: { user: string } }; combine: { faithfulness: number } };
    broken.prompts.verdicts.user = 'Claims: {{claims}} {{contxts}}';
    broken.combine.faithfulness = 0.5;
    const messages = judgePolicySchema.safeParse(broken).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(messages).toEqual(
      expect.arrayContaining([
        'prompts.verdicts: must use the placeholder {{contexts}}',
        'prompts.verdicts: unknown placeholder {{contxts}}; known: question, answer, contexts, claims, route_tier, route_tiers',
        'combine: must sum to 1, received a sum of 0.8',
      ]),
    );
  });

  it('hashes what shapes a judgment, independent of key order, and not the combination weights', () => {
    // Keys in another order at every level (not parsed: a parse would restore the schema's order).
    const reverse = (value: unknown): unknown =>
      typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverse(v)])) : value;
    const reordered = reverse(policy) as JudgePolicy;
    expect(Object.keys(reordered)[0]).toBe('combine');
    expect(judgePromptHash(reordered)).toBe(judgePromptHash(policy));
    expect(judgePromptHash({ ...policy, combine: { faithfulness: 0.5, answerRelevance: 0.5 } })).toBe(judgePromptHash(policy));
    expect(judgePromptHash({ ...policy, temperature: 0.7 })).not.toBe(judgePromptHash(policy));
    expect(judgePromptHash(policy)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('renders placeholders once: text that looks like a placeholder, or $ patterns, stay literal', () => {
    expect(renderTemplate('Q: {{question}} A: {{answer}}', { question: 'why {{answer}}?', answer: '$& $1' })).toBe('Q: why {{answer}}? A: $& $1');
    expect(() => renderTemplate('{{claims}}', {})).toThrow('{{claims}} has no value');
  });
});

describe("reading a judge's answer", () => {
  it('finds the JSON object in prose, code fences or alone', () => {
    expect(extractJsonObject('{"score": 0.5}')).toEqual({ score: 0.5 });
    expect(extractJsonObject('Sure!\n```json\n{"score": 1}\n```\nHope it helps')).toEqual({ score: 1 });
    expect(extractJsonObject('Here: {"claims": ["a"]} done')).toEqual({ claims: ['a'] });
    expect(extractJsonObject('I cannot help with that.')).toBeUndefined();
    expect(extractJsonObject('[1, 2]')).toBeUndefined();
  });

  it('treats a truncated answer as malformed even when it parses', () => {
    expect(parseClaims('{"claims": ["a"]}', true)).toEqual({ ok: false, problem: 'truncated' });
  });

  it('needs exactly one verdict per claim', () => {
    expect(parseVerdicts('{"verdicts": [{"claim": 1, "supported": true}, {"claim": 2, "supported": false}]}', false, 2)).toEqual({ ok: true, value: [true, false] });
    expect(parseVerdicts('{"verdicts": [{"claim": 1, "supported": true}]}', false, 2)).toEqual({ ok: false, problem: 'incomplete_verdicts' });
    expect(parseVerdicts('{"verdicts": [{"claim": 1, "supported": true}, {"claim": 1, "supported": false}]}', false, 2)).toEqual({ ok: false, problem: 'incomplete_verdicts' });
    expect(parseVerdicts('{"verdicts": [{"claim": 3, "supported": true}]}', false, 2)).toEqual({ ok: false, problem: 'incomplete_verdicts' });
    expect(parseVerdicts('{"verdicts": [{"claim": "1", "supported": "yes"}]}', false, 1)).toEqual({ ok: false, problem: 'schema' });
  });
});

describe('judging a trace', () => {
  const good = {
    claims: ['{"claims": ["Refunds are possible within 30 days.", "Annual plans are prorated.", "Shipping is free."]}'],
    verdicts: ['{"verdicts": [{"claim": 1, "supported": true}, {"claim": 2, "supported": true}, {"claim": 3, "supported": false}]}'],
    answerRelevance: ['{"score": 0.9}'],
    misroute: ['{"misrouted": false}'],
  };

  it('scores faithfulness as supported claims / claims, with relevance and misroute, stamped with model and prompt hash', async () => {
    const model = new ScriptedJudge(good);
    const judgment = await judgeTrace(input, deps(model));
    expect(judgment).toMatchObject({
      traceId: 'tr-1',
      judgeModel: policy.model,
      endpoint: 'scripted-test-judge',
      promptHash: judgePromptHash(policy),
      faithfulness: 2 / 3,
      answerRelevance: 0.9,
      misrouted: false,
      claims: 3,
      noJudgment: {},
      calls: 4,
      inputTokens: 400,
      outputTokens: 80,
    });
    // The verdicts prompt carries the numbered contexts and claims; the misroute prompt the tiers.
    const verdicts = model.requests.find((r) => r.step === 'verdicts')?.request.user ?? '';
    expect(verdicts).toContain('[1] Refunds are accepted within 30 days of purchase.');
    expect(verdicts).toContain('3. Shipping is free.');
    expect(model.requests.find((r) => r.step === 'misroute')?.request.system).toContain('small, large');
    expect(model.requests.every((r) => r.request.temperature === 0 && r.request.model === policy.model)).toBe(true);
  });

  it('retries a malformed answer and a transient endpoint error, then succeeds', async () => {
    const sleeps: number[] = [];
    const model = new ScriptedJudge({ ...good, answerRelevance: ['I refuse.', new TransientJudgeError('429'), '{"score": 0.4}'] });
    const judgment = await judgeTrace(input, { ...deps(model), sleep: async (ms: number) => void sleeps.push(ms) });
    expect(judgment.answerRelevance).toBe(0.4);
    expect(sleeps).toHaveLength(1); // backoff only after the transient error, not after the malformed answer
  });

  it('records no judgment, with its reason, when every attempt fails; never a score', async () => {
    const model = new ScriptedJudge({
      ...good,
      claims: ['{"claims": "not a list"}'],
      answerRelevance: [new TransientJudgeError('503')],
      misroute: [new TypeError('boom')],
    });
    const judgment = await judgeTrace(input, deps(model));
    expect(judgment).toMatchObject({ faithfulness: null, answerRelevance: null, misrouted: null, claims: null });
    expect(judgment.noJudgment).toEqual({ faithfulness: 'malformed_answer: schema', answerRelevance: 'endpoint_error: TransientJudgeError', misroute: 'endpoint_error: TypeError' });
    // Malformed and transient answers use every attempt; a final error stops at once.
    expect(model.requests.filter((r) => r.step === 'claims')).toHaveLength(policy.maxAttempts);
    expect(model.requests.filter((r) => r.step === 'answerRelevance')).toHaveLength(policy.maxAttempts);
    expect(model.requests.filter((r) => r.step === 'misroute')).toHaveLength(1);
    expect(judgeComponent(judgment, policy.combine)).toBeNull();
  });

  it('does not call the judge for what cannot be judged: no contexts, no route tier, an empty answer, no claims', async () => {
    const model = new ScriptedJudge({ ...good, claims: ['{"claims": []}'] });
    const { routeTier: _tier, ...unrouted } = input;
    const judgment = await judgeTrace({ ...unrouted, contexts: [' '] }, deps(model));
    expect(judgment.noJudgment).toEqual({ faithfulness: 'no_contexts', misroute: 'not_routed' });
    expect(model.requests.map((r) => r.step)).toEqual(['answerRelevance']);
    const noClaims = await judgeTrace(input, deps(model));
    expect(noClaims.noJudgment.faithfulness).toBe('no_claims');
    const empty = await judgeTrace({ ...input, answer: '   ' }, deps(new ScriptedJudge(good)));
    expect(empty).toMatchObject({ calls: 0, faithfulness: null, noJudgment: { faithfulness: 'empty_answer' } });
  });

  it('judges at most maxClaims claims', async () => {
    const claims = Array.from({ length: 30 }, (_, i) => `claim ${i}`);
    const verdicts = Array.from({ length: policy.maxClaims }, (_, i) => ({ claim: i + 1, supported: i % 2 === 0 }));
    const model = new ScriptedJudge({ ...good, claims: [JSON.stringify({ claims })], verdicts: [JSON.stringify({ verdicts })] });
    const judgment = await judgeTrace(input, deps(model));
    expect(judgment.claims).toBe(policy.maxClaims);
    expect(judgment.faithfulness).toBe(0.5);
  });

  it('combines faithfulness and relevance into the reward component, renormalising over what was judged', () => {
    expect(judgeComponent({ faithfulness: 1, answerRelevance: 0 }, { faithfulness: 0.7, answerRelevance: 0.3 })).toBeCloseTo(0.7);
    expect(judgeComponent({ faithfulness: null, answerRelevance: 0.4 }, { faithfulness: 0.7, answerRelevance: 0.3 })).toBeCloseTo(0.4);
  });
});

/** Wraps a judge so each call takes a moment, and counts the most calls in flight at once. */
function slowJudge(inner: JudgeModel): JudgeModel & { peak: () => number } {
  let inFlight = 0;
  let peak = 0;
  return {
    name: 'slow',
    peak: () => peak,
    complete: async (request) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight -= 1;
      return inner.complete(request);
    },
  };
}

describe('judging a batch within the cost controls', () => {
  const inputs: JudgeInput[] = Array.from({ length: 40 }, (_, i) => ({ ...input, traceId: `tr-${i}` }));
  const good = {
    claims: ['{"claims": ["a"]}'],
    verdicts: ['{"verdicts": [{"claim": 1, "supported": true}]}'],
    answerRelevance: ['{"score": 1}'],
    misroute: ['{"misrouted": false}'],
  };
  const controls = { samplingRate: 1, maxTracesPerDay: 1_000, maxTokensPerDay: 10_000_000, maxConcurrency: 4 };

  it('samples deterministically: the same traces under the same salt, a share close to the rate', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `trace-${i}`);
    const sampled = ids.filter((id) => isSampled(id, 0.2, 'salt-a'));
    expect(sampled.length / ids.length).toBeGreaterThan(0.18);
    expect(sampled.length / ids.length).toBeLessThan(0.22);
    expect(ids.filter((id) => isSampled(id, 0.2, 'salt-a'))).toEqual(sampled);
    expect(ids.filter((id) => isSampled(id, 0.2, 'salt-b'))).not.toEqual(sampled);
  });

  it('stops at the daily trace ceiling, counting earlier runs of the day', async () => {
    const result = await judgeBatch(inputs, { ...deps(new ScriptedJudge(good)), controls: { ...controls, maxTracesPerDay: 25 }, usedToday: { traces: 10, tokens: 0 }, sampleSalt: 's' });
    expect(result.judgments).toHaveLength(15);
    expect(result.skipped.filter((s) => s.reason === 'daily_trace_ceiling')).toHaveLength(25);
    expect(result.usageToday.traces).toBe(25);
  });

  it('never exceeds the daily token ceiling, even with traces in flight', async () => {
    const perTrace = worstCaseTokens(inputs[0] as JudgeInput, policy);
    const ceiling = perTrace * 3 + 10;
    const result = await judgeBatch(inputs, { ...deps(new ScriptedJudge(good)), controls: { ...controls, maxTokensPerDay: ceiling }, usedToday: { traces: 0, tokens: 0 }, sampleSalt: 's' });
    expect(result.usageToday.tokens).toBeLessThanOrEqual(ceiling);
    expect(result.judgments.length).toBeGreaterThanOrEqual(3);
    expect(result.skipped.every((s) => s.reason === 'daily_token_ceiling')).toBe(true);
    expect(result.judgments.length + result.skipped.length).toBe(inputs.length);
  });

  it('keeps at most maxConcurrency requests in flight', async () => {
    const slow = slowJudge(new ScriptedJudge(good));
    // Each trace runs its relevance, misroute and faithfulness chains at once: up to 3 requests per trace.
    await judgeBatch(inputs.slice(0, 12), { ...deps(slow), controls: { ...controls, maxConcurrency: 2 }, usedToday: { traces: 0, tokens: 0 }, sampleSalt: 's' });
    expect(slow.peak()).toBeLessThanOrEqual(2 * 3);
    expect(slow.peak()).toBeGreaterThan(3);
  });

  it('sends one request at a time when the dimensions are sequential (an endpoint with one slot)', async () => {
    const slow = slowJudge(new ScriptedJudge(good));
    const result = await judgeBatch(inputs.slice(0, 3), { ...deps(slow), sequentialDimensions: true, controls: { ...controls, maxConcurrency: 1 }, usedToday: { traces: 0, tokens: 0 }, sampleSalt: 's' });
    expect(slow.peak()).toBe(1);
    expect(result.judgments.every((j) => j.calls === 4)).toBe(true);
  });

  it('skips what is not sampled, with its reason, and keeps input order', async () => {
    const result = await judgeBatch(inputs, { ...deps(new ScriptedJudge(good)), controls: { ...controls, samplingRate: 0.5 }, usedToday: { traces: 0, tokens: 0 }, sampleSalt: 'salt' });
    expect(result.judgments.length + result.skipped.length).toBe(inputs.length);
    expect(result.skipped.every((s) => s.reason === 'not_sampled')).toBe(true);
    const order = result.judgments.map((j) => Number(j.traceId.slice(3)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});
