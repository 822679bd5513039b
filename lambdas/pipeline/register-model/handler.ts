/**
 * `Register model` Lambda: `{ request, dataset, evalGate, trainingApproval }` -> Registration
 * (ResultPath `$.registration`). Needs PIPELINE_SETTINGS, SERVING_IMAGE_URI and, when the stage has a
 * router, ROUTER_IMAGE_URI; and on the family's (or router's)
 * model package group: sagemaker:CreateModelPackage, ListModelPackages, DescribeModelPackage.
 */
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { SageMakerModelRegistry } from '../aws/sagemaker-model-registry';
import type { Registration } from '../contracts';
import { pipelineSettingsFromEnv, requiredEnv } from '../settings';
import { logger, metrics } from '../../shared/powertools';
import { REGISTER_MODEL_ENV, registerModel, registerModelEventSchema } from './register-model';

const settings = pipelineSettingsFromEnv();
const servingImageUri = requiredEnv(REGISTER_MODEL_ENV.servingImageUri);
const routerImageUri = process.env[REGISTER_MODEL_ENV.routerImageUri];
const registry = new SageMakerModelRegistry(new SageMakerClient({}));

async function register(event: unknown): Promise<Registration> {
  const registration = await registerModel(registerModelEventSchema.parse(event), { registry, settings, servingImageUri, ...(routerImageUri === undefined || routerImageUri === '' ? {} : { routerImageUri }) });
  metrics.addMetric('ModelsRegistered', MetricUnit.Count, 1);
  logger.info('model registered', { ...registration });
  return registration;
}

export const handler = middy(register)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
