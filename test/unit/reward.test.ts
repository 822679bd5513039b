import policyJson from '../../config/reward-policies/v1.json';
import { estimateGroundedness } from '../../lambdas/gate-score/reward/groundedness';
import { rewardPolicySchema, type RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { errorsComponent, feedbackComponent, latencyComponent, scoreTrace } from '../../lambdas/gate-score/reward/score';
import { makeTrace } from '../helpers/trace-factory';

const policy: RewardPolicy = rewardPolicySchema.parse(policyJson);
const settings = policy.components.groundedness;

describe('reward policy file', () => {
  it('validates and its weights sum to 1', () => {
    expect(policy.version).toBe('v1');
    expect(Object.values(policy.weights).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('rejects weights that do not sum to 1, naming the field', () => {
    const bad = { ...policyJson, weights: { ...policyJson.weights, feedback: 0.9 } };
    const result = rewardPolicySchema.safeParse(bad);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['weights']);
    expect(result.error?.issues[0]?.message).toMatch(/sum to 1, received a sum of 1\.5/);
  });
});

describe('groundedness estimate', () => {
  it('is 1 when every answer sentence is supported by the contexts', () => {
    expect(estimateGroundedness('Refunds are possible within thirty days.', ['Refunds are possible within thirty days of purchase.'], settings)).toBe(1);
  });

  it('counts unsupported sentences', () => {
    const answer = 'Refunds are possible within thirty days. Shipping to Jupiter costs nothing extra.';
    expect(estimateGroundedness(answer, ['Refunds are possible within thirty days of purchase.'], settings)).toBe(0.5);
  });

  it('is undefined without contexts or content words', () => {
    expect(estimateGroundedness('anything', [], settings)).toBeUndefined();
    expect(estimateGroundedness('?! ..', ['some context here'], settings)).toBeUndefined();
  });

  it('works on non-Latin scripts', () => {
    expect(estimateGroundedness('환불은 삼십일 이내 가능합니다.', ['연간 요금제 환불은 삼십일 이내 가능합니다'], { ...settings, minTokenLength: 2 })).toBe(1);
  });
});

describe('reward components', () => {
  it('scores feedback from the outcome, blended with quality when both exist', () => {
    expect(feedbackComponent(makeTrace({ feedback: { outcome: 'success' } }), policy)).toBe(1);
    expect(feedbackComponent(makeTrace({ feedback: { outcome: 'user_rejected' } }), policy)).toBe(0);
    expect(feedbackComponent(makeTrace({ feedback: { quality: 7 } }), policy)).toBeCloseTo(0.7);
    expect(feedbackComponent(makeTrace({ feedback: { outcome: 'fallback', quality: 10 } }), policy)).toBeCloseTo(0.5 * 0.4 + 0.5 * 1);
    expect(feedbackComponent(makeTrace({ feedback: undefined }), policy)).toBeNull();
  });

  it('penalises request errors and each failed tool call', () => {
    expect(errorsComponent(makeTrace({ error: true }), policy)).toBe(0);
    const failing = { name: 'search', arguments: '{}', status: 'error' as const };
    expect(errorsComponent(makeTrace({ tool_calls: [failing] }), policy)).toBe(0.75);
    expect(errorsComponent(makeTrace({ tool_calls: [failing, failing, failing, failing, failing] }), policy)).toBe(0);
  });

  it('scores latency against the SLO linearly between the policy bounds', () => {
    expect(latencyComponent(makeTrace({ latency_ms: 1000 }), policy, 2000)).toBe(1);
    expect(latencyComponent(makeTrace({ latency_ms: 4000 }), policy, 2000)).toBeCloseTo(0.5);
    expect(latencyComponent(makeTrace({ latency_ms: 9000 }), policy, 2000)).toBe(0);
    expect(latencyComponent(makeTrace({ latency_ms: undefined }), policy, 2000)).toBeNull();
  });
});

describe('scoreTrace', () => {
  it('renormalises over the components that have evidence and stamps the policy version', () => {
    // No feedback, no judge: errors 1 (w .2), latency 1 (w .1), groundedness 1 (w .3) -> 1.
    const reward = scoreTrace(makeTrace({ feedback: undefined }), policy, 2000);
    expect(reward.components).toEqual({ feedback: null, errors: 1, latency: 1, groundedness: 1, judge: null });
    expect(reward.reward).toBe(1);
    expect(reward.policyVersion).toBe('v1');
  });

  it('combines weighted components', () => {
    const trace = makeTrace({ feedback: { outcome: 'user_rejected' }, latency_ms: undefined, retrieved_contexts: [] });
    // feedback 0 (w .4) and errors 1 (w .2) -> 0.2 / 0.6
    expect(scoreTrace(trace, policy, 2000).reward).toBeCloseTo(1 / 3);
  });

  it('stays within [0, 1]', () => {
    const trace = makeTrace({ error: true, feedback: { outcome: 'error', quality: 0 }, latency_ms: 1e7, output: 'Unrelated words entirely.' });
    const reward = scoreTrace(trace, policy, 100);
    expect(reward.reward).toBe(0);
  });
});
