/**
 * `Check canary` Lambda: `{ rollout, progress, verified }` -> CanaryCheck (ResultPath `$.check`).
 * Env: DEPLOYMENTS_TABLE. IAM: cloudwatch:DescribeAlarms; dynamodb:GetItem on the deployments table.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger } from '../../shared/powertools';
import { alarmReader, deploymentStoreFromEnv } from '../aws/wiring';
import type { CanaryCheck } from '../contracts';
import { realTime } from '../env';
import { checkCanary, checkCanaryEventSchema } from './check-canary';

const store = deploymentStoreFromEnv();
const alarms = alarmReader();

async function check(event: unknown): Promise<CanaryCheck> {
  const parsed = checkCanaryEventSchema.parse(event);
  const result = await checkCanary(parsed, { alarms, store, clock: realTime.clock });
  const fields = { rolloutId: parsed.rollout.rolloutId, step: parsed.progress.index, candidatePercent: parsed.progress.candidatePercent, ...result };
  if (result.rollBack) logger.warn('canary unhealthy: rolling back', fields);
  else logger.info(result.baked ? 'step baked' : 'canary healthy', fields);
  return result;
}

export const handler = middy(check).use(injectLambdaContext(logger));
