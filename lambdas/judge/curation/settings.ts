/**
 * What the daily curation's functions need: the stage's judge (endpoint, sampling, ceilings), the
 * reward policy's judge section (model, prompts, limits: what a judgment is made under), and the lake
 * tables. One JSON environment variable (CURATION_SETTINGS), validated at cold start.
 */
import * as z from '../../shared/zod-mini';
import { DATA_BOUNDARIES } from '../../../config/boundaries';
import { judgeStageSchema } from '../../../config/judge';
import type { StageConfig } from '../../../config/schema';
import type { RewardPolicy } from '../../gate-score/reward/policy';
import { lakeSettingsSchema } from '../../pipeline/lake-settings';
import { judgePolicySchema } from '../judge-policy';

export const CURATION_ENV = {
  settings: 'CURATION_SETTINGS',
  athenaWorkGroup: 'ATHENA_WORKGROUP',
  /** s3:// prefix the candidate files are written under (one folder per execution). */
  workPrefix: 'CURATION_WORK_PREFIX',
  judgmentStream: 'JUDGMENT_STREAM_NAME',
} as const;

/** Candidate lines one invocation of the judging function reads (then it hands back to the state machine). */
export const DEFAULT_LINES_PER_INVOCATION = 400;

export const curationSettingsSchema = z.strictObject({
  stage: z.string().check(z.minLength(1)),
  boundary: z.enum(DATA_BOUNDARIES),
  rewardPolicyVersion: z.string().check(z.minLength(1)),
  judgePolicy: judgePolicySchema,
  judge: judgeStageSchema,
  linesPerInvocation: z.number().check(z.int(), z.gte(1), z.lte(10_000)),
  metricsNamespace: z.string().check(z.minLength(1)),
  /** The lake's Glue database and table names, as the pipeline's functions get them. */
  lake: lakeSettingsSchema,
});
export type CurationSettings = z.infer<typeof curationSettingsSchema>;

/**
 * The curation settings of a stage, or undefined when it has no judge. A stage with a judge needs a
 * reward policy that defines one (what judgments are made under).
 */
export function curationSettingsFromStage(
  stage: StageConfig,
  policy: RewardPolicy,
  lake: CurationSettings['lake'],
  linesPerInvocation: number = DEFAULT_LINES_PER_INVOCATION,
): CurationSettings | undefined {
  if (stage.judge === undefined) return undefined;
  if (policy.version !== stage.rewardPolicyVersion) throw new Error(`curation settings: the reward policy given is ${policy.version} but the stage names ${stage.rewardPolicyVersion}`);
  if (policy.judge === undefined) {
    throw new Error(`stage ${stage.stage} configures a judge, but its reward policy ${policy.version} defines none: add a judge section to the policy (config/judge-prompts/ has one to start from) or remove the stage's judge`);
  }
  return curationSettingsSchema.parse({
    stage: stage.stage,
    boundary: stage.dataBoundary,
    rewardPolicyVersion: policy.version,
    judgePolicy: policy.judge,
    judge: stage.judge,
    linesPerInvocation,
    metricsNamespace: stage.metricsNamespace,
    lake,
  });
}

/** Parses CURATION_SETTINGS; a malformed value fails the cold start with every problem listed. */
export function curationSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): CurationSettings {
  const raw = env[CURATION_ENV.settings];
  if (raw === undefined || raw === '') throw new Error(`${CURATION_ENV.settings} is not set`);
  const parsed = curationSettingsSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`${CURATION_ENV.settings} is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
