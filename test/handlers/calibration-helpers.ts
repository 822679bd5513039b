/** Shared set-up of the calibration handler tests: the environment the construct sets, and Athena result pages. */
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, type GetQueryResultsOutput, type ServiceInputTypes, type ServiceOutputTypes, type AthenaClientResolvedConfig } from '@aws-sdk/client-athena';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { CalibrationSettings } from '../../lambdas/judge/calibration/calibration-settings';

export const SETTINGS: CalibrationSettings = { samplingRate: 0.02, bandUpperBounds: [0.5, 0.8, 1], minPerStratum: 1, passAt: 0.7, minKappa: 0.6, minReviewed: 3, windowDays: 30, linkExpiryHours: 168 };
export const SIGNING_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:approval-signing-AbCdEf';
export const PSEUDONYM_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pseudonymisation-GhIjKl';
export const SIGNING_KEY = 'k'.repeat(64);
export const PSEUDONYM_KEY = 'p'.repeat(64);

export function setCalibrationEnv(service: string): void {
  Object.assign(process.env, {
    CALIBRATION_SETTINGS: JSON.stringify(SETTINGS),
    CALIBRATION_STAGE: 'dev',
    REVIEW_QUEUE_TABLE: 'review-queue',
    ATHENA_WORKGROUP: 'sial-dev-judge-calibration',
    LAKE_DATABASE: 'sial_dev',
    TRACES_TABLE: 'traces',
    JUDGMENTS_TABLE: 'judgments',
    REVIEWS_TABLE: 'reviews',
    REPORT_BUCKET: 'artifacts',
    REPORT_PREFIX: 'judge-calibration/',
    REVIEWERS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:reviewers',
    REVIEW_PAGE_BASE_URL: 'https://abc.execute-api.us-east-1.amazonaws.com/v1/',
    REVIEW_SIGNING_SECRET_ARN: SIGNING_SECRET_ARN,
    REVIEW_STREAM_NAME: 'review-stream',
    PSEUDONYMISATION_SECRET_ARN: PSEUDONYM_SECRET_ARN,
    POWERTOOLS_METRICS_NAMESPACE: 'Test',
    POWERTOOLS_SERVICE_NAME: service,
    POWERTOOLS_DEV: 'true',
  });
}

/** One Athena result page (header row first, as Athena returns the first page). */
export function athenaPage(columns: Array<[string, string]>, rows: Array<Array<string | undefined>>): GetQueryResultsOutput {
  const data = rows.map((r) => ({ Data: r.map((v) => (v === undefined ? {} : { VarCharValue: v })) }));
  return { ResultSet: { ResultSetMetadata: { ColumnInfo: columns.map(([Name, Type]) => ({ Name, Type })) }, Rows: [{ Data: columns.map(([name]) => ({ VarCharValue: name })) }, ...data] } };
}

/** Every query succeeds at once and returns `result`. */
export function athenaReturns(athena: AwsStub<ServiceInputTypes, ServiceOutputTypes, AthenaClientResolvedConfig>, result: GetQueryResultsOutput): void {
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-1' });
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 10, EngineExecutionTimeInMillis: 5 } } });
  athena.on(GetQueryResultsCommand).resolves(result);
}
