/** Environment variables of the calibration functions: the construct sets them, the handlers read them. */
export const CALIBRATION_ENV = {
  settings: 'CALIBRATION_SETTINGS',
  stage: 'CALIBRATION_STAGE',
  queueTable: 'REVIEW_QUEUE_TABLE',
  athenaWorkGroup: 'ATHENA_WORKGROUP',
  database: 'LAKE_DATABASE',
  tracesTable: 'TRACES_TABLE',
  judgmentsTable: 'JUDGMENTS_TABLE',
  reviewsTable: 'REVIEWS_TABLE',
  reportBucket: 'REPORT_BUCKET',
  reportPrefix: 'REPORT_PREFIX',
  reviewersTopicArn: 'REVIEWERS_TOPIC_ARN',
  pageBaseUrl: 'REVIEW_PAGE_BASE_URL',
  signingSecretArn: 'REVIEW_SIGNING_SECRET_ARN',
  reviewStream: 'REVIEW_STREAM_NAME',
  pseudonymisationSecretArn: 'PSEUDONYMISATION_SECRET_ARN',
  /**
   * Only for a stage with `lake.hashAgentIds`: the declared agent ids as a JSON list. The sampler's
   * e-mail and the review page show a declared agent by this name where the item holds its pseudonym.
   */
  hashedAgents: 'CALIBRATION_HASHED_AGENTS',
} as const;

/** Reads a required variable, naming it when it is missing. */
export function requiredCalibrationEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: the judge-calibration construct sets it`);
  return value;
}
