/**
 * Game day `Record drill` Lambda: `{ rolloutId }` -> DrillMeasurement (`withinBound` for the
 * `Within bound?` choice); publishes GameDayRollbackSeconds.
 * Env: PIPELINE_SETTINGS, DEPLOYMENTS_TABLE. IAM: dynamodb:GetItem on the deployments table.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { pipelineSettingsFromEnv } from '../../pipeline/settings';
import { logger, metrics } from '../../shared/powertools';
import { deploymentStoreFromEnv } from '../aws/wiring';
import { ROLLOUT_METRIC, publishRollbackSeconds } from '../rollout-metrics';
import { drillEventSchema, measureDrill, type DrillMeasurement } from './measure-drill';

const settings = pipelineSettingsFromEnv();
const store = deploymentStoreFromEnv();

async function measure(event: unknown): Promise<DrillMeasurement> {
  const result = await measureDrill(drillEventSchema.parse(event), { store, gameDay: settings.canary.gameDay });
  if (result.rollbackSeconds !== null) publishRollbackSeconds(metrics, ROLLOUT_METRIC.gameDayRollbackSeconds, settings.stage, result.targetModelId, result.rollbackSeconds);
  if (result.withinBound) logger.info('game day drill measured', { ...result });
  else logger.error('game day drill failed', { ...result });
  return result;
}

export const handler = middy(measure).use(injectLambdaContext(logger)).use(logMetrics(metrics));
