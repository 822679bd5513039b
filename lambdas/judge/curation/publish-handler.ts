/**
 * `Publish judged metrics` Lambda: `{ curation }` -> `{ variants }`. Reads judged faithfulness and
 * misroute per model and variant of the run's window (Athena) and publishes them as EMF metrics.
 * Needs CURATION_SETTINGS, ATHENA_WORKGROUP, SIAL_SQL_DIR.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { logger, metrics } from '../../shared/powertools';
import { curationSqlEngine } from './athena-engine';
import { curationEventSchema, parseEvent } from './contracts';
import { judgedVariantMetrics, type JudgedVariantMetrics } from './curation';
import { publishJudgedMetrics } from './judged-metrics';
import { curationSettingsFromEnv } from './settings';

const settings = curationSettingsFromEnv();
// Queries are stopped well before the function's own timeout, never left scanning unobserved.
const sql = curationSqlEngine(settings, 5 * 60 * 1000);

async function publishStep(event: unknown): Promise<{ variants: JudgedVariantMetrics[] }> {
  const { curation } = parseEvent(curationEventSchema, event, 'Publish judged metrics');
  const variants = await judgedVariantMetrics(curation, sql);
  publishJudgedMetrics(metrics, variants);
  logger.info('judged metrics published', { window: curation.window, variants });
  return { variants };
}

export const handler = middy(publishStep)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
