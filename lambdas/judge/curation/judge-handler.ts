/**
 * `Judge next lines` Lambda: `{ curation }` -> CurationState. Judges the next candidate lines within the
 * stage's ceilings and sends one `judgments` row per judged trace to the judgment stream (Firehose
 * PutRecordBatch, failed records re-sent). Logs counts and ids only, never trace text or judge output.
 * Needs CURATION_SETTINGS and JUDGMENT_STREAM_NAME, read of the candidate files, and the judge endpoint.
 */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { S3ObjectStore } from '../../pipeline/aws/s3-object-store';
import { requiredEnv } from '../../shared/required-env';
import { putRecordBatches } from '../../shared/aws/put-record-batches';
import { logger, metrics } from '../../shared/powertools';
import { judgeModelForStage } from '../adapters/judge-model-for-stage';
import type { JudgmentLakeRow } from '../judgment-row';
import { curationEventSchema, parseEvent } from './contracts';
import { judgeNextLines, type CurationState, type JudgmentSink } from './curation';
import { CURATION_ENV, curationSettingsFromEnv } from './settings';

const settings = curationSettingsFromEnv();
const streamName = requiredEnv(CURATION_ENV.judgmentStream);
const files = new S3ObjectStore(new S3Client({}));
const firehose = new FirehoseClient({});
const judge = judgeModelForStage(settings.judge.endpoint);

const sink: JudgmentSink = {
  async write(rows: readonly JudgmentLakeRow[]): Promise<void> {
    if (rows.length === 0) return;
    const summary = await putRecordBatches(
      rows.map((row) => ({ source: row.trace_id, data: Buffer.from(JSON.stringify(row)) })),
      { client: firehose, streamName },
    );
    const failed = Object.values(summary.failedByCode).reduce((a, b) => a + b, 0);
    // A judgment that never reached the stream is judged again by the next run (it is not in the table).
    if (failed > 0) throw new Error(`${failed} of ${rows.length} judgments were not accepted by ${streamName}: ${JSON.stringify(summary.failedByCode)}`);
  },
};

async function judgeStep(event: unknown): Promise<CurationState> {
  const { curation } = parseEvent(curationEventSchema, event, 'Judge next lines');
  const before = curation.progress.judged;
  const next = await judgeNextLines(curation, { files, sink, model: judge.model, endpoint: judge.kind, settings, clock: () => new Date() });
  logger.info('judged candidate lines', { cursor: next.cursor, progress: next.progress, usage: next.usage, stoppedBy: next.stoppedBy, done: next.done });
  metrics.addMetric('TracesJudged', MetricUnit.Count, next.progress.judged - before);
  return next;
}

export const handler = middy(judgeStep)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
