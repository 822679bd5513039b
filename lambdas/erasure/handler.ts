/**
 * The erasure state machine's Lambda: every Task of stepfunctions/erasure.ts invokes it with
 * `{ step, state }` (and `input`, `startedAt` for the first; `failure` for the last). One function and
 * one role, because the steps are one workflow over the same tables; the role's grants are listed in
 * lib/constructs/erasure.ts. Needs the ERASURE_ENV settings.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { S3ObjectStore } from '../pipeline/aws/s3-object-store';
import { SageMakerModelRegistry } from '../pipeline/aws/sagemaker-model-registry';
import { logger } from '../shared/powertools';
import { athenaLakeStatements } from './aws/athena-lake-statements';
import { DynamoDbErasureLedger } from './aws/dynamodb-erasure-ledger';
import { S3LakeObjectVersions } from './aws/s3-lake-object-versions';
import { runErasureStep, type ErasureStepDeps } from './erasure-steps';
import { erasureSettingsFromEnv } from './settings';

const settings = erasureSettingsFromEnv();
const s3 = new S3Client({});
const sagemaker = new SageMakerModelRegistry(new SageMakerClient({}));
const deps: ErasureStepDeps = {
  workflow: {
    ledger: new DynamoDbErasureLedger(DynamoDBDocumentClient.from(new DynamoDBClient({})), settings.ledgerTable),
    // Statements are stopped well before the function's 15-minute timeout, never left running unobserved.
    athena: athenaLakeStatements(new AthenaClient({}), { workGroup: settings.workGroup, database: settings.database, timeoutMs: 13 * 60 * 1000 }),
    versions: new S3LakeObjectVersions(s3, settings.lakeBucket),
    database: settings.database,
    bucket: settings.lakeBucket,
    tablePrefix: (table) => `${settings.tablesPrefix}${table}/`,
    deadlineDays: settings.deadlineDays,
    now: () => new Date(),
  },
  registry: {
    listAllPackages: async () => (await Promise.all(settings.lineage.modelPackageGroups.map((g) => sagemaker.listPackages(g)))).flat(),
    setMetadata: (arn, entries) => sagemaker.setMetadata(arn, entries),
  },
  datasets: new S3ObjectStore(s3),
  artifactBucket: settings.artifactBucket,
  lineagePolicy: { ...settings.lineage, routerTargetIds: new Set(settings.lineage.routerTargetIds) },
};

async function step(event: unknown): Promise<unknown> {
  const result = await runErasureStep(deps, event);
  // Counts and ids only: the state holds pseudonyms, trace ids and file keys, never raw ids.
  logger.info('erasure step done', { step: (event as { step?: unknown }).step });
  return result;
}

export const handler = middy(step)
  .use(injectLambdaContext(logger));
