/**
 * `Write operating reports` Lambda: `{ startedAt }` -> OperatingReportsResult (the files and table it
 * wrote, the counts the `sial.reports.ready` event carries, the regression summary). Runs the daily
 * reports on Athena (the same query files `sial report --local` runs on DuckDB) and writes them under
 * REPORTS_PREFIX/<date>/: costs.csv, confidence.json, regressions-<agent>.json; MERGEs the day's
 * confidence scores into the `confidence_scores` Iceberg table; and writes the cost report as Parquet under
 * costs.parquet/run=<invocation time>/ (Athena UNLOAD with this function's credentials; a rerun or retry
 * gets a folder of its own, since UNLOAD needs an empty one).
 * Publishes the regressions and confidence scores as EMF metrics for the stage dashboard (report-metrics.ts).
 * Needs OPERATING_REPORTS, ATHENA_WORKGROUP, REPORTS_PREFIX, SIAL_SQL_DIR, POWERTOOLS_METRICS_NAMESPACE; with
 * `hashAgentIds` (lake.hashAgentIds) also PSEUDONYMISATION_KEY_SECRET_ARN: the rows hold agent pseudonyms,
 * and the reports name each declared agent by its configured id (its pseudonym under the stage's key).
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { S3ObjectStore } from '../pipeline/aws/s3-object-store';
import { AthenaSqlEngine } from '../pipeline/dataset/athena-sql-engine';
import { quoteIdentifier } from '../pipeline/dataset/sql-template';
import { renderConfidenceMerge, type ConfidenceTableWriter } from './confidence-table';
import { logger, metrics } from '../shared/powertools';
import { AgentIdentities } from '../shared/agent-pseudonyms';
import { SecretsManagerPseudonymisationKeyProvider } from '../shared/aws/secrets-manager-pseudonymisation-key';
import { createPseudonymiser } from '../shared/pseudonymisation';
import { reportRunId, writeOperatingReports, type OperatingReportsResult } from './write-reports';
import { requiredEnv } from '../shared/required-env';
import { publishReportMetrics } from './report-metrics';
import { OPERATING_REPORTS_ENV, parseOperatingReportsConfig } from './report-settings';

const config = parseOperatingReportsConfig(process.env[OPERATING_REPORTS_ENV.settings]);
const listed = { agents: new Set(config.agents), models: new Set(config.models) };
// lake.hashAgentIds: the declared agents' pseudonyms are computed with the stage's key, read once.
const keyProvider =
  config.hashAgentIds === true ? new SecretsManagerPseudonymisationKeyProvider(new SecretsManagerClient({}), requiredEnv(OPERATING_REPORTS_ENV.pseudonymisationKeySecretArn)) : undefined;
let identities: AgentIdentities | undefined;

async function agentIdentities(): Promise<AgentIdentities> {
  identities ??= keyProvider === undefined ? AgentIdentities.plain(config.agents) : AgentIdentities.hashed(config.agents, createPseudonymiser(await keyProvider.key()));
  return identities;
}
const store = new S3ObjectStore(new S3Client({}));
const sql = new AthenaSqlEngine(new AthenaClient({}), {
  workGroup: requiredEnv(OPERATING_REPORTS_ENV.athenaWorkGroup),
  database: config.lake.databaseName,
  tables: { traces: config.lake.tracesTable, gate_audit: config.lake.auditTable, feedback: config.lake.feedbackTable, judgments: config.lake.judgmentsTable },
  // Queries are stopped well before the function's own timeout, never left scanning unobserved.
  timeoutMs: 10 * 60 * 1000,
  readText: (uri) => store.getText(uri),
  deletePrefix: (prefix) => store.deletePrefix(prefix),
  onQueryCompleted: (info) => logger.info('athena query completed', { ...info }),
});

/** The day's scores, MERGEd into the Iceberg table by Athena with this function's grants (that table only). */
const confidenceTable: ConfidenceTableWriter = {
  location: `${config.lake.databaseName}.${config.lake.confidenceTable}`,
  merge: async (rows) => {
    if (rows.length === 0) return;
    const target = `${quoteIdentifier(config.lake.databaseName)}.${quoteIdentifier(config.lake.confidenceTable)}`;
    await sql.execute({ name: 'confidence-scores-merge', template: renderConfidenceMerge(target, rows) }, []);
  },
};

async function writeStep(event: unknown): Promise<OperatingReportsResult> {
  const startedAt = typeof event === 'object' && event !== null ? (event as { startedAt?: unknown }).startedAt : undefined;
  if (typeof startedAt !== 'string' || Number.isNaN(Date.parse(startedAt))) throw new Error('Write operating reports: the input needs startedAt, an ISO 8601 time');
  // The invocation's own time, not startedAt: a retry of the same execution must not reuse a folder.
  const runId = reportRunId(new Date());
  const result = await writeOperatingReports(sql, store, config, new Date(startedAt), requiredEnv(OPERATING_REPORTS_ENV.reportsPrefix), {
    runId,
    confidenceTable,
    identities: await agentIdentities(),
    publish: (figures) => publishReportMetrics(metrics, config.stage, figures, listed),
  });
  logger.info('operating reports written', { reportPrefix: result.reportPrefix, costsParquetPrefix: result.costsParquetPrefix, confidenceTable: result.confidenceTable, regressedAgents: result.regressedAgents });
  return result;
}

export const handler = middy(writeStep).use(injectLambdaContext(logger));
