/**
 * The daily operating-reports workflow on this machine: the synthesized state machine (as `cdk synth`
 * renders it) on the local Step Functions engine, its one function's code on the local lake (DuckDB), its
 * `sial.reports.ready` event appended to `<lake>/state/events.jsonl` and its regression notification
 * printed ([SIMULATED] SNS). The files go where `sial report --local` writes them: the artifact bucket's
 * `reports/` is the lake folder's `reports/` (`<lake>/reports/<date>/`); the confidence scores are merged
 * into the local lake's `confidence_scores` table.
 */
import { randomUUID } from 'node:crypto';
import { loadStageConfig, type StageConfig } from '../config';
import type { OperatingReportsResult } from '../lambdas/operations/write-reports';
import { reportRunId, writeOperatingReports } from '../lambdas/operations/write-reports';
import { OPERATING_REPORT_STATES as S } from '../stepfunctions/operating-reports';
import type { Json } from '../stepfunctions/render-asl';
import { LocalConfidenceTable } from './local-confidence-table';
import { localAgentIdentities } from './local-pseudonymisation-key';
import { LocalLake } from './local-lake';
import { runAsl, type AslRunResult } from './pipeline/asl-runner';
import { DuckDbSqlEngine } from './pipeline/duckdb-sql-engine';
import { FsObjectStore } from './pipeline/fs-object-store';
import { localPutEventsHandler, type LocalEvent } from './pipeline/local-event-log';
import { asStateMachineDefinition, synthesizePipeline } from './pipeline/synthesized-pipeline';

/** `s3://reports/<date>/...` is `<lake dir>/reports/<date>/...` (FsObjectStore rooted at the lake dir). */
export const LOCAL_REPORTS_URI = 's3://reports/';

export interface LocalOperatingReportsOptions {
  readonly stage: string;
  readonly lakeDir: string;
  /** The execution's start (`$$.Execution.StartTime`): the reports' end. */
  readonly startTime: Date;
  /** The time the write step runs (its Parquet run folder) and the events' time; default the wall clock. */
  readonly clock?: () => Date;
  readonly executionName?: string;
  readonly print?: (line: string) => void;
  /** Called with each event as it is put (the local run prints it). */
  readonly onEvent?: (event: LocalEvent) => void;
  /** The stage's configuration as parsed, instead of loading `stage` by name (a test's variant of a stage). */
  readonly config?: StageConfig;
}

export interface LocalOperatingReportsRun extends AslRunResult {
  /** What the write step returned; absent when it failed. */
  readonly report?: OperatingReportsResult;
  /** The events this execution put. */
  readonly events: readonly LocalEvent[];
  /** Rows the confidence MERGE inserted or updated (0 for a rerun of equal scores). */
  readonly confidenceRowsChanged: number;
}

export async function runLocalOperatingReports(options: LocalOperatingReportsOptions): Promise<LocalOperatingReportsRun> {
  const clock = options.clock ?? (() => new Date());
  const print = options.print ?? (() => undefined);
  const synthesized = synthesizePipeline(options.config ?? loadStageConfig(options.stage));
  const settings = synthesized.operatingReportsConfig;
  // lake.hashAgentIds: the declared agents' pseudonyms under the local lake's key, as the gate wrote them.
  const identities = await localAgentIdentities(settings, options.lakeDir);
  const lake = await LocalLake.open(options.lakeDir);
  const store = new FsObjectStore(options.lakeDir);
  const table = new LocalConfidenceTable(lake);
  const events: LocalEvent[] = [];
  let report: OperatingReportsResult | undefined;
  try {
    const sql = new DuckDbSqlEngine(lake, (uri) => store.pathOf(uri));
    const run = await runAsl(asStateMachineDefinition(synthesized.operatingReports), {}, {
      executionName: options.executionName ?? `reports-${randomUUID()}`,
      startTime: options.startTime,
      clock,
      handlers: {
        [S.writeReports]: async (input) => {
          const startedAt = (input as { startedAt?: unknown } | null)?.startedAt;
          if (typeof startedAt !== 'string') throw new Error('Write operating reports (local): the input needs startedAt');
          report = await writeOperatingReports(sql, store, settings, new Date(startedAt), LOCAL_REPORTS_URI, { runId: reportRunId(clock()), confidenceTable: table, identities });
          return report as unknown as Json;
        },
        [S.emitReportsReady]: localPutEventsHandler(options.lakeDir, clock, (event) => {
          events.push(event);
          options.onEvent?.(event);
        }),
        [S.notifyRegression]: async (input) => {
          const { Subject: subject, Message: message } = input as { Subject?: string; Message?: string };
          print(`  [SIMULATED] SNS: ${subject ?? ''}`);
          for (const line of (message ?? '').split('\n')) print(`    ${line}`);
          return { MessageId: randomUUID() };
        },
      },
    });
    return { ...run, ...(report === undefined ? {} : { report }), events, confidenceRowsChanged: table.lastChanged };
  } finally {
    lake.close();
  }
}
