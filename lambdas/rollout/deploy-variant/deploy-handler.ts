/**
 * `Deploy candidate variant` Lambda (SageMaker targets): `{ rollout }` -> CandidateDeployment (ResultPath
 * `$.deployment`); throws `TrafficTargetBusy` while the endpoint is updating for another reason (retry).
 * Env: SAGEMAKER_EXECUTION_ROLE_ARN. IAM: sagemaker:DescribeEndpoint, DescribeEndpointConfig,
 * CreateEndpointConfig, UpdateEndpoint on the endpoint and its configurations; CreateModel (and
 * AddTags) on the models; DescribeModelPackage on the group's packages; iam:PassRole of the execution role.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger } from '../../shared/powertools';
import { sageMakerRouterFromEnv } from '../aws/wiring';
import type { CandidateDeployment } from '../ports';
import { deployCandidate } from './candidate-variant';

const deployer = sageMakerRouterFromEnv({ deploys: true });

async function deploy(event: unknown): Promise<CandidateDeployment> {
  const deployment = await deployCandidate(event, deployer);
  logger.info('candidate variant deploying', { ...deployment });
  return deployment;
}

export const handler = middy(deploy).use(injectLambdaContext(logger));
