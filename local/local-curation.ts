/**
 * The judge's curation on this machine: the state machine synthesized for the stage, executed with the
 * same step functions its Lambdas run, over the local lake (DuckDB), candidate files in the local object
 * store, judgments appended to the lake, and the SIMULATED judge (deterministic rules, not a language
 * model) in place of the stage's endpoint. The judged metrics are written to `judged-metrics.json` in
 * the lake directory instead of CloudWatch.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgeNextLines, judgedVariantMetrics, selectCandidates, type CurationState, type JudgedVariantMetrics } from '../lambdas/judge/curation/curation';
import { curationEventSchema, parseEvent, selectEventSchema } from '../lambdas/judge/curation/contracts';
import type { CurationSettings } from '../lambdas/judge/curation/settings';
import type { AslDefinition, Json } from '../stepfunctions/render-asl';
import { JUDGE_CURATION_STATES as S } from '../stepfunctions/judge-curation';
import type { LocalLake } from './local-lake';
import { runAsl, type AslRunResult } from './pipeline/asl-runner';
import { DuckDbSqlEngine } from './pipeline/duckdb-sql-engine';
import { FsObjectStore } from './pipeline/fs-object-store';
import { asStateMachineDefinition } from './pipeline/synthesized-pipeline';
import { SimulatedJudgeModel, type SimulatedJudgeOptions } from './simulated-judge';

export interface LocalCurationOptions {
  readonly definition: AslDefinition;
  readonly settings: CurationSettings;
  readonly lake: LocalLake;
  /** The run's lake directory (the metrics file goes at its root). */
  readonly lakeDir: string;
  /** The local stand-in for S3 (the candidate files). */
  readonly objectsDir: string;
  /** The execution's start (the window ends at the start of its hour). */
  readonly startedAt: Date;
  /** Ends the window here instead (the execution input's `until`). */
  readonly until?: Date;
  readonly clock: () => Date;
  readonly executionName: string;
  readonly judge?: SimulatedJudgeOptions;
  readonly onStateEntered?: (name: string) => void;
}

export interface LocalCurationResult {
  readonly run: AslRunResult;
  readonly state?: CurationState;
  readonly variants: readonly JudgedVariantMetrics[];
  readonly judgeName: string;
}

/** Executes the curation once; resolves with what it judged and the judged metrics per variant. */
export async function runLocalCuration(options: LocalCurationOptions): Promise<LocalCurationResult> {
  const store = new FsObjectStore(options.objectsDir);
  const sql = new DuckDbSqlEngine(options.lake, (uri) => store.pathOf(uri));
  const model = new SimulatedJudgeModel(options.settings.judgePolicy, options.judge);
  const asJson = (value: unknown): Json => JSON.parse(JSON.stringify(value)) as Json;
  let last: CurationState | undefined;
  let variants: JudgedVariantMetrics[] = [];

  const run = await runAsl(
    asStateMachineDefinition(options.definition),
    options.until === undefined ? {} : { until: options.until.toISOString() },
    {
      executionName: options.executionName,
      onStateEntered: options.onStateEntered,
      handlers: {
        // The engine's $$.Execution.StartTime is the wall clock; the run's virtual start is used instead.
        [S.selectCandidates]: async (input) => {
          const event = parseEvent(selectEventSchema, { ...(input as object), startedAt: options.startedAt.toISOString() }, S.selectCandidates);
          last = await selectCandidates(
            { startedAt: new Date(event.startedAt), ...(event.input.until === undefined ? {} : { until: new Date(event.input.until) }), workPrefix: `s3://local-artifacts/curation/${event.executionName}/candidates/` },
            { sql, settings: options.settings, clock: options.clock },
          );
          return asJson(last);
        },
        [S.judgeNextLines]: async (input) => {
          const { curation } = parseEvent(curationEventSchema, input, S.judgeNextLines);
          last = await judgeNextLines(curation, {
            files: store,
            sink: { write: (rows) => options.lake.append('judgments', rows) },
            model,
            endpoint: 'simulated',
            settings: options.settings,
            clock: options.clock,
          });
          return asJson(last);
        },
        [S.publishJudgedMetrics]: async (input) => {
          const { curation } = parseEvent(curationEventSchema, input, S.publishJudgedMetrics);
          variants = await judgedVariantMetrics(curation, sql);
          writeFileSync(join(options.lakeDir, 'judged-metrics.json'), `${JSON.stringify({ window: curation.window, judge: model.name, variants }, null, 2)}\n`);
          return asJson({ variants });
        },
      },
    },
  );
  return { run, ...(last === undefined ? {} : { state: last }), variants, judgeName: model.name };
}
