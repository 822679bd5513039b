/**
 * `Prepare router job`, `Record router CPU hours` and `Record CPU hours of failed router run` Lambda:
 * `{ operation: 'prepare', request, dataset }` -> RouterJob (`$.routerJob`), or
 * `{ operation: 'record', request, routerJob, job | error }` -> RouterCpuUsage (`$.cpuUsage`).
 * Needs PIPELINE_SETTINGS, GOLDEN_SETS_URI and LEDGER_TABLE; sagemaker:ListModelPackages and
 * DescribeModelPackage on the router groups (the current version), s3:GetObject on the golden sets, and
 * dynamodb:UpdateItem on the ledger (the training cooldown).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { S3ObjectStore } from '../aws/s3-object-store';
import { SageMakerModelRegistry } from '../aws/sagemaker-model-registry';
import { DynamoDbLedger } from '../budget/dynamodb-ledger';
import { PIPELINE_ENV, pipelineSettingsFromEnv, requiredEnv } from '../settings';
import { logger, metrics } from '../../shared/powertools';
import type { RouterCpuUsage, RouterJob } from './router-job';
import { runRouterStep } from './router-step';

const settings = pipelineSettingsFromEnv();
const store = new S3ObjectStore(new S3Client({}));
const registry = new SageMakerModelRegistry(new SageMakerClient({}));
const ledger = new DynamoDbLedger(DynamoDBDocumentClient.from(new DynamoDBClient({})), requiredEnv(PIPELINE_ENV.ledgerTable));
const goldenSetsUri = requiredEnv(PIPELINE_ENV.goldenSetsUri);

async function routerStep(event: unknown): Promise<RouterJob | RouterCpuUsage> {
  const result = await runRouterStep(event, { settings, registry, store, ledger, goldenSetsUri, now: new Date() });
  if ('vcpuHours' in result) {
    metrics.addDimension('Stage', settings.stage);
    metrics.addMetric('RouterTrainingVcpuHours', MetricUnit.Count, result.vcpuHours);
    logger.info('router CPU hours recorded', { ...result });
  } else {
    logger.info('router job prepared', { command: result.command, vcpus: result.vcpus, memoryMiB: result.memoryMiB, currentModelUri: result.currentModelUri });
  }
  return result;
}

export const handler = middy(routerStep)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
