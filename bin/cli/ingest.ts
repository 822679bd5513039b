/**
 * `sial ingest FILE... --stage NAME`: sends trace files to the stage's Firehose stream, the way a
 * producer would, so a team can replay an export (Langfuse, OTLP, our JSON) into the loop. Each
 * record is one trace; the gate decides what is kept, exactly as for live traffic.
 */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { loadStageConfig } from '../../config';
import { EXIT, parseCommandLine, UsageError, type CliCommand } from './command';
import { putRecordBatches, type PutOptions } from '../../lambdas/shared/aws/put-record-batches';
import { readTraceFile, type ReadProblem, type TraceRecord } from './trace-files';

/** Where the stream's name may come from when --stream is not given. */
export const TRACE_STREAM_ENV = 'SIAL_TRACE_STREAM';

const USAGE = `usage:
  sial ingest FILE... --stage NAME [--stream NAME] [--region R] [--dry-run]

Sends traces to the stage's Firehose stream with PutRecordBatch (500 records or 4 MiB per call), re-sending
only the records a call reports as failed, with backoff, and prints a summary.

FILE is JSON Lines (.jsonl, .ndjson: one trace per line), a JSON array of traces, or one JSON object, in any
format the gate accepts (the project's JSON, a Langfuse trace export, an OTLP/JSON export).

where:
  --stage NAME   the stage (config/stages): its region is used unless --region is given
  --stream NAME  the stream: stack output TraceStreamName of sial-<stage>-data (or $${TRACE_STREAM_ENV})
  --region R     the stream's region
  --dry-run      read and batch the files, send nothing

exit codes: 0 every record delivered, 1 some could not be read or delivered (listed), 2 usage`;

const OPTIONS = {
  stage: { type: 'string' },
  stream: { type: 'string' },
  region: { type: 'string' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** How many problem lines are printed before the rest is summarised. */
const MAX_LISTED = 20;

function listProblems(problems: readonly ReadProblem[], err: (line: string) => void): void {
  for (const p of problems.slice(0, MAX_LISTED)) err(`  ${p.source}: ${p.problem}`);
  if (problems.length > MAX_LISTED) err(`  ... and ${problems.length - MAX_LISTED} more`);
}

/** Builds the command; tests pass a client factory backed by aws-sdk-client-mock. */
export function createIngestCommand(clientFor: (region: string) => FirehoseClient = (region) => new FirehoseClient({ region }), putOptions: Partial<PutOptions> = {}): CliCommand {
  return {
    name: 'ingest',
    summary: "send trace files (JSON Lines, arrays, exports) to a stage's Firehose stream",
    usage: USAGE,
    async run(args, context) {
      const parsed = parseCommandLine(args, OPTIONS, USAGE, context);
      if (parsed === undefined) return EXIT.ok;
      const { values, positionals: files } = parsed;
      if (files.length === 0) throw new UsageError('name at least one FILE');
      if (values.stage === undefined) throw new UsageError('--stage NAME is required');
      const stage = loadStageConfig(values.stage);
      const streamName = values.stream ?? context.env[TRACE_STREAM_ENV];
      if (streamName === undefined || streamName === '') throw new UsageError(`name the stream with --stream NAME or $${TRACE_STREAM_ENV} (stack output TraceStreamName of sial-${stage.stage}-data)`);
      const region = values.region ?? stage.region;

      const records: TraceRecord[] = [];
      const problems: ReadProblem[] = [];
      for (const file of files) {
        let read;
        try {
          read = readTraceFile(file);
        } catch (error) {
          problems.push({ source: file, problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
          continue;
        }
        records.push(...read.records);
        problems.push(...read.problems);
      }
      context.io.out(`Read ${records.length} record(s) from ${files.length} file(s)${problems.length > 0 ? `; ${problems.length} could not be read and will not be sent:` : ''}`);
      listProblems(problems, context.io.err);
      if (values['dry-run'] === true) {
        context.io.out(`Dry run: nothing sent to ${streamName} (${region}).`);
        return problems.length > 0 ? EXIT.failed : EXIT.ok;
      }
      const summary = await putRecordBatches(records, { client: clientFor(region), streamName, ...putOptions });
      context.io.out(`Sent to ${streamName} (${region}): ${summary.delivered} of ${summary.sent} delivered in ${summary.calls} call(s), ${summary.resent} re-sent after a failure.`);
      const failed = Object.entries(summary.failedByCode);
      if (failed.length > 0) {
        context.io.err(`Not delivered after the retries: ${failed.map(([code, n]) => `${n} x ${code}`).join(', ')}:`);
        listProblems(summary.failedSources.map((source) => ({ source, problem: 'not delivered' })), context.io.err);
      }
      return problems.length > 0 || failed.length > 0 ? EXIT.failed : EXIT.ok;
    },
  };
}

export const ingestCommand = createIngestCommand();
