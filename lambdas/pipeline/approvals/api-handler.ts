/**
 * The approval page and API behind API Gateway (REST API, Lambda proxy integration):
 *   GET  /approvals/{id}?exp=..&sig=..  confirmation page (changes nothing)
 *   POST /approvals/{id}                form-encoded decision (exp, to, sig, decision, comment)
 * The behaviour is web.ts, shared with the local server; this file only translates the event and
 * keeps secrets out of logs and traces (the query string and the form carry the link's signature).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { logger, metrics } from '../../shared/powertools';
import { PIPELINE_ENV, requiredEnv } from '../settings';
import { pageApproverLists, parseAddressesByKind } from './approval-recipients';
import { approvalStoreFromEnv, linkSignerFromEnv, taskCallbacks } from './aws/wiring';
import { handleApprovalHttp, internalErrorResponse, type ApprovalHttpRequest, type ApprovalHttpResponse } from './web';

// The stage's approver e-mail lists: the page decides as the link's address, checked against them.
const approverLists = pageApproverLists(parseAddressesByKind(requiredEnv(PIPELINE_ENV.approverEmails), PIPELINE_ENV.approverEmails));
const deps = { store: approvalStoreFromEnv(), signer: linkSignerFromEnv(), callbacks: taskCallbacks(), clock: () => new Date(), approversOf: () => approverLists };

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** The proxy event as the transport-neutral request web.ts serves. */
export function toApprovalRequest(event: APIGatewayProxyEvent): ApprovalHttpRequest {
  const body = event.body === null || event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const identity = event.requestContext?.identity;
  const userAgent = identity?.userAgent ?? header(event, 'user-agent');
  return {
    method: event.httpMethod,
    approvalId: event.pathParameters?.id,
    query: event.queryStringParameters ?? {},
    body,
    contentType: header(event, 'content-type'),
    ...(identity?.sourceIp ? { sourceIp: identity.sourceIp } : {}),
    ...(userAgent ? { userAgent } : {}),
  };
}

const COUNTED: Partial<Record<ApprovalHttpResponse['outcome'], string>> = {
  decided: 'ApprovalDecisions',
  'too-late': 'ApprovalDecisionsTooLate',
  'not-delivered': 'ApprovalDeliveriesFailed',
  'invalid-link': 'ApprovalLinksRefused',
  'internal-error': 'ApprovalPageErrors',
};

async function approvalPage(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  let response: ApprovalHttpResponse;
  try {
    response = await handleApprovalHttp(toApprovalRequest(event), deps);
  } catch (error) {
    // A 500 page of our own instead of API Gateway's bare 502; the details go to the log only.
    logger.error('approval page failed', { error: error as Error, approvalId: event.pathParameters?.id, method: event.httpMethod });
    response = internalErrorResponse();
  }
  const metric = COUNTED[response.outcome];
  if (metric !== undefined) metrics.addMetric(metric, MetricUnit.Count, 1);
  logger.info('approval page', { method: event.httpMethod, approvalId: event.pathParameters?.id, statusCode: response.statusCode, outcome: response.outcome });
  return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body };
}

export const handler = middy(approvalPage)
  // Never the event (signature in the query and form) in the log.
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics));
