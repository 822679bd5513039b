/**
 * `POST /agents/{agent-id}/feedback` (API Gateway, IAM auth) -> Firehose feedback stream -> Iceberg.
 */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { FirehoseRowSink } from '../shared/aws/firehose-sink';
import { logger, metrics } from '../shared/powertools';
import { handleFeedback } from './handle-feedback';

const streamName = process.env.FEEDBACK_STREAM_NAME;
if (!streamName) throw new Error('FEEDBACK_STREAM_NAME is not set: the construct passes the feedback stream name');
const sink = new FirehoseRowSink(new FirehoseClient({}), streamName);

async function feedback(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const response = await handleFeedback(
    { agentId: event.pathParameters?.['agent-id'], body: event.body, isBase64Encoded: event.isBase64Encoded },
    sink,
    new Date(),
  );
  if (response.statusCode === 202) metrics.addMetric('FeedbackAccepted', MetricUnit.Count, 1);
  else {
    metrics.addMetric('FeedbackRejected', MetricUnit.Count, 1);
    logger.info('feedback rejected', { statusCode: response.statusCode, field: response.body.field });
  }
  return { statusCode: response.statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(response.body) };
}

export const handler = middy(feedback)
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics));
