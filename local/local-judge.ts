/**
 * The judge of local mode. A local run judges with the SIMULATED judge (deterministic rules, not a
 * language model) under the stage's reward policy's judge section; for a policy without one (v1, whose
 * judge has no weight) under the starter section, config/judge-prompts/ragas-style-v1.json. The judged
 * scores then fill the judgments table, the per-variant figures, the review sample and the backtests as
 * in a stage with a judge, and the reward is unchanged: the policy gives the judge the weight it gives it.
 * A stage without a judge of its own is judged with local cost controls (everything sampled).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JudgeStageConfig } from '../config/judge';
import type { StageConfig } from '../config/schema';
import type { RewardPolicy } from '../lambdas/gate-score/reward/policy';
import { judgePolicySchema, type JudgePolicy } from '../lambdas/judge/judge-policy';

export const STARTER_JUDGE_SECTION_FILE = join(__dirname, '..', 'config', 'judge-prompts', 'ragas-style-v1.json');

/** The judge stage settings of a local run whose stage configures none. */
export const LOCAL_JUDGE: JudgeStageConfig = {
  // Never called: local mode always judges with the simulated judge. A stage's own endpoint is kept as is.
  endpoint: { kind: 'sagemaker', endpointName: 'local-simulated-judge' },
  samplingRate: 1,
  maxTracesPerDay: 100_000,
  maxTokensPerDay: 1_000_000_000,
  maxConcurrency: 8,
  routeTiers: ['small', 'medium', 'large'],
  // Two days up to the run's start: the demo traffic starts a day before it and may run for hours.
  curation: { schedule: 'cron(30 1 * * ? *)', windowHours: 48 },
};

export interface LocalJudgeSetup {
  readonly stage: StageConfig;
  readonly policy: RewardPolicy;
  /** Where the judge section came from, for the run's output. */
  readonly source: 'policy' | 'starter';
}

export function starterJudgeSection(): JudgePolicy {
  return judgePolicySchema.parse(JSON.parse(readFileSync(STARTER_JUDGE_SECTION_FILE, 'utf8')));
}

/** The stage and policy a local run judges under (see the module comment). */
export function localJudgeSetup(stage: StageConfig, policy: RewardPolicy): LocalJudgeSetup {
  const judgedStage: StageConfig = { ...stage, judge: stage.judge ?? LOCAL_JUDGE };
  if (policy.judge !== undefined) return { stage: judgedStage, policy, source: 'policy' };
  return { stage: judgedStage, policy: { ...policy, judge: starterJudgeSection() }, source: 'starter' };
}
