/**
 * Where a stage's judge may run, and when a reward policy must define the judge.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRewardPolicy } from '../../../config/reward-policies/read';
import { parseStageConfig } from '../../../config/schema';
import { dev } from '../../../config/stages/dev';
import { prodKr } from '../../../config/stages/prod-kr';
import { rewardPolicySchema } from '../../../lambdas/gate-score/reward/policy';

const controls = { samplingRate: 0.05, maxTracesPerDay: 20_000, maxTokensPerDay: 40_000_000, maxConcurrency: 8 };
const judgePrompts: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'config', 'judge-prompts', 'ragas-style-v1.json'), 'utf8'));

describe("a stage's judge", () => {
  it('accepts a self-hosted endpoint inside the boundary and a SageMaker endpoint', () => {
    const hosted = parseStageConfig({ ...dev, judge: { endpoint: { kind: 'openai-compatible', baseUrl: 'https://judge.internal.example.com/v1', region: 'us-west-2', apiKeySecretName: 'sial/dev/judge' }, ...controls } }, 'test');
    expect(hosted.judge?.endpoint.kind).toBe('openai-compatible');
    const sagemaker = parseStageConfig({ ...dev, judge: { endpoint: { kind: 'sagemaker', endpointName: 'sial-dev-judge' }, ...controls } }, 'test');
    expect(sagemaker.judge?.endpoint).toEqual({ kind: 'sagemaker', endpointName: 'sial-dev-judge' });
  });

  it('accepts Bedrock by model id or an inference profile of its own geography, and refuses profiles that route outside', () => {
    const withBedrock = (stage: object, modelId: string) => parseStageConfig({ ...stage, judge: { endpoint: { kind: 'bedrock', modelId }, ...controls } }, 'test');
    expect(withBedrock(dev, 'anthropic.claude-3-5-haiku-20241022-v1:0').judge?.endpoint.kind).toBe('bedrock');
    expect(withBedrock(dev, 'us.anthropic.claude-3-5-haiku-20241022-v1:0').judge).toBeDefined();
    expect(() => withBedrock(dev, 'global.anthropic.claude-sonnet-4')).toThrow('a "global." inference profile can route requests outside the US boundary');
    expect(() => withBedrock(dev, 'eu.anthropic.claude-3-5-haiku-20241022-v1:0')).toThrow('judge.endpoint.modelId');
    expect(() => withBedrock(prodKr, 'apac.anthropic.claude-3-5-haiku-20241022-v1:0')).toThrow('outside the KR boundary: use a model id');
  });

  it('refuses a judge outside the stage boundary', () => {
    expect(() => parseStageConfig({ ...dev, judge: { endpoint: { kind: 'openai-compatible', baseUrl: 'https://judge.example.com/v1', region: 'eu-central-1' }, ...controls } }, 'test')).toThrow(
      'judge.endpoint.region: received "eu-central-1"; the judge reads trace text and must run inside the US boundary',
    );
  });

  it.each(['http://judge.example.com/v1', 'https://user:secret@judge.example.com/v1', 'ftp://judge', 'not a url'])('refuses the base URL %s', (baseUrl) => {
    expect(() => parseStageConfig({ ...dev, judge: { endpoint: { kind: 'openai-compatible', baseUrl, region: 'us-east-1' }, ...controls } }, 'test')).toThrow('judge.endpoint.baseUrl');
  });

  it('allows plain HTTP only to this machine (a local endpoint)', () => {
    expect(parseStageConfig({ ...dev, judge: { endpoint: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:8000/v1', region: 'us-east-1' }, ...controls } }, 'test').judge).toBeDefined();
  });
});

describe('a reward policy and its judge', () => {
  const v1 = readRewardPolicy('v1');

  it('needs the judge section once the judge has weight', () => {
    const weighted = { ...v1, weights: { ...v1.weights, groundedness: 0.2, judge: 0.1 } };
    expect(rewardPolicySchema.safeParse(weighted).error?.issues.map((i) => i.message)).toEqual(['a policy that gives the judge weight must define the judge (model, prompts, limits)']);
    expect(rewardPolicySchema.safeParse({ ...weighted, judge: judgePrompts }).success).toBe(true);
  });

  it('keeps v1 as it was: no judge, no judge weight', () => {
    expect(v1.judge).toBeUndefined();
    expect(v1.weights.judge).toBe(0);
  });
});
