/**
 * `Roll back` Lambda: `{ rollout, reason?, error?, check? }` -> RollbackRecord (ResultPath `$.rollback`).
 * Env: PIPELINE_SETTINGS, DEPLOYMENTS_TABLE, TRAFFIC_SETTLE_TIMEOUT_SECONDS (optional; timeout 5
 * minutes). IAM: sagemaker:DescribeEndpoint and UpdateEndpointWeightsAndCapacities on the endpoints;
 * cloudwatch:DescribeAlarms; dynamodb:GetItem, PutItem, DeleteItem on the deployments table; for EKS
 * models eks:DescribeCluster on the cluster, network reach to its endpoint and a cluster access entry
 * allowing get and patch of httproutes.gateway.networking.k8s.io in the route's namespace.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { pipelineSettingsFromEnv } from '../../pipeline/settings';
import { logger, metrics } from '../../shared/powertools';
import { alarmReader, deploymentStoreFromEnv, trafficRouterFromEnv } from '../aws/wiring';
import type { RollbackRecord } from '../contracts';
import { settleOptionsFromEnv } from '../env';
import { publishRollback } from '../rollout-metrics';
import { rollBack, rollBackEventSchema } from './roll-back';

const settings = pipelineSettingsFromEnv();
const store = deploymentStoreFromEnv();
const router = trafficRouterFromEnv(settings);
const alarms = alarmReader();
const settle = settleOptionsFromEnv();

async function rollBackHandler(event: unknown): Promise<RollbackRecord> {
  const parsed = rollBackEventSchema.parse(event);
  const record = await rollBack(parsed, { router, store, alarms, settle });
  if (record.by === 'state-machine') publishRollback(metrics, settings.stage, record.targetModelId, record.by);
  logger.warn('rolled back', { ...record });
  return record;
}

export const handler = middy(rollBackHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
