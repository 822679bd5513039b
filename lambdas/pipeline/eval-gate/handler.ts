/**
 * `Check eval gate` Lambda: `{ request }` -> EvalGateResult (ResultPath `$.evalGate`), or the error
 * `EvalGateFailed` whose message is the JSON report. Needs PIPELINE_SETTINGS; s3:GetObject (and
 * s3:ListBucket, so a missing key reads as missing, not as access denied) on the artifact bucket, where
 * every run's metrics.json lives; sagemaker:ListModelPackages and DescribeModelPackage on the groups.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { S3ObjectStore } from '../aws/s3-object-store';
import { SageMakerModelRegistry } from '../aws/sagemaker-model-registry';
import type { EvalGateResult } from '../contracts';
import { checkRouterEvalGate, RouterEvalGateFailed, type RouterEvalGateResult } from '../router/router-eval-gate';
import { routerTargetOf } from '../router/router-step';
import { pipelineSettingsFromEnv } from '../settings';
import { logger, metrics } from '../../shared/powertools';
import { checkEvalGate, evalGateEventSchema, EvalGateFailed } from './check-eval-gate';

const settings = pipelineSettingsFromEnv();
const store = new S3ObjectStore(new S3Client({}));
const registry = new SageMakerModelRegistry(new SageMakerClient({}));

async function evalGate(event: unknown): Promise<EvalGateResult | RouterEvalGateResult> {
  const { request } = evalGateEventSchema.parse(event);
  if (request.targetKind === 'router') return routerGate(request);
  try {
    const { result, notes } = await checkEvalGate(request, { store, registry, settings });
    metrics.addMetric('EvalGatePassed', MetricUnit.Count, 1);
    logger.info('eval gate passed', { runId: request.runId, faithfulness: result.candidate.faithfulness, productionModelPackageArn: result.productionModelPackageArn, notes });
    return result;
  } catch (error) {
    if (error instanceof EvalGateFailed) {
      metrics.addMetric('EvalGateFailed', MetricUnit.Count, 1);
      logger.warn('eval gate failed', { runId: request.runId, failures: error.report.failures });
    }
    throw error;
  }
}

/** A router run: its job's metrics.json, the trainer's verdict and the stage's thresholds. */
async function routerGate(request: Parameters<typeof checkRouterEvalGate>[0]): Promise<RouterEvalGateResult> {
  try {
    const result = await checkRouterEvalGate(request, routerTargetOf(request, settings), store);
    metrics.addMetric('EvalGatePassed', MetricUnit.Count, 1);
    logger.info('router eval gate passed', { runId: request.runId, holdout: result.holdout, golden: result.golden });
    return result;
  } catch (error) {
    if (error instanceof RouterEvalGateFailed) {
      metrics.addMetric('EvalGateFailed', MetricUnit.Count, 1);
      logger.warn('router eval gate failed', { runId: request.runId, failures: error.report.failures });
    }
    throw error;
  }
}

export const handler = middy(evalGate)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
