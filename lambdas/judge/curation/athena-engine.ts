/** The curation functions' Athena engine: the lake's tables, the stage's workgroup, queries stopped in time. */
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../pipeline/aws/s3-object-store';
import { AthenaSqlEngine } from '../../pipeline/dataset/athena-sql-engine';
import { requiredEnv } from '../../shared/required-env';
import { logger } from '../../shared/powertools';
import { CURATION_ENV, type CurationSettings } from './settings';

export function curationSqlEngine(settings: CurationSettings, timeoutMs: number): AthenaSqlEngine {
  const store = new S3ObjectStore(new S3Client({}));
  return new AthenaSqlEngine(new AthenaClient({}), {
    workGroup: requiredEnv(CURATION_ENV.athenaWorkGroup),
    database: settings.lake.databaseName,
    tables: { traces: settings.lake.tracesTable, gate_audit: settings.lake.auditTable, feedback: settings.lake.feedbackTable, judgments: settings.lake.judgmentsTable },
    timeoutMs,
    // UNLOAD's data manifest (the files it wrote) is read from the workgroup's result location.
    readText: (uri) => store.getText(uri),
    deletePrefix: (prefix) => store.deletePrefix(prefix),
    onQueryCompleted: (info) => logger.info('athena query completed', { ...info }),
  });
}
