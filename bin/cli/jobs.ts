/**
 * `sial jobs list [--run ID] [--status S] | show JOB_ID`: the job records of the training pipeline's
 * Batch jobs (train, eval, train-router), one per job, as the state machine wrote them beside each
 * `sial.job.updated` event: in a deployed stage's jobs table with the caller's credentials, or with
 * `--local DIR` in a local run's lake directory.
 */
import { loadStageConfig } from '../../config';
import { JOB_STATUSES, selectJobs, type JobHistoryEntry, type JobRecord, type JobStatus } from '../../lambdas/pipeline/jobs/job-record';
import { LakeDirRefused } from '../../local/lake-dir';
import { EXIT, nonEmpty, parseCommandLine, UsageError, type CliCommand, type CliContext, type ParsedCommandLine } from './command';
import { awsJobsBackend as defaultAwsBackend, localJobsBackend, type AwsJobsBackendOptions, type JobsBackend } from './jobs-backend';
import { formatTable } from './table';

/** Environment variables for what a flag does not name. */
export const JOBS_TABLE_ENV = 'SIAL_JOBS_TABLE';
export const JOBS_STAGE_ENV = 'SIAL_STAGE';

const USAGE = `usage:
  sial jobs list [--run ID] [--status S] [--json]   (--local DIR | --stage NAME [--table NAME] [--region R])
  sial jobs show JOB_ID [--json]                      (--local DIR | --stage NAME [--table NAME] [--region R])

list   every Batch job the training pipeline ran (newest first): kind, status, attempts, model, dataset,
       when it was submitted and ended, the error's name on failure
show   one job's record and its status history (submitted, then succeeded or failed, with times)

A job's id is the name it is submitted to Batch with, <kind>-<runId> (kinds: train, eval, train-router);
aws.batch and sial.job.updated events carry it as jobName.

where:
  --run ID      only the jobs of this run (its run id or execution name)
  --status S    only jobs whose latest status is S: ${JOB_STATUSES.join(', ')}
  --json        the records as JSON
  --local DIR   the lake directory of a local run (sial local run --lake-dir)
  --stage NAME  a deployed stage in config/stages (default: $${JOBS_STAGE_ENV}); its region is used
  --table NAME  the stage's jobs table: stack output JobsTableName of sial-<stage>-data
                (default: $${JOBS_TABLE_ENV})
  --region R    the table's region (default: the stage's)

In AWS your credentials act: dynamodb Scan (list) and GetItem (show) on the table, kms Decrypt on its
key (the lake key). A job that is still "submitted" after its run ended had its end not recorded (the
booking of its hours failed, or the execution was stopped): its execution's history has the rest.`;

const OPTIONS = {
  local: { type: 'string' },
  stage: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  run: { type: 'string' },
  status: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ParsedCommandLine<typeof OPTIONS>['values'];

function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value);
}

