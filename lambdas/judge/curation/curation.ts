/**
 * The judge's daily curation, as the three steps its state machine runs:
 *
 * 1. `selectCandidates`: the window's kept traces not yet judged under the current judge prompts are
 *    written by the engine as JSON-lines files (no trace passes through the function), and the day's
 *    usage so far is read from the judgments table (earlier runs count against the daily ceilings).
 * 2. `judgeNextLines`: one invocation judges the next lines of the files within the cost controls and
 *    writes one `judgments` row per judged trace; the state machine calls it until `done`. Once a
 *    daily ceiling stops a trace, the rest of the window would be stopped too: the run ends there.
 * 3. `judgedVariantMetrics`: judged faithfulness and misroute rate per model and serving variant of the
 *    window, for the metrics the canary alarms may read.
 *
 * Ports only (SQL engine, object bytes, judgment sink, judge model, clock): Athena, S3, Firehose and a
 * real endpoint in AWS; DuckDB, files, the local lake and the simulated judge locally.
 */
import { gunzipSync } from 'node:zlib';
import type { ObjectBytesReader } from '../../pipeline/ports';
import { loadSql } from '../../pipeline/dataset/sql-files';
import type { SqlEngine, SqlValue } from '../../pipeline/dataset/sql-engine';
import { floatValue, safeInteger, sqlTimestamp } from '../../pipeline/dataset/sql-values';
import { judgeBatch, type JudgeUsageToday } from '../judge-batch';
import type { JudgeModel } from '../judge-model';
import { judgePromptHash } from '../judge-policy';
import { judgmentRow, type JudgeEndpointKind, type JudgmentLakeRow } from '../judgment-row';
import { parseCandidateLine, type CurationCandidate } from './candidate-line';
import type { CurationSettings } from './settings';

/** Where `judgments` rows go: Firehose (PutRecordBatch) in AWS, the local lake locally. */
export interface JudgmentSink {
  write(rows: readonly JudgmentLakeRow[]): Promise<void>;
}

/** What the run has done so far; carried through the state machine from step to step. */
export interface CurationProgress {
  /** Candidate lines read. */
  readonly read: number;
  readonly judged: number;
  readonly notSampled: number;
  /** Sampled traces a daily ceiling stopped. */
  readonly stoppedByCeiling: number;
  /** Judged traces with at least one dimension recorded as no judgment. */
  readonly withNoJudgment: number;
}

/** The run's state between invocations (`$.curation` in the state machine). */
export interface CurationState {
  /** The traces judged: ts in [from, to), ISO 8601. */
  readonly window: { readonly from: string; readonly to: string };
  readonly promptHash: string;
  readonly files: readonly string[];
  /** Next line to read: file index and line index within it. */
  readonly cursor: { readonly file: number; readonly line: number };
  /** The UTC day whose ceilings apply, and what it used (earlier runs included). */
  readonly usageDay: string;
  readonly usage: JudgeUsageToday;
  readonly progress: CurationProgress;
  readonly done: boolean;
  /** Why the run stopped early, when it did. */
  readonly stoppedBy: 'daily_trace_ceiling' | 'daily_token_ceiling' | null;
}

/** A count column: an integer (engines may return it as text), 0 for NULL. */
function countOf(value: SqlValue | undefined, column: string): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'boolean') throw new Error(`column ${column}: expected a count, received a boolean`);
  return safeInteger(value, column);
}

/** A mean column: a number, or null when nothing was averaged. */
function meanOf(value: SqlValue | undefined, column: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') throw new Error(`column ${column}: expected a number, received a boolean`);
  return floatValue(value, column);
}

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

