/**
 * `Check eligibility` Lambda: `{ request: $.request, dataset: $.dataset }` -> EligibilityResult
 * (ResultPath `$.eligibility`). Not eligible is a normal result (the state machine notifies and ends
 * successfully), not an error. Needs PIPELINE_SETTINGS and LEDGER_TABLE (dynamodb:GetItem on the table).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import * as z from '../../shared/zod-mini';
import { datasetManifestSchema, validatedRequestSchema, type EligibilityResult } from '../contracts';
import { PIPELINE_ENV, pipelineSettingsFromEnv, requiredEnv } from '../settings';
import { DynamoDbLedger } from '../budget/dynamodb-ledger';
import { logger, metrics } from '../../shared/powertools';
import { checkEligibility } from './check-eligibility';
import type { TrainingHistory } from './training-history';

const settings = pipelineSettingsFromEnv();
const history: TrainingHistory = new DynamoDbLedger(
  DynamoDBDocumentClient.from(new DynamoDBClient({})),
  requiredEnv(PIPELINE_ENV.ledgerTable),
);
const eventSchema = z.strictObject({ request: validatedRequestSchema, dataset: datasetManifestSchema });

async function checkEligibilityStep(event: unknown): Promise<EligibilityResult> {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) throw new Error(`Check eligibility: invalid input: ${z.prettifyError(parsed.error)}`);
  const { request, dataset } = parsed.data;
  const result = await checkEligibility({ request, dataset }, { history, settings, clock: () => new Date() });
  logger.info(result.eligible ? 'run eligible' : 'run not eligible', { runId: request.runId, datasetId: dataset.datasetId, ...result });
  metrics.addMetric(result.eligible ? 'RunsEligible' : 'RunsNotEligible', MetricUnit.Count, 1);
  return result;
}

export const handler = middy(checkEligibilityStep)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
