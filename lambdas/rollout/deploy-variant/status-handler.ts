/**
 * `Check endpoint status` Lambda (SageMaker targets): `{ rollout }` -> EndpointStatusReport (ResultPath
 * `$.endpoint`; `Endpoint in service?` reads `inService` and `failed`).
 * Env: none. IAM: sagemaker:DescribeEndpoint on the endpoint.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger } from '../../shared/powertools';
import { sageMakerRouterFromEnv } from '../aws/wiring';
import type { EndpointStatusReport } from '../ports';
import { checkEndpoint } from './candidate-variant';

const deployer = sageMakerRouterFromEnv({ deploys: false });

async function status(event: unknown): Promise<EndpointStatusReport> {
  const report = await checkEndpoint(event, deployer);
  logger.info('endpoint status', { ...report });
  return report;
}

export const handler = middy(status).use(injectLambdaContext(logger));
