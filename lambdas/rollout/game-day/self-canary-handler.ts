/**
 * Game day `Set self canary` Lambda: `{ rollout }` -> WeightsVerified (ResultPath `$.selfCanary`); throws
 * `TrafficTargetBusy` while the SageMaker drill variant deploys (retry every 30 s).
 * Env: PIPELINE_SETTINGS, SAGEMAKER_EXECUTION_ROLE_ARN, TRAFFIC_SETTLE_TIMEOUT_SECONDS (optional;
 * timeout 5 minutes). IAM: as `Deploy candidate variant` plus sagemaker:UpdateEndpointWeightsAndCapacities;
 * for EKS models what the rollback Lambdas have (eks:DescribeCluster, get and patch httproutes).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { pipelineSettingsFromEnv } from '../../pipeline/settings';
import { logger } from '../../shared/powertools';
import { eksRouterFromEnv, sageMakerRouterFromEnv } from '../aws/wiring';
import { settleOptionsFromEnv } from '../env';
import { DispatchingTrafficRouter } from '../traffic/dispatching-router';
import type { WeightsVerified } from '../traffic/settle';
import { setSelfCanary } from './self-canary';

const settings = pipelineSettingsFromEnv();
const kinds = new Set(settings.targetModels.map((m) => m.rollout.kind));
const sagemaker = sageMakerRouterFromEnv({ deploys: kinds.has('sagemaker') });
const router = new DispatchingTrafficRouter({ sagemaker, ...(kinds.has('eks') ? { eks: eksRouterFromEnv() } : {}) });
const settle = settleOptionsFromEnv();

async function selfCanary(event: unknown): Promise<WeightsVerified> {
  const verified = await setSelfCanary(event, { router, deployer: sagemaker, settle });
  logger.info('self canary set', { ...verified });
  return verified;
}

export const handler = middy(selfCanary).use(injectLambdaContext(logger));
