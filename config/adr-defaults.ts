/**
 * The numbers the ADRs agreed (DESIGN.md section 4), as defaults each stage file spreads and may
 * override. Changing one here changes every stage that does not override it.
 */
import type { EligibilityConfig, EvalGateConfig, GpuBudgetConfig, TrainingConfig } from './schema';

/** Seed 003: >= 100 positive feedback in 30 days, >= 50 high-quality traces, no training in 7 days. */
export const ADR_ELIGIBILITY: EligibilityConfig = {
  minPositiveFeedback: 100,
  positiveFeedbackWindowDays: 30,
  minHighQualityTraces: 50,
  highQualityReward: 0.8,
  cooldownDays: 7,
};

/** ADR section 5: 1,000 GPU-hours a month on p5en Spot; alarm at 80 %. */
export const ADR_GPU_BUDGET: GpuBudgetConfig = { monthlyCeilingGpuHours: 1000, alarmAtFraction: 0.8 };

/** Seed 001 / ADR: faithfulness >= 0.85 and no metric worse than production by more than 1 point. */
export const ADR_EVAL_GATE: EvalGateConfig = { minFaithfulness: 0.85, maxRegression: 0.01 };

/** ADR section 6: the last 3 approved model versions stay deployable. */
export const ADR_RETAIN_APPROVED_MODEL_VERSIONS = 3;

/** One p5en.48xlarge (8 x H200) on Spot, single node: multi-node Batch jobs cannot use Spot. */
export const P5EN_SPOT_TRAINING: Omit<TrainingConfig, 'baseModelUris' | 'servingImageUri'> = {
  instanceTypes: ['p5en.48xlarge'],
  gpusPerJob: 8,
  vcpusPerJob: 192,
  memoryMiBPerJob: 1_900_000,
  maxSpotVcpus: 192,
  onDemandFallbackMaxVcpus: 0,
  maxJobHours: 12,
  attempts: 3,
  algorithm: 'grpo',
  hyperparameters: { learning_rate: 1e-6, num_generations: 8, max_steps: 500 },
  image: { kind: 'asset' },
};
