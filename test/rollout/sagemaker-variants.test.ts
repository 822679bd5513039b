import { SAGEMAKER_NAME, desiredWeightsFor, endpointConfigNameFor, isLoopVariant, modelNameFor, variantNameFor, variantSplit, variantsWithCandidate } from '../../lambdas/rollout/sagemaker/variants';
import { packageArn, sageMakerPlan } from './helpers';

const plan = sageMakerPlan();
const where = 'endpoint e';

describe('SageMaker variant names', () => {
  it('names variants, models and endpoint configurations within SageMaker rules', () => {
    expect(variantNameFor('qwen3-4b', 4)).toBe('qwen3-4b-v4');
    expect(variantNameFor('llama4.scout', 12)).toBe('llama4-scout-v12');
    const long = 'm'.repeat(63);
    for (const name of [variantNameFor(long, 123), modelNameFor(long, 123, packageArn(123)), endpointConfigNameFor(long, 'rollout-1')]) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(SAGEMAKER_NAME);
    }
    expect(modelNameFor('qwen3-4b', 4, packageArn(4))).toMatch(/^qwen3-4b-v4-[0-9a-f]{8}$/);
    // Two stages' packages of the same model and version get different model names.
    expect(modelNameFor('qwen3-4b', 4, packageArn(4))).not.toBe(modelNameFor('qwen3-4b', 4, packageArn(4, 'sial-prod-eu-qwen3')));
    expect(endpointConfigNameFor('sial-dev-qwen3-4b', 'rollout-1')).not.toBe(endpointConfigNameFor('sial-dev-qwen3-4b', 'rollout-2'));
  });

  it("recognises the loop's own variants of a model", () => {
    expect(isLoopVariant('qwen3-4b-v4', 'qwen3-4b')).toBe(true);
    expect(isLoopVariant('qwen3-4b-v4', 'qwen3-4b-internal')).toBe(false);
    expect(isLoopVariant('AllTraffic', 'qwen3-4b')).toBe(false);
    expect(isLoopVariant(variantNameFor('m'.repeat(63), 7), 'm'.repeat(63))).toBe(true);
  });
});

describe('variantSplit', () => {
  it('reads CurrentWeight, not DesiredWeight: a weight that has not taken is not served', () => {
    const updating = [
      { VariantName: 'AllTraffic', CurrentWeight: 1, DesiredWeight: 90 },
      { VariantName: 'qwen3-4b-v4', CurrentWeight: 0, DesiredWeight: 10 },
    ];
    expect(variantSplit(updating, plan, where)).toEqual({ currentPercent: 100, candidatePercent: 0 });
    expect(variantSplit([{ VariantName: 'AllTraffic', CurrentWeight: 90 }, { VariantName: 'qwen3-4b-v4', CurrentWeight: 10 }], plan, where)).toEqual({ currentPercent: 90, candidatePercent: 10 });
  });

  it('treats a missing candidate as 0 and a zero-weight old variant as harmless, but not a serving one', () => {
    expect(variantSplit([{ VariantName: 'AllTraffic', CurrentWeight: 1 }, { VariantName: 'qwen3-4b-v2', CurrentWeight: 0 }], plan, where)).toEqual({ currentPercent: 100, candidatePercent: 0 });
    expect(() => variantSplit([{ VariantName: 'AllTraffic', CurrentWeight: 1 }, { VariantName: 'qwen3-4b-v2', CurrentWeight: 1 }], plan, where)).toThrow('also sends traffic to variant qwen3-4b-v2 50 %');
    expect(() => variantSplit([{ VariantName: 'qwen3-4b-v4', CurrentWeight: 1 }], plan, where)).toThrow('the current version is not on endpoint e');
  });
});

