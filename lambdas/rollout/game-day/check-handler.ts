/**
 * Game day `Check rollback` Lambda: `{ rolloutId }` -> DrillRollbackCheck (`rolledBack`).
 * Env: DEPLOYMENTS_TABLE. IAM: dynamodb:GetItem on the deployments table.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger } from '../../shared/powertools';
import { deploymentStoreFromEnv } from '../aws/wiring';
import { checkDrillRollback, drillEventSchema, type DrillRollbackCheck } from './measure-drill';

const store = deploymentStoreFromEnv();

async function check(event: unknown): Promise<DrillRollbackCheck> {
  const result = await checkDrillRollback(drillEventSchema.parse(event), store);
  logger.info('drill rollback checked', { ...result });
  return result;
}

export const handler = middy(check).use(injectLambdaContext(logger));
