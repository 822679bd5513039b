/**
 * What the daily report workflow's function needs, as one JSON environment variable (OPERATING_REPORTS),
 * checked at cold start with a plain type guard (no schema library in this bundle).
 */
import type { ConfidenceSettings } from './confidence';

export const OPERATING_REPORTS_ENV = {
  settings: 'OPERATING_REPORTS',
  athenaWorkGroup: 'ATHENA_WORKGROUP',
  /** s3:// prefix the reports are written under, one `<date>/` folder per day. */
  reportsPrefix: 'REPORTS_PREFIX',
  /** Set only for a stage with `lake.hashAgentIds`: the stage's pseudonymisation key secret. */
  pseudonymisationKeySecretArn: 'PSEUDONYMISATION_KEY_SECRET_ARN',
} as const;

export interface OperatingReportsConfig {
  readonly stage: string;
  readonly lake: {
    readonly databaseName: string;
    readonly tracesTable: string;
    readonly auditTable: string;
    readonly feedbackTable: string;
    readonly judgmentsTable: string;
    /** The Iceberg table the day's confidence scores are merged into (the only table the function writes). */
    readonly confidenceTable: string;
  };
  readonly currentWindowDays: number;
  readonly baselineWindowDays: number;
  readonly thresholdPoints: number;
  readonly minRequests: number;
  readonly maxAffectedTraceIds: number;
  readonly confidence: ConfidenceSettings;
  /** The stage's agents (`agents[].id`): the only ones whose report figures get metric series of their own. */
  readonly agents: readonly string[];
  /** The stage's models (target models and priced model names): the same, for confidence scores. */
  readonly models: readonly string[];
  /**
   * `lake.hashAgentIds`: rows hold agent pseudonyms; the function computes the declared agents'
   * pseudonyms with the stage's key (PSEUDONYMISATION_KEY_SECRET_ARN) to name them. Absent: plain ids.
   */
  readonly hashAgentIds?: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const positive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** @throws Error naming the first field that does not fit */
export function parseOperatingReportsConfig(json: string | undefined): OperatingReportsConfig {
  if (json === undefined || json === '') throw new Error(`${OPERATING_REPORTS_ENV.settings} is not set: the construct passes it`);
  const value: unknown = JSON.parse(json);
  if (!isRecord(value) || typeof value.stage !== 'string') throw new Error(`${OPERATING_REPORTS_ENV.settings}.stage must be text`);
  const lake = value.lake;
  if (!isRecord(lake) || !['databaseName', 'tracesTable', 'auditTable', 'feedbackTable', 'judgmentsTable', 'confidenceTable'].every((k) => typeof lake[k] === 'string')) throw new Error(`${OPERATING_REPORTS_ENV.settings}.lake must name the database and the five tables`);
  for (const field of ['currentWindowDays', 'baselineWindowDays', 'thresholdPoints', 'minRequests', 'maxAffectedTraceIds']) {
    if (!positive(value[field])) throw new Error(`${OPERATING_REPORTS_ENV.settings}.${field} must be a positive number`);
  }
  for (const field of ['agents', 'models']) {
    const list = value[field];
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw new Error(`${OPERATING_REPORTS_ENV.settings}.${field} must be a list of names`);
  }
  if (value.hashAgentIds !== undefined && typeof value.hashAgentIds !== 'boolean') throw new Error(`${OPERATING_REPORTS_ENV.settings}.hashAgentIds must be true or false`);
  const c = value.confidence;
  if (!isRecord(c) || typeof c.decayPerIdleDay !== 'number' || !positive(c.fullWeightFeedback) || !positive(c.divergenceReviewPoints)) throw new Error(`${OPERATING_REPORTS_ENV.settings}.confidence is incomplete`);
  return value as unknown as OperatingReportsConfig;
}

