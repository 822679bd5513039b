/**
 * The weekly sampling job (EventBridge Scheduler): this ISO week's review sample into the queue, and
 * one e-mail to the reviewers with a signed link per new item. A re-run of the week adds nothing and
 * sends no e-mail.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { logger, metrics } from '../../../shared/powertools';
import { calibrationSettingsFromEnv } from '../calibration-settings';
import { CALIBRATION_ENV, requiredCalibrationEnv } from '../calibration-env';
import { isoWeek } from '../iso-week';
import type { ReviewItem } from '../review-item';
import { sampleReviewWeek } from '../sample-week';
import { reviewLinksEmail } from './review-links-email';
import { agentIdentitiesFromEnv, athenaEngineFromEnv, calibrationTablesFromEnv, reviewLinkSignerFromEnv, reviewQueueFromEnv } from './wiring';

const settings = calibrationSettingsFromEnv();
const stage = requiredCalibrationEnv(CALIBRATION_ENV.stage);
const topicArn = requiredCalibrationEnv(CALIBRATION_ENV.reviewersTopicArn);
const pageBaseUrl = requiredCalibrationEnv(CALIBRATION_ENV.pageBaseUrl);
const deps = { engine: athenaEngineFromEnv(), tables: calibrationTablesFromEnv(), queue: reviewQueueFromEnv(), clock: () => new Date() };
const signer = reviewLinkSignerFromEnv();
const sns = new SNSClient({});
// lake.hashAgentIds: the e-mail names declared agents by their configured ids.
const identities = agentIdentitiesFromEnv();

export interface SampleSummary {
  readonly week: string;
  readonly candidates: number;
  readonly sampled: number;
  readonly added: number;
}

/** The reviewers' e-mail with one signed link per item, sent before the items are queued. */
async function announce(week: string, fresh: readonly ReviewItem[]): Promise<void> {
  const expiresAt = new Date(deps.clock().getTime() + settings.linkExpiryHours * 3_600_000);
  const links = await Promise.all(fresh.map(async (item) => ({ item, url: await signer.url(pageBaseUrl, item.itemId, expiresAt) })));
  const names = identities === undefined ? undefined : await identities();
  const email = reviewLinksEmail(stage, week, links, expiresAt, names === undefined ? undefined : (id) => names.displayName(id));
  await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: email.subject, Message: email.message }));
}

async function sample(): Promise<SampleSummary> {
  // Only items new to the queue are announced, so a re-run of the week sends no second e-mail.
  const result = await sampleReviewWeek(settings, { ...deps, beforeAdd: (fresh) => announce(isoWeek(deps.clock()), fresh) });
  metrics.addMetric('ReviewItemsSampled', MetricUnit.Count, result.added.length);
  logger.info('review sample', { week: result.week, candidates: result.candidates, sampled: result.sampled, added: result.added.length });
  return { week: result.week, candidates: result.candidates, sampled: result.sampled, added: result.added.length };
}

export const handler = middy(sample)
  // The e-mail (signed links) never goes to the log.
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics));
