/**
 * Firehose data-transformation Lambda: gates and scores a batch of traces (process-batch.ts) and
 * routes each record to the `traces` or `gate_audit` Iceberg table. Thin on purpose: configuration,
 * clients and Powertools are set up once per execution environment; the work is in the domain modules.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { ComprehendPiiDetector, createComprehendClient } from '../shared/aws/comprehend-detector';
import { createEntityDetectors, createSageMakerRuntimeClient } from '../shared/aws/sagemaker-ner-detector';
import { withLanguageDetectors } from '../shared/language-detectors';
import { logger, metrics, tracer } from '../shared/powertools';
import type { FirehoseOutputRecord } from './firehose-records';
import { parseGateConfig } from './gate-config';
import { processBatch } from './process-batch';
import { publishBatchMetrics } from './publish-metrics';

// Fail at cold start, not per record: a misconfigured gate must not gate anything.
const config = parseGateConfig(process.env.GATE_CONFIG);
const known = { agents: new Set(Object.keys(config.agentSlosMs)), targetModels: new Set(config.targetModelIds) };
// The stage's named-entity endpoints (e.g. Korean) ride beside Comprehend; a stage without any
// builds no SageMaker client.
const entityDetectors =
  Object.keys(config.pii.entityDetectors).length > 0 ? createEntityDetectors(config.pii, tracer.captureAWSv3Client(createSageMakerRuntimeClient())) : {};
const detector = withLanguageDetectors(new ComprehendPiiDetector(tracer.captureAWSv3Client(createComprehendClient())), entityDetectors);

async function gateAndScore(event: FirehoseTransformationEvent): Promise<{ records: FirehoseOutputRecord[] }> {
  const outcome = await processBatch(event.records, { config, detector, now: () => new Date() });
  publishBatchMetrics(metrics, outcome.report, known, config.stage);
  const { report } = outcome;
  logger.info('batch gated', {
    recordsIn: report.recordsIn,
    delivered: report.delivered,
    discarded: report.discarded,
    failed: report.failed,
    duplicates: report.duplicates,
    rewardPolicyVersion: config.rewardPolicy.version,
  });
  // Ids and reasons only: record content may hold personal data and never reaches the logs.
  for (const d of outcome.diagnostics) {
    if (d.reason !== undefined) logger.info('record not delivered to traces', { recordId: d.recordId, traceId: d.traceId, result: d.result, reason: d.reason });
  }
  return { records: outcome.records };
}

export const handler = middy(gateAndScore)
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
