/**
 * A stage's judge: which endpoint judges its traces, and the cost controls. The judge reads masked
 * trace text, so it must run inside the stage's data boundary: a self-hosted OpenAI-compatible fleet
 * in a region of the boundary (declared, and reachable over HTTPS), Bedrock in the stage's own region
 * (cross-region inference profiles only when their geography lies inside the boundary), or a SageMaker
 * endpoint of the stage's own account and region.
 *
 * Judging may use a shared or managed model; *training* may not (target models are self-hosted open
 * weights only, see the target-model rules). The two rules are separate: a judge is never trained.
 */
import * as z from '../lambdas/shared/zod-mini';
import { BOUNDARY_REGIONS, type DataBoundary } from './boundaries';

const awsRegion = z.string().check(z.regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region code such as eu-central-1'));
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
      baseUrl: z.string().check(z.refine(allowedBaseUrl, 'must be an https:// URL without credentials (http:// only for localhost)')),
      /** Where the fleet runs: must be a region of the stage's boundary. */
      region: awsRegion,
      /** Secrets Manager secret holding the bearer token, if the endpoint needs one. */
      apiKeySecretName: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
    }),
    z.strictObject({
      kind: z.literal('bedrock'),
      /** A model id, or a cross-region inference profile of the stage's own geography (`eu.`, `us.`). */
      modelId: z.string().check(z.minLength(1), z.maxLength(256)),
    }),
    z.strictObject({
      kind: z.literal('sagemaker'),
      /** Endpoint name in the stage's account and region. */
      endpointName: z.string().check(z.regex(SAGEMAKER_ENDPOINT_NAME, 'must be a SageMaker endpoint name')),
    }),
  ]),
  /** Share of each day's kept traces judged, 0..1. */
  samplingRate: z.number().check(z.gte(0), z.lte(1)),
  maxTracesPerDay: z.number().check(z.int(), z.gte(0)),
  maxTokensPerDay: z.number().check(z.int(), z.gte(0)),
  /** Traces judged at once. */
  maxConcurrency: z.number().check(z.int(), z.gte(1), z.lte(64)),
  /**
   * The serving tiers a router chooses from, cheapest first (the misroute prompt offers them). Absent:
   * the stage has no cascade router, and misroute is not judged.
   */
  routeTiers: z.optional(z.array(z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a tier label (letters, digits, . _ -)'))).check(z.minLength(1))),
  /**
   * When the daily curation runs (EventBridge Scheduler cron, in the stage's schedule time zone), and how
   * many hours of traces, ending at the start of the run's hour, it judges.
   */
  curation: z._default(z.strictObject({ schedule: z.string().check(z.regex(/^cron\(.+\)$/, 'must be a cron(...) expression')), windowHours: z.number().check(z.int(), z.gte(1), z.lte(168)) }), { schedule: 'cron(30 1 * * ? *)', windowHours: 24 }),
});

export type JudgeStageConfig = z.infer<typeof judgeStageSchema>;

/**
 * Bedrock cross-region inference profiles route requests to other regions of a geography: allowed only
 * where every region of the geography is inside the boundary. `global.` profiles route anywhere.
 */
const INFERENCE_PROFILE_PREFIXES: Readonly<Record<DataBoundary, readonly string[]>> = { US: ['us.'], EU: ['eu.'], KR: [] };
const ANY_PROFILE_PREFIX = /^(us|eu|apac|jp|au|ca|us-gov|global)\./;

/** Problems with a stage's judge against its boundary (empty when it fits). */
export function judgeBoundaryProblems(judge: JudgeStageConfig | undefined, boundary: DataBoundary): string[] {
  if (judge === undefined) return [];
  const { endpoint } = judge;
  if (endpoint.kind === 'openai-compatible') {
    const allowed = BOUNDARY_REGIONS[boundary];
    return allowed.includes(endpoint.region)
      ? []
      : [`judge.endpoint.region: received "${endpoint.region}"; the judge reads trace text and must run inside the ${boundary} boundary: one of ${allowed.join(', ')}`];
  }
  if (endpoint.kind === 'bedrock') {
    const prefix = ANY_PROFILE_PREFIX.exec(endpoint.modelId)?.[0];
    if (prefix !== undefined && !INFERENCE_PROFILE_PREFIXES[boundary].includes(prefix)) {
      return [`judge.endpoint.modelId: received "${endpoint.modelId}"; a "${prefix}" inference profile can route requests outside the ${boundary} boundary: use a model id (called in the stage's region)${INFERENCE_PROFILE_PREFIXES[boundary].length > 0 ? ` or a ${INFERENCE_PROFILE_PREFIXES[boundary].join('/')} profile` : ''}`];
    }
  }
  return [];
}
