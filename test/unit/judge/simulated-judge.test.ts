/**
 * The simulated judge answers the shipped prompts in their JSON, through the real judging code, and
 * says what it is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgePolicySchema } from '../../../lambdas/judge/judge-policy';
import { judgeTrace } from '../../../lambdas/judge/judge-trace';
import { SimulatedJudgeModel } from '../../../local/simulated-judge';

const policy = judgePolicySchema.parse(JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'config', 'judge-prompts', 'ragas-style-v1.json'), 'utf8')));
const input = {
  traceId: 'tr-1',
  question: 'How long do refunds take for annual plans?',
  answer: 'Refunds for annual plans are accepted within thirty days. Shipping to Mars is free.',
  contexts: ['Refunds for annual plans are accepted within thirty days of purchase.'],
  routeTier: 'small',
};

describe('SimulatedJudgeModel', () => {
  it('is labelled as a simulation', () => {
    expect(new SimulatedJudgeModel(policy).name).toMatch(/^simulated-judge .*not a language model/);
  });

  it('judges a trace through the real judge: one claim supported of two, relevance from shared words', async () => {
    const judgment = await judgeTrace(input, { model: new SimulatedJudgeModel(policy, { misrouteRate: 0 }), policy, routeTiers: ['small', 'large'] });
    expect(judgment).toMatchObject({ faithfulness: 0.5, claims: 2, misrouted: false, noJudgment: {} });
    expect(judgment.answerRelevance).toBeGreaterThan(0.5);
  });

  it('flips verdicts at the configured disagreement, deterministically', async () => {
    const deps = { model: new SimulatedJudgeModel(policy, { disagreement: 1 }), policy, routeTiers: ['small', 'large'] };
    const first = await judgeTrace(input, deps);
    expect(first.faithfulness).toBe(0.5); // both verdicts flipped: the unsupported claim now passes, the supported one fails
    expect((await judgeTrace(input, deps)).faithfulness).toBe(first.faithfulness);
  });

  it('answers a prompt it does not recognise with prose, which the judge reads as malformed', async () => {
    const other = new SimulatedJudgeModel(policy);
    const completion = await other.complete({ model: 'm', system: 'something else', user: 'x', temperature: 0, maxOutputTokens: 10 });
    expect(completion.text).not.toContain('{');
  });
});
