/**
 * `Validate request` Lambda: `{ input: $, executionName: $$.Execution.Name }` -> ValidatedRequest
 * (ResultPath `$.request`). Throws `RequestRefused` for a request the pipeline will not run.
 * Needs PIPELINE_SETTINGS and ARTIFACT_BUCKET; calls no AWS API.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { ValidatedRequest } from '../contracts';
import { PIPELINE_ENV, pipelineSettingsFromEnv, requiredEnv } from '../settings';
import { logger, metrics } from '../../shared/powertools';
import { RequestRefused, validateRequest } from './validate-request';

// Read once per execution environment: a misconfigured function fails at cold start, before any run.
const settings = pipelineSettingsFromEnv();
const artifactBucket = requiredEnv(PIPELINE_ENV.artifactBucket);

async function validate(event: unknown): Promise<ValidatedRequest> {
  try {
    const request = validateRequest(event, { settings, artifactBucket, now: new Date() });
    logger.info('request accepted', { runId: request.runId, targetModelId: request.targetModelId, mode: request.mode, algorithm: request.algorithm, requestedBy: request.requestedBy });
    return request;
  } catch (error) {
    if (error instanceof RequestRefused) {
      metrics.addMetric('RequestsRefused', MetricUnit.Count, 1);
      logger.warn('request refused', { reason: error.message });
    }
    throw error;
  }
}

export const handler = middy(validate)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
