/**
 * The alarm rollback Lambda, target of the EventBridge rule on `CloudWatch Alarm State Change` events
 * of the canary alarms (state ALARM). Rolls the model's active rollout back to 100 % current at once,
 * verifies, records, publishes RollbackSeconds and notifies.
 * Env: PIPELINE_SETTINGS, DEPLOYMENTS_TABLE, NOTIFICATIONS_TOPIC_ARN, TRAFFIC_SETTLE_TIMEOUT_SECONDS
 * (optional; timeout 5 minutes). IAM: as `Roll back` (SageMaker describe and weights, EKS DescribeCluster and
 * cluster access, dynamodb:GetItem and PutItem) plus sns:Publish on the notifications topic.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { pipelineSettingsFromEnv } from '../../pipeline/settings';
import { logger, metrics } from '../../shared/powertools';
import { deploymentStoreFromEnv, notifierFromEnv, trafficRouterFromEnv } from '../aws/wiring';
import { settleOptionsFromEnv } from '../env';
import { ROLLOUT_METRIC, publishRollback, publishRollbackSeconds } from '../rollout-metrics';
import { rollbackOnAlarm, type AlarmRollbackOutcome } from './alarm-rollback';

const settings = pipelineSettingsFromEnv();
const store = deploymentStoreFromEnv();
const router = trafficRouterFromEnv(settings);
const notifier = notifierFromEnv();
const settle = settleOptionsFromEnv();

async function onAlarm(event: unknown): Promise<AlarmRollbackOutcome> {
  const outcome = await rollbackOnAlarm(event, { settings, store, router, notifier, settle });
  switch (outcome.action) {
    case 'rolled-back':
      publishRollbackSeconds(metrics, ROLLOUT_METRIC.rollbackSeconds, settings.stage, outcome.record.targetModelId, outcome.rollbackSeconds);
      publishRollback(metrics, settings.stage, outcome.record.targetModelId, outcome.record.by);
      if (!outcome.notified) {
        metrics.addMetric('RollbackNotificationFailed', MetricUnit.Count, 1);
        logger.error('rolled back, but the notification could not be sent', { ...outcome.record });
      }
      logger.warn('rolled back on alarm', { ...outcome.record, rollbackSeconds: outcome.rollbackSeconds, requests: outcome.requests });
      break;
    case 'already-rolled-back':
      logger.info('already rolled back; traffic re-verified at 100 % current', { ...outcome.record });
      break;
    case 'after-promotion':
      logger.warn('canary alarm after promotion: no automatic rollback', { ...outcome });
      break;
    default:
      logger.info('nothing to roll back', { ...outcome });
  }
  return outcome;
}

export const handler = middy(onAlarm).use(injectLambdaContext(logger)).use(logMetrics(metrics));
