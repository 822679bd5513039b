/**
 * `POST /agents/{agent-id}/feedback` (API Gateway, IAM auth) -> Firehose feedback stream -> Iceberg.
 * With FEEDBACK_PSEUDONYMISATION_KEY_SECRET_ARN (a stage with `lake.hashAgentIds`) the row stores the
 * agent id's keyed pseudonym, read with the stage's key as the gate does; without it, the id itself.
 */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { agentPseudonym } from '../shared/agent-pseudonyms';
import { FirehoseRowSink } from '../shared/aws/firehose-sink';
import { SecretsManagerPseudonymisationKeyProvider } from '../shared/aws/secrets-manager-pseudonymisation-key';
import { createPseudonymiser, type Pseudonymiser } from '../shared/pseudonymisation';
import { logger, metrics } from '../shared/powertools';
import { FEEDBACK_ENV, handleFeedback, type FeedbackOptions } from './handle-feedback';

const streamName = process.env.FEEDBACK_STREAM_NAME;
if (!streamName) throw new Error('FEEDBACK_STREAM_NAME is not set: the construct passes the feedback stream name');
const sink = new FirehoseRowSink(new FirehoseClient({}), streamName);
const keySecretArn = process.env[FEEDBACK_ENV.pseudonymisationKeySecretArn];
const keyProvider = keySecretArn ? new SecretsManagerPseudonymisationKeyProvider(new SecretsManagerClient({}), keySecretArn) : undefined;
// Started during the cold start; the first invocation awaits it (a failure answers 500 and the producer retries).
keyProvider?.key().catch(() => undefined);
let pseudonymiser: Pseudonymiser | undefined;

async function feedbackOptions(): Promise<FeedbackOptions> {
  if (keyProvider === undefined) return {};
  pseudonymiser ??= createPseudonymiser(await keyProvider.key());
  const key = pseudonymiser;
  return { storedAgentId: (agentId) => agentPseudonym(key, agentId) };
}

async function feedback(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const response = await handleFeedback(
    { agentId: event.pathParameters?.['agent-id'], body: event.body, isBase64Encoded: event.isBase64Encoded },
    sink,
    new Date(),
    await feedbackOptions(),
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
