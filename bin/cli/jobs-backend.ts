/**
 * Where `sial jobs` reads: the stage's jobs table with the caller's AWS credentials (Scan and GetItem,
 * nothing else), or the local records of `--local DIR` (`<DIR>/state/jobs.json`, which the local run's
 * engine writes by executing the same UpdateItem states). Both parse items with the one record schema.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { JOB_RECORDS_TABLE_SCHEMA, parseJobRecord, type JobRecord } from '../../lambdas/pipeline/jobs/job-record';
import { openLakeDir } from '../../local/lake-dir';
import { readLocalJobRecords } from '../../local/pipeline/local-job-records';

export interface JobsBackend {
  /** Every job record, unordered. */
  list(): Promise<JobRecord[]>;
  /** One job's record; undefined when there is none of that id. */
  get(jobId: string): Promise<JobRecord | undefined>;
  /** For messages: where the records are. */
  readonly where: string;
}

/**
 * The records of the local runs whose lake directory is `dir`.
 *
 * @throws Error when `dir` is not a lake directory of `sial local run`.
 */
export function localJobsBackend(dir: string): JobsBackend {
  const { lakeDir } = openLakeDir(dir);
  return {
    list: async () => readLocalJobRecords(lakeDir),
    get: async (jobId) => readLocalJobRecords(lakeDir).find((r) => r.jobId === jobId),
    where: `local run ${lakeDir}`,
  };
}

export interface AwsJobsBackendOptions {
  readonly tableName: string;
  readonly region: string;
  /** The client, for tests with aws-sdk-client-mock; built from the default credential chain otherwise. */
  readonly dynamoDb?: DynamoDBClient;
}

/** The stage's jobs table, read with the caller's credentials. */
export function awsJobsBackend(options: AwsJobsBackendOptions): JobsBackend {
  const documents = DynamoDBDocumentClient.from(options.dynamoDb ?? new DynamoDBClient({ region: options.region }));
  const key = JOB_RECORDS_TABLE_SCHEMA.partitionKey;
  return {
    // A stage's table holds a few items per training run; one Scan (paged) reads it whole.
    async list() {
      const records: JobRecord[] = [];
      for await (const page of paginateScan({ client: documents }, { TableName: options.tableName })) {
        for (const item of page.Items ?? []) records.push(parseJobRecord(item));
      }
      return records;
    },
    async get(jobId) {
      // Strongly consistent: a job recorded a moment ago is shown as recorded.
      const out = await documents.send(new GetCommand({ TableName: options.tableName, Key: { [key]: jobId }, ConsistentRead: true }));
      return out.Item === undefined ? undefined : parseJobRecord(out.Item);
    },
    where: `table ${options.tableName} in ${options.region}`,
  };
}
