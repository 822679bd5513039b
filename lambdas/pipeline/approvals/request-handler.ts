/**
 * `Request training approval` / `Request FinOps approval` / a deploy stage's request state: a
 * `lambda:invoke.waitForTaskToken` task with payload `{ taskToken: $$.Task.Token, approvalId }`.
 * Attaches the token to the record and sends the one approval e-mail; see request-approval.ts.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { logger, metrics } from '../../shared/powertools';
import { PIPELINE_ENV, requiredEnv } from '../settings';
import { approvalNotifierFromEnv, approvalStoreFromEnv, linkSignerFromEnv } from './aws/wiring';
import { parseAddressesByKind } from './approval-recipients';
import { parseTaskInput } from './parse-input';
import { requestApproval, requestApprovalInputSchema, type RequestApprovalResult } from './request-approval';

const pageBaseUrl = requiredEnv(PIPELINE_ENV.approvalPageBaseUrl);
const store = approvalStoreFromEnv();
const signer = linkSignerFromEnv();
const notifier = approvalNotifierFromEnv();
const recipients = parseAddressesByKind(requiredEnv(PIPELINE_ENV.approvalRecipients), PIPELINE_ENV.approvalRecipients);

async function request(event: unknown): Promise<RequestApprovalResult> {
  const input = parseTaskInput(requestApprovalInputSchema, event, 'Request approval');
  const result = await requestApproval(input, { store, signer, notifier, clock: () => new Date(), pageBaseUrl, recipients });
  if (result.notified) metrics.addMetric('ApprovalsRequested', MetricUnit.Count, 1);
  // Never the token: it would let anyone who reads the logs (and may call SendTaskSuccess) decide.
  logger.info('approval requested', { approvalId: result.approvalId, topic: result.topic, expiresAt: result.expiresAt, notified: result.notified, personalLinks: result.personalLinks });
  return result;
}

export const handler = middy(request)
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics));
