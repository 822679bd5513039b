/**
 * `Validate rollout` Lambda: `{ input: $, executionName: $$.Execution.Name, executionArn: $$.Execution.Id }`
 * -> RolloutPlan (ResultPath `$.rollout`); throws `RolloutRefused` for a rollout the stage will not run.
 * Env: PIPELINE_SETTINGS, DEPLOYMENTS_TABLE. IAM: sagemaker:ListModelPackages and DescribeModelPackage
 * on the model package groups; dynamodb:GetItem and PutItem on the deployments table.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { pipelineSettingsFromEnv } from '../../pipeline/settings';
import { logger, metrics } from '../../shared/powertools';
import { deploymentStoreFromEnv, modelRegistry } from '../aws/wiring';
import type { RolloutPlan } from '../contracts';
import { realTime } from '../env';
import { RolloutRefused } from '../errors';
import { validateRollout } from './validate-rollout';

// Read once per execution environment: a misconfigured function fails at cold start, before any rollout.
const settings = pipelineSettingsFromEnv();
const store = deploymentStoreFromEnv();
const registry = modelRegistry();

async function validate(event: unknown): Promise<RolloutPlan> {
  try {
    const plan = await validateRollout(event, { settings, registry, store, clock: realTime.clock });
    metrics.addMetric('RolloutsStarted', MetricUnit.Count, 1);
    logger.info('rollout accepted', { rolloutId: plan.rolloutId, targetModelId: plan.targetModelId, current: plan.current, candidate: plan.candidate, target: plan.target.kind, requestedBy: plan.requestedBy });
    return plan;
  } catch (error) {
    if (error instanceof RolloutRefused) {
      metrics.addMetric('RolloutsRefused', MetricUnit.Count, 1);
      logger.warn('rollout refused', { reason: error.message });
    }
    throw error;
  }
}

export const handler = middy(validate).use(injectLambdaContext(logger)).use(logMetrics(metrics));
