/**
 * The review page behind API Gateway (the approvals API's `/reviews/{id}`, Lambda proxy integration).
 * The behaviour is review-web.ts, shared with the local server; this file only translates the event
 * and keeps the link's signature out of logs and traces.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { logger, metrics } from '../../../shared/powertools';
import { loadMaskedTrace } from '../calibration-queries';
import { handleReviewHttp, reviewInternalErrorResponse, type ReviewHttpRequest, type ReviewHttpResponse, type ReviewWebDeps } from '../review-web';
import { agentIdentitiesFromEnv, athenaEngineFromEnv, pseudonymiserFromEnv, reviewLinkSignerFromEnv, reviewQueueFromEnv, reviewSinkFromEnv } from './wiring';

const engine = athenaEngineFromEnv();
const identities = agentIdentitiesFromEnv();
const deps: ReviewWebDeps = {
  ...(identities === undefined ? {} : { agentName: async (id: string) => (await identities()).displayName(id) }),
  queue: reviewQueueFromEnv(),
  signer: reviewLinkSignerFromEnv(),
  loadTrace: (item) => loadMaskedTrace(engine, item),
  sink: reviewSinkFromEnv(),
  pseudonymiser: pseudonymiserFromEnv(),
  clock: () => new Date(),
};

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** The proxy event as the transport-neutral request review-web.ts serves. */
export function toReviewRequest(event: APIGatewayProxyEvent): ReviewHttpRequest {
  const body = event.body === null || event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return { method: event.httpMethod, itemId: event.pathParameters?.id, query: event.queryStringParameters ?? {}, body, contentType: header(event, 'content-type') };
}

const COUNTED: Partial<Record<ReviewHttpResponse['outcome'], string>> = {
  recorded: 'ReviewsRecorded',
  'invalid-link': 'ReviewLinksRefused',
  'internal-error': 'ReviewPageErrors',
};

async function reviewPage(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  let response: ReviewHttpResponse;
  try {
    response = await handleReviewHttp(toReviewRequest(event), deps);
  } catch (error) {
    logger.error('review page failed', { error: error as Error, itemId: event.pathParameters?.id, method: event.httpMethod });
    response = reviewInternalErrorResponse();
  }
  const metric = COUNTED[response.outcome];
  if (metric !== undefined) metrics.addMetric(metric, MetricUnit.Count, 1);
  logger.info('review page', { method: event.httpMethod, itemId: event.pathParameters?.id, statusCode: response.statusCode, outcome: response.outcome });
  return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body };
}

export const handler = middy(reviewPage)
  // Never the event (signature in the query and form, the reviewer's name) in the log.
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics));
