/**
 * The weekly agreement report (EventBridge Scheduler, after the sampling): reviews of the last
 * `windowDays` joined with their judgments through Athena, the report's JSON and HTML in the artifact
 * bucket, and per dimension the kappa and the reviewed count as CloudWatch metrics (EMF), which the
 * construct's alarms watch.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { logger, metrics } from '../../../shared/powertools';
import { CALIBRATION_METRICS, calibrationMetrics } from '../calibration-report';
import { calibrationSettingsFromEnv } from '../calibration-settings';
import { CALIBRATION_ENV, requiredCalibrationEnv } from '../calibration-env';
import { writeCalibrationReport } from '../write-report';
import { S3ReportStore } from './s3-report-store';
import { athenaEngineFromEnv, calibrationTablesFromEnv } from './wiring';

const settings = calibrationSettingsFromEnv();
const store = new S3ReportStore(new S3Client({}), requiredCalibrationEnv(CALIBRATION_ENV.reportBucket), requiredCalibrationEnv(CALIBRATION_ENV.reportPrefix));
const deps = { engine: athenaEngineFromEnv(), tables: calibrationTablesFromEnv(), store, clock: () => new Date() };

export interface ReportSummary {
  readonly json: string;
  readonly html: string;
  readonly reviews: number;
  readonly alarms: readonly string[];
}

async function report(): Promise<ReportSummary> {
  const written = await writeCalibrationReport(settings, deps);
  // A single metric flushes on its first value, so each value gets its own, with the dimension.
  const publish = (dimension: string, name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): void => {
    const single = metrics.singleMetric();
    single.addDimension(CALIBRATION_METRICS.dimensionName, dimension);
    single.addMetric(name, unit, value);
  };
  for (const m of calibrationMetrics(written.report)) {
    publish(m.dimension, CALIBRATION_METRICS.reviewed, MetricUnit.Count, m.reviewed);
    // An undefined kappa is not published: the count alarm says why there is none.
    if (m.kappa !== null) publish(m.dimension, CALIBRATION_METRICS.kappa, MetricUnit.NoUnit, m.kappa);
  }
  logger.info('calibration report', { json: written.json, reviews: written.report.reviews, alarms: written.report.alarms });
  return { json: written.json, html: written.html, reviews: written.report.reviews, alarms: written.report.alarms };
}

export const handler = middy(report)
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics));
