/**
 * `Promote candidate` Lambda: `{ rollout, progress }` -> Promotion (ResultPath `$.promotion`).
 * Env: PIPELINE_SETTINGS, DEPLOYMENTS_TABLE. IAM: sagemaker:UpdateModelPackage on the packages of the
 * model package groups; dynamodb:GetItem, PutItem, DeleteItem on the deployments table.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { pipelineSettingsFromEnv } from '../../pipeline/settings';
import { logger, metrics } from '../../shared/powertools';
import { deploymentStoreFromEnv, modelRegistry } from '../aws/wiring';
import type { Promotion } from '../contracts';
import { realTime } from '../env';
import { publishPromotion } from '../rollout-metrics';
import { promote, promoteEventSchema } from './promote';

const settings = pipelineSettingsFromEnv();
const store = deploymentStoreFromEnv();
const approver = modelRegistry();

async function promoteHandler(event: unknown): Promise<Promotion> {
  const promotion = await promote(promoteEventSchema.parse(event), { approver, store, settings, clock: realTime.clock });
  publishPromotion(metrics, settings.stage, promotion.targetModelId);
  logger.info('candidate promoted', { ...promotion });
  return promotion;
}

export const handler = middy(promoteHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
