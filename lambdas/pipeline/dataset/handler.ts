/**
 * `Build dataset` Lambda: `{ request: $.request }` -> DatasetManifest (ResultPath `$.dataset`).
 * Queries the lake with Athena and writes the dataset under the run's dataset prefix in S3.
 * Needs PIPELINE_SETTINGS, ATHENA_WORKGROUP, GOLDEN_SETS_URI and SIAL_SQL_DIR (the construct copies sql/
 * into the bundle), plus Athena, Glue and lake-bucket read access, read of the golden sets and of the
 * workgroup's result location, and write access under the runs' dataset prefixes only. With
 * `hashedAgents` (lake.hashAgentIds) also PSEUDONYMISATION_KEY_SECRET_ARN and read of that secret.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import * as z from '../../shared/zod-mini';
import { validatedRequestSchema, type DatasetManifest } from '../contracts';
import { PIPELINE_ENV, pipelineSettingsFromEnv, requiredEnv } from '../settings';
import { S3ObjectStore } from '../aws/s3-object-store';
import { logger, metrics } from '../../shared/powertools';
import { AgentIdentities } from '../../shared/agent-pseudonyms';
import { SecretsManagerPseudonymisationKeyProvider } from '../../shared/aws/secrets-manager-pseudonymisation-key';
import { createPseudonymiser } from '../../shared/pseudonymisation';
import { AthenaSqlEngine } from './athena-sql-engine';
import { buildDataset } from './build-dataset';

// Read once per execution environment: a misconfigured function fails at cold start, before any run.
const settings = pipelineSettingsFromEnv();
const store = new S3ObjectStore(new S3Client({}));
const goldenSetsUri = requiredEnv(PIPELINE_ENV.goldenSetsUri);
const sql = new AthenaSqlEngine(new AthenaClient({}), {
  workGroup: requiredEnv(PIPELINE_ENV.athenaWorkGroup),
  database: settings.lake.databaseName,
  tables: { traces: settings.lake.tracesTable, gate_audit: settings.lake.auditTable, feedback: settings.lake.feedbackTable, judgments: settings.lake.judgmentsTable },
  // Stop a query well before the function's own timeout, so it is never left scanning unobserved.
  timeoutMs: 10 * 60 * 1000,
  // UNLOAD's data manifest (the list of files it wrote) is read from the workgroup's result location.
  readText: (uri) => store.getText(uri),
  // The build's materialised tables hold rows that are not in the dataset: their files go when it ends.
  deletePrefix: (prefix) => store.deletePrefix(prefix),
  onQueryCompleted: (info) => logger.info('athena query completed', { ...info }),
});
const eventSchema = z.strictObject({ request: validatedRequestSchema });
// lake.hashAgentIds (settings.hashedAgents): the declared agents' pseudonyms name them in the manifest.
const keyProvider =
  settings.hashedAgents === undefined ? undefined : new SecretsManagerPseudonymisationKeyProvider(new SecretsManagerClient({}), requiredEnv(PIPELINE_ENV.pseudonymisationKeySecretArn));
let agents: AgentIdentities | undefined;

async function agentIdentities(): Promise<AgentIdentities | undefined> {
  if (keyProvider === undefined || settings.hashedAgents === undefined) return undefined;
  agents ??= AgentIdentities.hashed(settings.hashedAgents, createPseudonymiser(await keyProvider.key()));
  return agents;
}

async function buildDatasetStep(event: unknown): Promise<DatasetManifest> {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) throw new Error(`Build dataset: invalid input: ${z.prettifyError(parsed.error)}`);
  const { request } = parsed.data;
  const identities = await agentIdentities();
  const manifest = await buildDataset(request, { sql, store, settings, clock: () => new Date(), goldenSetsUri, ...(identities === undefined ? {} : { agents: identities }) });
  // Counts and ids only: the dataset's content never reaches the logs.
  logger.info('dataset built', {
    runId: request.runId,
    datasetId: manifest.datasetId,
    manifestUri: manifest.manifestUri,
    contentSha256: manifest.contentSha256,
    files: { grpo: manifest.files.grpo.length, dpo: manifest.files.dpo.length, traceIds: manifest.files.traceIds.length },
    decontamination: manifest.decontamination,
    window: manifest.window,
    counts: manifest.counts,
    eligibility: manifest.eligibility,
  });
  metrics.addMetric('DatasetTracesUsed', MetricUnit.Count, manifest.counts.tracesUsed);
  metrics.addMetric('DatasetGrpoGroups', MetricUnit.Count, manifest.counts.grpoGroups);
  metrics.addMetric('DatasetDpoPairs', MetricUnit.Count, manifest.counts.dpoPairs);
  metrics.addMetric('DatasetDuplicateCopies', MetricUnit.Count, manifest.counts.duplicateCopies);
  metrics.addMetric('DatasetGoldenOverlapExcluded', MetricUnit.Count, manifest.counts.excludedGoldenOverlap);
  return manifest;
}

export const handler = middy(buildDatasetStep)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
