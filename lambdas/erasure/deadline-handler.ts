/**
 * The erasure deadline check (daily schedule): counts the ledger's requests past their deadline without
 * a verified deletion and publishes the count as the `ErasuresOverdue` metric (EMF), which the deadline
 * alarm watches (alarm on > 0). Publishes 0 too, so the alarm sees a datapoint every day. Needs
 * ERASURE_LEDGER_TABLE and POWERTOOLS_METRICS_NAMESPACE.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { logger, metrics } from '../shared/powertools';
import { DynamoDbErasureLedger } from './aws/dynamodb-erasure-ledger';
import { overdueErasures, type ErasureLedger } from './ledger';
import { ERASURE_ENV, ERASURES_OVERDUE_METRIC } from './settings';

/** The overdue count and ids (ids name requests, never people). */
export async function checkErasureDeadlines(ledger: ErasureLedger, now: Date): Promise<{ overdue: number; erasureIds: string[] }> {
  const overdue = overdueErasures(await ledger.list(), now);
  return { overdue: overdue.length, erasureIds: overdue.map((e) => e.erasureId) };
}

const table = process.env[ERASURE_ENV.ledgerTable];
const ledger = table === undefined || table === '' ? undefined : new DynamoDbErasureLedger(DynamoDBDocumentClient.from(new DynamoDBClient({})), table);

async function check(): Promise<{ overdue: number; erasureIds: string[] }> {
  if (ledger === undefined) throw new Error(`${ERASURE_ENV.ledgerTable} is not set`);
  const result = await checkErasureDeadlines(ledger, new Date());
  metrics.addMetric(ERASURES_OVERDUE_METRIC, MetricUnit.Count, result.overdue);
  if (result.overdue > 0) logger.warn('erasure requests past their deadline without a verified deletion', { ...result });
  return result;
}

export const handler = middy(check)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
