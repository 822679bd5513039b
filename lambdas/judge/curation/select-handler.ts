/**
 * `Select candidates` Lambda: `{ startedAt, executionName, input }` -> CurationState (`$.curation`).
 * Athena UNLOADs the window's unjudged kept traces under CURATION_WORK_PREFIX/<execution>/ and reads the
 * day's judge usage. Needs CURATION_SETTINGS, ATHENA_WORKGROUP, CURATION_WORK_PREFIX, SIAL_SQL_DIR.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { requiredEnv } from '../../shared/required-env';
import { logger } from '../../shared/powertools';
import { curationSqlEngine } from './athena-engine';
import { parseEvent, selectEventSchema } from './contracts';
import { selectCandidates, type CurationState } from './curation';
import { CURATION_ENV, curationSettingsFromEnv } from './settings';

const settings = curationSettingsFromEnv();
const workPrefix = requiredEnv(CURATION_ENV.workPrefix);
// Queries are stopped well before the function's own timeout, never left scanning unobserved.
const sql = curationSqlEngine(settings, 10 * 60 * 1000);

async function selectStep(event: unknown): Promise<CurationState> {
  const { startedAt, executionName, input } = parseEvent(selectEventSchema, event, 'Select candidates');
  const state = await selectCandidates(
    { startedAt: new Date(startedAt), ...(input.until === undefined ? {} : { until: new Date(input.until) }), workPrefix: `${workPrefix}${executionName}/candidates/` },
    { sql, settings, clock: () => new Date() },
  );
  logger.info('curation candidates selected', { window: state.window, files: state.files.length, usage: state.usage, promptHash: state.promptHash });
  return state;
}

export const handler = middy(selectStep).use(injectLambdaContext(logger));
