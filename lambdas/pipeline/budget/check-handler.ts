/**
 * `Check GPU budget` Lambda: `{ request }` -> BudgetCheck (ResultPath `$.budget`). Reads the stage's
 * month total from the ledger and publishes the month's usage for the 80 % alarm.
 * Needs PIPELINE_SETTINGS and LEDGER_TABLE (dynamodb:GetItem on the table).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import * as z from '../../shared/zod-mini';
import { validatedRequestSchema, type BudgetCheck } from '../contracts';
import { PIPELINE_ENV, pipelineSettingsFromEnv, requiredEnv } from '../settings';
import { logger, metrics } from '../../shared/powertools';
import { publishBudgetMetrics } from './budget-metrics';
import { checkGpuBudget } from './check-budget';
import { DynamoDbLedger } from './dynamodb-ledger';

const settings = pipelineSettingsFromEnv();
const ledger = new DynamoDbLedger(DynamoDBDocumentClient.from(new DynamoDBClient({})), requiredEnv(PIPELINE_ENV.ledgerTable));
const eventSchema = z.object({ request: validatedRequestSchema });

async function checkBudget(event: unknown): Promise<BudgetCheck> {
  const { request } = eventSchema.parse(event);
  const budget = await checkGpuBudget(ledger, settings.stage, settings, new Date());
  publishBudgetMetrics(metrics, { stage: settings.stage, usedGpuHours: budget.usedGpuHours, ceilingGpuHours: budget.ceilingGpuHours });
  logger.info('GPU budget checked', { runId: request.runId, ...budget });
  return budget;
}

export const handler = middy(checkBudget)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