describe('desiredWeightsFor', () => {
  it('asks for both variants and zero for any other that carries traffic', () => {
    const variants = [
      { VariantName: 'AllTraffic', CurrentWeight: 1, DesiredWeight: 1 },
      { VariantName: 'qwen3-4b-v4', CurrentWeight: 0, DesiredWeight: 0 },
      { VariantName: 'shadow', CurrentWeight: 0.2, DesiredWeight: 0.2 },
      { VariantName: 'idle', CurrentWeight: 0, DesiredWeight: 0 },
    ];
    expect(desiredWeightsFor(variants, plan, { currentPercent: 90, candidatePercent: 10 }, where)).toEqual([
      { VariantName: 'AllTraffic', DesiredWeight: 90 },
      { VariantName: 'qwen3-4b-v4', DesiredWeight: 10 },
      { VariantName: 'shadow', DesiredWeight: 0 },
    ]);
  });

  it('asks for nothing when the endpoint already serves the split (relative weights) and nothing is pending', () => {
    const serving = [
      { VariantName: 'AllTraffic', CurrentWeight: 1, DesiredWeight: 1 },
      { VariantName: 'qwen3-4b-v4', CurrentWeight: 0, DesiredWeight: 0 },
    ];
    expect(desiredWeightsFor(serving, plan, { currentPercent: 100, candidatePercent: 0 }, where)).toEqual([]);
    const pending = [
      { VariantName: 'AllTraffic', CurrentWeight: 1, DesiredWeight: 50 },
      { VariantName: 'qwen3-4b-v4', CurrentWeight: 0, DesiredWeight: 50 },
    ];
    expect(desiredWeightsFor(pending, plan, { currentPercent: 100, candidatePercent: 0 }, where)).toHaveLength(2);
  });

  it('refuses traffic for a candidate that is not deployed, and an endpoint without the current variant', () => {
    expect(() => desiredWeightsFor([{ VariantName: 'AllTraffic', CurrentWeight: 1 }], plan, { currentPercent: 90, candidatePercent: 10 }, where)).toThrow('has no variant qwen3-4b-v4 (the candidate)');
    expect(desiredWeightsFor([{ VariantName: 'AllTraffic', CurrentWeight: 1 }], plan, { currentPercent: 100, candidatePercent: 0 }, where)).toEqual([]);
    expect(() => desiredWeightsFor([{ VariantName: 'x', CurrentWeight: 1 }], plan, { currentPercent: 100, candidatePercent: 0 }, where)).toThrow('has no variant AllTraffic (the current version)');
  });
});

describe('variantsWithCandidate', () => {
  it('keeps the variants as they serve now, drops idle earlier candidates, adds the candidate at weight 0', () => {
    const config: Array<{ VariantName: string; ModelName: string; InitialInstanceCount: number; InitialVariantWeight?: number; InstanceType?: string }> = [
      { VariantName: 'AllTraffic', ModelName: 'm-current', InitialInstanceCount: 1, InitialVariantWeight: 1, InstanceType: 'ml.g6e.2xlarge' },
      { VariantName: 'qwen3-4b-v2', ModelName: 'm-v2', InitialInstanceCount: 1, InitialVariantWeight: 0 },
      { VariantName: 'team-shadow', ModelName: 'm-shadow', InitialInstanceCount: 1, InitialVariantWeight: 0 },
    ];
    const live = [
      { VariantName: 'AllTraffic', CurrentWeight: 1, CurrentInstanceCount: 3 },
      { VariantName: 'qwen3-4b-v2', CurrentWeight: 0, CurrentInstanceCount: 1 },
      { VariantName: 'team-shadow', CurrentWeight: 0, CurrentInstanceCount: 1 },
    ];
    const candidate = { VariantName: 'qwen3-4b-v4', ModelName: 'm-v4', InitialInstanceCount: 1, InstanceType: 'ml.g6e.2xlarge' };
    expect(variantsWithCandidate(config, live, plan, candidate)).toEqual([
      // Autoscaling took the current variant to 3 instances: the new configuration must not shrink it.
      { ...config[0], InitialInstanceCount: 3, InitialVariantWeight: 1 },
      // Not ours: kept even at weight 0 (it may serve requests addressed to it by TargetVariant).
      { ...config[2], InitialInstanceCount: 1, InitialVariantWeight: 0 },
      { ...candidate, InitialVariantWeight: 0 },
    ]);
  });

  it('refuses a configuration without the current variant', () => {
    expect(() => variantsWithCandidate([{ VariantName: 'x' }], [], plan, { VariantName: 'qwen3-4b-v4' })).toThrow('has no variant AllTraffic');
  });
});
