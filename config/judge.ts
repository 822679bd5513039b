/**
 * A stage's judge: which endpoint judges its traces, and the cost controls. The judge reads masked
 * trace text, so it must run inside the stage's data boundary: a self-hosted OpenAI-compatible fleet
 * in a region of the boundary (declared, and reachable over HTTPS), or a SageMaker endpoint of the
 * stage's own account and region.
 *
 * Judging may use a shared or managed model; *training* may not (target models are self-hosted open
 * weights only, see the target-model rules). The two rules are separate: a judge is never trained.
 */
import { z } from 'zod';
import { BOUNDARY_REGIONS, type DataBoundary } from './boundaries';

const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region code such as eu-central-1');
const SAGEMAKER_ENDPOINT_NAME = /^[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}$/;

/** HTTPS, or plain HTTP to this machine only (a local endpoint for tests and the bench). */
function allowedBaseUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '') return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
}

export const judgeStageSchema = z.strictObject({
  endpoint: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('openai-compatible'),
      /** e.g. `https://judge.internal.example.com/v1` */
      baseUrl: z.string().refine(allowedBaseUrl, 'must be an https:// URL without credentials (http:// only for localhost)'),
      /** Where the fleet runs: must be a region of the stage's boundary. */
      region: awsRegion,
      /** Secrets Manager secret holding the bearer token, if the endpoint needs one. */
      apiKeySecretName: z.string().min(1).max(512).optional(),
    }),
    z.strictObject({
      kind: z.literal('sagemaker'),
      /** Endpoint name in the stage's account and region. */
      endpointName: z.string().regex(SAGEMAKER_ENDPOINT_NAME, 'must be a SageMaker endpoint name'),
    }),
  ]),
  /** Share of each day's kept traces judged, 0..1. */
  samplingRate: z.number().min(0).max(1),
  maxTracesPerDay: z.number().int().min(0),
  maxTokensPerDay: z.number().int().min(0),
  /** Traces judged at once. */
  maxConcurrency: z.number().int().min(1).max(64),
});

export type JudgeStageConfig = z.infer<typeof judgeStageSchema>;

/** Problems with a stage's judge against its boundary (empty when it fits). */
export function judgeBoundaryProblems(judge: JudgeStageConfig | undefined, boundary: DataBoundary): string[] {
  if (judge === undefined || judge.endpoint.kind !== 'openai-compatible') return [];
  const allowed = BOUNDARY_REGIONS[boundary];
  return allowed.includes(judge.endpoint.region)
    ? []
    : [`judge.endpoint.region: received "${judge.endpoint.region}"; the judge reads trace text and must run inside the ${boundary} boundary: one of ${allowed.join(', ')}`];
}