/** `2026-11-21T09:00:00.000Z` -> `2026-11-21 09:00:00Z`: one width in a table. */
function time(iso: string | undefined): string {
  return iso === undefined ? '' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

function listed(backend: JobsBackend, records: readonly JobRecord[], values: Values, context: CliContext): number {
  if (values.json === true) {
    context.io.out(JSON.stringify(records, null, 2));
    return EXIT.ok;
  }
  if (records.length === 0) {
    const filters = [values.run === undefined ? '' : ` of run ${values.run}`, values.status === undefined ? '' : ` with status ${values.status}`].join('');
    context.io.out(`No jobs${filters} are recorded (${backend.where}).`);
    return EXIT.ok;
  }
  const rows = records.map((r) => [r.jobId, r.jobKind, r.status, r.attempts === undefined ? '' : String(r.attempts), r.targetModelId, r.datasetId, time(r.submittedAt), time(r.endedAt), r.error ?? '']);
  formatTable(['JOB', 'KIND', 'STATUS', 'ATTEMPTS', 'MODEL', 'DATASET', 'SUBMITTED', 'ENDED', 'ERROR'], rows).forEach((l) => context.io.out(l));
  return EXIT.ok;
}

function historyLine(entry: JobHistoryEntry): string {
  const details = [
    entry.attempts === undefined ? '' : `attempts ${entry.attempts}`,
    entry.batchJobId === undefined ? '' : `batch job ${entry.batchJobId}`,
    entry.error === undefined ? '' : `error ${entry.error}`,
  ].filter((d) => d !== '');
  return `  ${time(entry.at)}  ${entry.status.padEnd(9)}${details.length === 0 ? '' : `  ${details.join(', ')}`}`.trimEnd();
}

function shown(record: JobRecord, values: Values, context: CliContext): number {
  const out = (line: string) => context.io.out(line);
  if (values.json === true) {
    out(JSON.stringify(record, null, 2));
    return EXIT.ok;
  }
  const fields: Array<[string, string | undefined]> = [
    ['job', record.jobId],
    ['kind', record.jobKind],
    ['status', record.status],
    ['run', record.runId],
    ['execution', record.executionName],
    ['model', record.targetModelId],
    ['dataset', record.datasetId],
    ['output', record.modelOutputUri],
    ['attempts', record.attempts === undefined ? undefined : String(record.attempts)],
    ['batch job', record.batchJobId],
    ['error', record.error],
    ['submitted', time(record.submittedAt)],
    ['ended', time(record.endedAt)],
  ];
  const width = Math.max(...fields.map(([name]) => name.length));
  for (const [name, value] of fields) if (value !== undefined && value !== '') out(`${name.padEnd(width)}  ${value}`);
  out('history:');
  record.history.forEach((entry) => out(historyLine(entry)));
  return EXIT.ok;
}

/** Picks the backend: `--local DIR`, or the deployed stage's table. */
function backendFor(values: Values, context: CliContext, aws: (options: AwsJobsBackendOptions) => JobsBackend): JobsBackend {
  if (values.local !== undefined) {
    if (values.stage !== undefined || values.table !== undefined || values.region !== undefined) throw new UsageError('--local cannot be combined with --stage, --table or --region');
    return localJobsBackend(values.local);
  }
  const stageName = nonEmpty(values.stage) ?? nonEmpty(context.env[JOBS_STAGE_ENV]);
  if (stageName === undefined) throw new UsageError(`name a deployed stage with --stage NAME (or $${JOBS_STAGE_ENV}), or a local run with --local DIR`);
  let region: string;
  try {
    region = nonEmpty(values.region) ?? loadStageConfig(stageName).region;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const tableName = nonEmpty(values.table) ?? nonEmpty(context.env[JOBS_TABLE_ENV]);
  if (tableName === undefined) throw new UsageError(`name stage ${stageName}'s jobs table with --table NAME or $${JOBS_TABLE_ENV} (stack output JobsTableName of sial-${stageName}-data)`);
  return aws({ tableName, region });
}

/** Builds the command; tests pass an AWS backend with a mocked client. */
export function createJobsCommand(aws: (options: AwsJobsBackendOptions) => JobsBackend = defaultAwsBackend): CliCommand {
  return {
    name: 'jobs',
    summary: "the training pipeline's Batch jobs and their status history: sial jobs list | show JOB_ID (--local DIR or --stage NAME)",
    usage: USAGE,
    async run(args, context) {
      const parsed = parseCommandLine(args, OPTIONS, USAGE, context);
      if (parsed === undefined) return EXIT.ok;
      const { values, positionals } = parsed;
      const [action, id, ...extra] = positionals;
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
      if (action !== 'list' && action !== 'show') throw new UsageError(action === undefined ? 'say what to do: list or show JOB_ID' : `unknown action "${action}" (list or show)`);
      if (action === 'list' && id !== undefined) throw new UsageError('list takes no JOB_ID (show does)');
      if (action === 'show' && id === undefined) throw new UsageError('show needs the JOB_ID (see: sial jobs list)');
      if (action === 'show' && (values.run !== undefined || values.status !== undefined)) throw new UsageError('--run and --status are for list');
      if (values.status !== undefined && !isJobStatus(values.status)) throw new UsageError(`--status must be one of ${JOB_STATUSES.join(', ')}; received "${values.status}"`);
      let backend: JobsBackend;
      try {
        backend = backendFor(values, context, aws);
      } catch (error) {
        if (!(error instanceof LakeDirRefused)) throw error;
        context.io.err(`sial jobs: ${error.message}`);
        return EXIT.failed;
      }
      if (action === 'list') {
        const status = values.status as JobStatus | undefined;
        return listed(backend, selectJobs(await backend.list(), { ...(values.run === undefined ? {} : { run: values.run }), ...(status === undefined ? {} : { status }) }), values, context);
      }
      const record = await backend.get(id!);
      if (record === undefined) {
        context.io.err(`sial jobs: there is no job "${id}" (${backend.where}). A job's id is <kind>-<runId>; list them with: sial jobs list`);
        return EXIT.failed;
      }
      return shown(record, values, context);
    },
  };
}

/** `sial jobs`. */
export const jobsCommand: CliCommand = createJobsCommand();
