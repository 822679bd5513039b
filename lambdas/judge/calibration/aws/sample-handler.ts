/**
 * The weekly sampling job (EventBridge Scheduler): this ISO week's review sample into the queue, and
 * one e-mail to the reviewers with a signed link per new item. A re-run of the week adds nothing and
 * sends no e-mail.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { logger, metrics, tracer } from '../../../shared/powertools';
import { calibrationSettingsFromEnv } from '../calibration-settings';
import { CALIBRATION_ENV, requiredCalibrationEnv } from '../calibration-env';
import { sampleReviewWeek } from '../sample-week';
import { reviewLinksEmail } from './review-links-email';
import { athenaEngineFromEnv, calibrationTablesFromEnv, reviewLinkSignerFromEnv, reviewQueueFromEnv } from './wiring';

const settings = calibrationSettingsFromEnv();
const stage = requiredCalibrationEnv(CALIBRATION_ENV.stage);
const topicArn = requiredCalibrationEnv(CALIBRATION_ENV.reviewersTopicArn);
const pageBaseUrl = requiredCalibrationEnv(CALIBRATION_ENV.pageBaseUrl);
const deps = { engine: athenaEngineFromEnv(), tables: calibrationTablesFromEnv(), queue: reviewQueueFromEnv(), clock: () => new Date() };
const signer = reviewLinkSignerFromEnv();
const sns = tracer.captureAWSv3Client(new SNSClient({}));

export interface SampleSummary {
  readonly week: string;
  readonly candidates: number;
  readonly sampled: number;
  readonly added: number;
}

async function sample(): Promise<SampleSummary> {
  const result = await sampleReviewWeek(settings, deps);
  metrics.addMetric('ReviewItemsSampled', MetricUnit.Count, result.added.length);
  // Only the items this run added get links: a re-run must not e-mail the week again.
  const added = result.added;
  if (added.length > 0) {
    const expiresAt = new Date(deps.clock().getTime() + settings.linkExpiryHours * 3_600_000);
    const links = await Promise.all(added.map(async (item) => ({ item, url: await signer.url(pageBaseUrl, item.itemId, expiresAt) })));
    const email = reviewLinksEmail(stage, result.week, links, expiresAt);
    await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: email.subject, Message: email.message }));
  }
  logger.info('review sample', { week: result.week, candidates: result.candidates, sampled: result.sampled, added: added.length });
  return { week: result.week, candidates: result.candidates, sampled: result.sampled, added: added.length };
}

export const handler = middy(sample)
  // The result carries counts only; the e-mail (signed links) never goes to X-Ray or the log.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics));