function utcDayStart(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

/**
 * The window a run judges: `windowHours` ending at the start of the hour the run started in (so a
 * schedule a few minutes late judges the same traces), or the hours ending at `until` when given.
 */
export function curationWindow(startedAt: Date, windowHours: number, until?: Date): { from: Date; to: Date } {
  const to = until ?? new Date(Math.floor(startedAt.getTime() / HOUR_MS) * HOUR_MS);
  return { from: new Date(to.getTime() - windowHours * HOUR_MS), to };
}

export interface SelectDependencies {
  readonly sql: SqlEngine;
  readonly settings: CurationSettings;
  readonly clock: () => Date;
}

/** Step 1: writes the candidate files under `workPrefix` (empty, one per run) and reads the day's usage. */
export async function selectCandidates(input: { readonly startedAt: Date; readonly until?: Date; readonly workPrefix: string }, deps: SelectDependencies): Promise<CurationState> {
  const { settings } = deps;
  const window = curationWindow(input.startedAt, settings.judge.curation.windowHours, input.until);
  const promptHash = judgePromptHash(settings.judgePolicy);
  const bounds = [sqlTimestamp(window.from), sqlTimestamp(window.to)];
  const unloaded = await deps.sql.unload(loadSql('curation-candidates'), [settings.boundary, ...bounds, promptHash, ...bounds], input.workPrefix, 'json');
  const now = deps.clock();
  const dayStart = utcDayStart(now);
  const [usage] = await deps.sql.query(loadSql('judge-usage'), [sqlTimestamp(dayStart), sqlTimestamp(new Date(dayStart.getTime() + DAY_MS))]);
  return {
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    promptHash,
    files: unloaded.files,
    cursor: { file: 0, line: 0 },
    usageDay: dayStart.toISOString().slice(0, 10),
    usage: { traces: countOf(usage?.traces, 'traces'), tokens: countOf(usage?.tokens, 'tokens') },
    progress: { read: 0, judged: 0, notSampled: 0, stoppedByCeiling: 0, withNoJudgment: 0 },
    done: unloaded.files.length === 0,
    stoppedBy: null,
  };
}

export interface JudgeStepDependencies {
  readonly files: ObjectBytesReader;
  readonly sink: JudgmentSink;
  readonly model: JudgeModel;
  readonly endpoint: JudgeEndpointKind;
  readonly settings: CurationSettings;
  readonly clock: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** A file's lines (Athena writes gzip, DuckDB plain text: told apart by the magic bytes). */
async function readLines(files: ObjectBytesReader, uri: string): Promise<string[]> {
  const bytes = await files.getBytes(uri);
  if (bytes === undefined) throw new Error(`candidate file ${uri} is missing`);
  const text = (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1] ? gunzipSync(bytes) : Buffer.from(bytes)).toString('utf8');
  return text.split('\n').filter((line) => line.trim() !== '');
}

/**
 * Step 2: judges up to `linesPerInvocation` candidate lines from the cursor (within one file) and
 * writes their rows. A new UTC day since the run started starts a new usage count.
 */
export async function judgeNextLines(state: CurationState, deps: JudgeStepDependencies): Promise<CurationState> {
  if (state.done) return state;
  const { settings } = deps;
  const uri = state.files[state.cursor.file];
  if (uri === undefined) return { ...state, done: true };
  const lines = await readLines(deps.files, uri);
  const end = Math.min(lines.length, state.cursor.line + settings.linesPerInvocation);
  const candidates: CurationCandidate[] = [];
  for (let i = state.cursor.line; i < end; i++) candidates.push(parseCandidateLine(lines[i] as string, `${uri} line ${i + 1}`, settings.judge.routeTiers ?? []));

  const now = deps.clock();
  const today = utcDayStart(now).toISOString().slice(0, 10);
  const usedToday = today === state.usageDay ? state.usage : { traces: 0, tokens: 0 };
  const result = await judgeBatch(
    candidates.map((c) => c.input),
    {
      model: deps.model,
      policy: settings.judgePolicy,
      routeTiers: settings.judge.routeTiers ?? [],
      controls: { samplingRate: settings.judge.samplingRate, maxTracesPerDay: settings.judge.maxTracesPerDay, maxTokensPerDay: settings.judge.maxTokensPerDay, maxConcurrency: settings.judge.maxConcurrency },
      usedToday,
      sampleSalt: state.promptHash,
      ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
    },
  );
  const byId = new Map(candidates.map((c) => [c.trace.traceId, c.trace]));
  const judgedAt = deps.clock();
  const rows = result.judgments.map((j) =>
    judgmentRow(j, byId.get(j.traceId) as CurationCandidate['trace'], { policy: settings.judgePolicy, rewardPolicyVersion: settings.rewardPolicyVersion, endpoint: deps.endpoint, judgedAt }),
  );
  await deps.sink.write(rows);

  const ceilingSkips = result.skipped.filter((s) => s.reason !== 'not_sampled');
  const progress: CurationProgress = {
    read: state.progress.read + candidates.length,
    judged: state.progress.judged + rows.length,
    notSampled: state.progress.notSampled + result.skipped.length - ceilingSkips.length,
    stoppedByCeiling: state.progress.stoppedByCeiling + ceilingSkips.length,
    withNoJudgment: state.progress.withNoJudgment + result.judgments.filter((j) => Object.keys(j.noJudgment).length > 0).length,
  };
  const stoppedBy = ceilingSkips[0]?.reason === 'daily_trace_ceiling' || ceilingSkips[0]?.reason === 'daily_token_ceiling' ? ceilingSkips[0].reason : null;
  const fileDone = end >= lines.length;
  const cursor = fileDone ? { file: state.cursor.file + 1, line: 0 } : { file: state.cursor.file, line: end };
  return {
    ...state,
    cursor,
    usageDay: today,
    usage: result.usageToday,
    progress,
    stoppedBy,
    done: stoppedBy !== null || cursor.file >= state.files.length,
  };
}

/** Judged quality of one model's serving variant over the window. */
export interface JudgedVariantMetrics {
  readonly model: string;
  readonly variant: string;
  readonly faithfulnessJudged: number;
  readonly faithfulnessMean: number | null;
  readonly misrouteJudged: number;
  readonly misrouteRate: number | null;
}

/** Step 3: judged faithfulness and misroute rate per model and variant of the window. */
export async function judgedVariantMetrics(state: Pick<CurationState, 'window' | 'promptHash'>, sql: SqlEngine): Promise<JudgedVariantMetrics[]> {
  const rows = await sql.query(loadSql('judged-variant-metrics'), [state.promptHash, sqlTimestamp(new Date(state.window.from)), sqlTimestamp(new Date(state.window.to))]);
  return rows.map((r) => ({
    model: String(r.model),
    variant: String(r.model_variant),
    faithfulnessJudged: countOf(r.faithfulness_judged, 'faithfulness_judged'),
    faithfulnessMean: meanOf(r.faithfulness_mean, 'faithfulness_mean'),
    misrouteJudged: countOf(r.misroute_judged, 'misroute_judged'),
    misrouteRate: meanOf(r.misroute_rate, 'misroute_rate'),
  }));
}
