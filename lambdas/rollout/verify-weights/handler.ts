/**
 * `Verify SageMaker weights` / `Verify HTTPRoute weights` Lambda: `{ rollout, progress, route? }` ->
 * `$.verified`; throws `WeightsNotApplied` (mismatch) or `RolledBack` (the alarm Lambda acted).
 * Env: DEPLOYMENTS_TABLE, TRAFFIC_SETTLE_TIMEOUT_SECONDS (optional; timeout 5 minutes). IAM:
 * sagemaker:DescribeEndpoint on the endpoints; dynamodb:GetItem on the deployments table. EKS needs no
 * cluster access here: the route comes from the state machine's eks:call GET.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { logger, metrics } from '../../shared/powertools';
import { deploymentStoreFromEnv, sageMakerRouterFromEnv } from '../aws/wiring';
import { realTime, settleOptionsFromEnv } from '../env';
import { WeightsNotApplied } from '../errors';
import type { WeightsVerified } from '../traffic/settle';
import { verifyWeights, verifyWeightsEventSchema } from './verify-weights';

const store = deploymentStoreFromEnv();
const router = sageMakerRouterFromEnv({ deploys: false });
const settle = settleOptionsFromEnv();

async function verify(event: unknown): Promise<WeightsVerified> {
  const parsed = verifyWeightsEventSchema.parse(event);
  try {
    const verified = await verifyWeights(parsed, { router, store, settle, clock: realTime.clock });
    logger.info('weights verified', { rolloutId: parsed.rollout.rolloutId, ...verified });
    return verified;
  } catch (error) {
    if (error instanceof WeightsNotApplied) {
      metrics.addMetric('WeightsNotApplied', MetricUnit.Count, 1);
      logger.error('weights not applied', { rolloutId: parsed.rollout.rolloutId, expected: error.expected, observed: error.observed, detail: error.detail });
    }
    throw error;
  }
}

export const handler = middy(verify).use(injectLambdaContext(logger)).use(logMetrics(metrics));
