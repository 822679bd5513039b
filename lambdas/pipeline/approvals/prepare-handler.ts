/**
 * `Prepare training approval` / `Prepare FinOps approval` / a deploy stage's prepare state: creates
 * the pending approval record and returns the ApprovalRef (page link with expiry and signature, no
 * token). Input `{ kind, request, summary, executionArn }`; see prepare-approval.ts.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { logger, metrics } from '../../shared/powertools';
import type { ApprovalRef } from '../contracts';
import { PIPELINE_ENV, pipelineSettingsFromEnv, requiredEnv } from '../settings';
import { approvalStoreFromEnv, linkSignerFromEnv } from './aws/wiring';
import { parseTaskInput } from './parse-input';
import { prepareApproval, prepareApprovalInputSchema } from './prepare-approval';

const settings = pipelineSettingsFromEnv();
const pageBaseUrl = requiredEnv(PIPELINE_ENV.approvalPageBaseUrl);
const store = approvalStoreFromEnv();
const signer = linkSignerFromEnv();

async function prepare(event: unknown): Promise<ApprovalRef> {
  const input = parseTaskInput(prepareApprovalInputSchema, event, 'Prepare approval');
  const ref = await prepareApproval(input, { store, signer, clock: () => new Date(), pageBaseUrl, expiryHours: settings.approvalExpiryHours });
  metrics.addMetric('ApprovalsPrepared', MetricUnit.Count, 1);
  // The URL is a bearer link: it goes to the state's output (by design), never to the logs.
  logger.info('approval prepared', { approvalId: ref.approvalId, kind: ref.kind, expiresAt: ref.expiresAt, runId: input.request.runId });
  return ref;
}

export const handler = middy(prepare)
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics));
