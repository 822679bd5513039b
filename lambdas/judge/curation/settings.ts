/**
 * What the daily curation's functions need: the stage's judge (endpoint, sampling, ceilings), the
 * reward policy's judge section (model, prompts, limits: what a judgment is made under), and the lake
 * tables. One JSON environment variable (CURATION_SETTINGS), validated at cold start.
 */
import { z } from 'zod';
import { DATA_BOUNDARIES } from '../../../config/boundaries';
import { judgeStageSchema } from '../../../config/judge';
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
  stage: z.string().min(1),
  boundary: z.enum(DATA_BOUNDARIES),
  rewardPolicyVersion: z.string().min(1),
  judgePolicy: judgePolicySchema,
  judge: judgeStageSchema,
  linesPerInvocation: z.number().int().min(1).max(10_000),
  metricsNamespace: z.string().min(1),
  lake: z.strictObject({
    databaseName: z.string().min(1),
    tracesTable: z.string().min(1),
    auditTable: z.string().min(1),
    feedbackTable: z.string().min(1),
    judgmentsTable: z.string().min(1),
  }),
});
export type CurationSettings = z.infer<typeof curationSettingsSchema>;

/** Parses CURATION_SETTINGS; a malformed value fails the cold start with every problem listed. */
export function curationSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): CurationSettings {
  const raw = env[CURATION_ENV.settings];
  if (raw === undefined || raw === '') throw new Error(`${CURATION_ENV.settings} is not set`);
  const parsed = curationSettingsSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`${CURATION_ENV.settings} is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
