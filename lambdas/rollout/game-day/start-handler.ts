/**
 * Game day `Start drill` Lambda: `{ input: { targetModelId, requestedBy? }, executionName:
 * $$.Execution.Name, executionArn: $$.Execution.Id }` -> RolloutPlan of a self-canary (ResultPath
 * `$.rollout`); throws `RolloutRefused` when the model cannot be drilled now. Env: PIPELINE_SETTINGS,
 * DEPLOYMENTS_TABLE. IAM: dynamodb:GetItem and PutItem.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { pipelineSettingsFromEnv } from '../../pipeline/settings';
import { logger } from '../../shared/powertools';
import { deploymentStoreFromEnv } from '../aws/wiring';
import type { RolloutPlan } from '../contracts';
import { realTime } from '../env';
import { startDrill } from './start-drill';

const settings = pipelineSettingsFromEnv();
const store = deploymentStoreFromEnv();

async function start(event: unknown): Promise<RolloutPlan> {
  const plan = await startDrill(event, { settings, store, clock: realTime.clock });
  logger.info('game day drill started', { rolloutId: plan.rolloutId, targetModelId: plan.targetModelId, current: plan.current, selfCanary: plan.candidate });
  return plan;
}

export const handler = middy(start).use(injectLambdaContext(logger));
