/**
 * The dataset build's queries as typed functions: each binds its file's parameters in the file's order
 * and validates the rows it gets back, so a drift between a file and its caller fails loudly. The files
 * themselves are written by the engine (`unload`); only the small summaries come back as rows.
 */
import * as z from '../../shared/zod-mini';
import type { DataBoundary } from '../../../config/boundaries';
import type { DatasetConfig, EligibilityConfig } from '../../../config/schema';
import type { TrainingScope } from '../../gate-score/gates/confidentiality-gate';
import type { RewardScoring } from '../settings';
import type { SqlEngine, SqlParam, SqlRow, UnloadFormat, UnloadResult } from './sql-engine';
import { loadSql, withInline, withTables, type SqlFileName } from './sql-files';
import { sqlTimestamp } from './sql-values';

/** Which traces a dataset reads and how it scores, cleans and pairs them. */
export interface TraceSelection {
  readonly boundary: DataBoundary;
  /** Whether the target model is internal-only (it may then read internal-only rows too). */
  readonly internalOnly: boolean;
  /** Inclusive bounds on the trace timestamp `ts` (and on feedback and audit times). */
  readonly from: Date;
  readonly to: Date;
  /** The current reward policy's weights and feedback rule (re-scoring). */
  readonly scoring: RewardScoring;
  readonly dataset: DatasetConfig;
  readonly eligibility: EligibilityConfig;
  /** The DPO margin as compared: the configured margin lowered by a float tolerance. */
  readonly dpoMinMargin: number;
  /** `{{inline:golden_ngrams}}`: the golden set's n-grams, `|gram|...|`, or '' for none. */
  readonly goldenNgrams: string;
}

/**
 * The training scopes a target may read, as the two values of `training_scope IN (?, ?)`: a general
 * model reads only `all-models` rows (the value twice); an internal-only model reads both. Fail-closed:
 * a scope value this list does not know is read by nobody.
 */
export function readableScopes(internalOnly: boolean): readonly [TrainingScope, TrainingScope] {
  return internalOnly ? ['all-models', 'internal-only-models'] : ['all-models', 'all-models'];
}

/** The parameters of sql/candidates.sql, in its order (the file lists them). */
export function candidatesParams(s: TraceSelection): SqlParam[] {
  const [scopeA, scopeB] = readableScopes(s.internalOnly);
  const { weights, feedback } = s.scoring;
  const o = feedback.outcomeScores;
  return [
    scopeA,
    scopeB,
    `|${s.dataset.acceptedRewardPolicyVersions.join('|')}|`,
    s.scoring.version,
    weights.feedback,
    weights.errors,
    weights.latency,
    weights.groundedness,
    weights.judge,
    o.success,
    o.fallback,
    o.timeout,
    o.error,
    o.user_rejected,
    feedback.qualityShare,
    s.dataset.decontamination.ngramWords,
    s.dataset.decontamination.maxOverlap,
    s.boundary,
    sqlTimestamp(s.from),
    sqlTimestamp(s.to),
    sqlTimestamp(s.from),
    sqlTimestamp(s.to),
    s.scoring.judgePromptHash,
    sqlTimestamp(s.from),
    sqlTimestamp(s.to),
  ];
}

/** The parameters of sql/selection.sql (the light selection over the candidates), in its order. */
export function selectionParams(s: TraceSelection): SqlParam[] {
  return [s.eligibility.highQualityReward, s.eligibility.minPositiveFeedback, s.eligibility.minHighQualityTraces, s.dpoMinMargin, sqlTimestamp(s.from), sqlTimestamp(s.to)];
}

/** The tables the build materialised, for `{{table:NAME}}`. */
export type BuildTables = Readonly<Record<string, string>>;

/**
 * Materialises the candidates (the heavy part: de-duplication, feedback, re-scoring, decontamination) and
 * then the group members, under `workPrefix`; returns both tables.
 */
export async function materializeSelection(sql: SqlEngine, s: TraceSelection, workPrefix: string): Promise<BuildTables> {
  const candidatesQuery = withInline(loadSql('candidates'), { golden_ngrams: s.goldenNgrams });
  const candidates = await sql.materialize('candidates', candidatesQuery, candidatesParams(s), `${workPrefix}candidates/`);
  const members = await sql.materialize('members', withTables(loadSql('members'), { candidates }), selectionParams(s), `${workPrefix}members/`);
  return { candidates, members };
}

function parseRows<T>(schema: z.ZodMiniType<T>, rows: readonly SqlRow[], queryName: string): T[] {
  return rows.map((row, index) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) throw new Error(`${queryName}: row ${index} does not have the expected shape: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  });
}

/**
 * Materialises a router target's rows (one per usable trace of an eligible agent, router line contract)
 * from the materialised candidates, under `workPrefix`; returns the tables with `router_members` added.
 */
export async function materializeRouterMembers(sql: SqlEngine, s: TraceSelection, tables: BuildTables, workPrefix: string): Promise<BuildTables> {
  const routerMembers = await sql.materialize('router_members', withTables(loadSql('router-members'), tables), selectionParams(s), `${workPrefix}router-members/`);
  return { ...tables, router_members: routerMembers };
}

/** Lines of the router file: the materialised router members. */
export async function countRouterRows(sql: SqlEngine, tables: BuildTables): Promise<number> {
  const rows = await sql.query({ name: 'router-row-count', template: 'SELECT count(*) AS router_rows FROM {{table:router_members}}', tables }, []);
  const [row] = parseRows(z.object({ router_rows: count }), rows, 'router-row-count');
  if (row === undefined) throw new Error('router-row-count: expected one row');
  return row.router_rows;
}

/**
 * The dataset files the engine writes: which query, which format. The router file is JSON built by its
 * query and written as text (dataset-router.sql says why).
 */
export const DATASET_FILES = {
  grpo: { query: 'dataset-grpo', format: 'json' },
  dpo: { query: 'dataset-dpo', format: 'json' },
  traceIds: { query: 'dataset-trace-ids', format: 'text' },
  router: { query: 'dataset-router', format: 'text' },
  routerTraceIds: { query: 'dataset-router-trace-ids', format: 'text' },
} as const satisfies Record<string, { query: SqlFileName; format: UnloadFormat }>;
export type DatasetFileKind = keyof typeof DATASET_FILES;

/** Has the engine write one of the dataset's files under `prefix`, from the materialised members. */
export function unloadDatasetFile(sql: SqlEngine, kind: DatasetFileKind, tables: BuildTables, prefix: string): Promise<UnloadResult> {
  const { query, format } = DATASET_FILES[kind];
  return sql.unload(withTables(loadSql(query), tables), [], prefix, format);
}

const count = z.number().check(z.int(), z.nonnegative());
const summaryRowSchema = z.object({
  rows_in_window: count,
  duplicate_copies: count,
  excluded_policy_version: count,
  excluded_no_user_turn: count,
  excluded_golden_overlap: count,
  excluded_ineligible_agent: count,
  late_feedback_applied: count,
  rescored_older_policy: count,
  traces_used: count,
  grpo_groups: count,
  grpo_completions: count,
  dpo_pairs: count,
});
export type DatasetSummary = z.output<typeof summaryRowSchema>;

/** The manifest's counts, over the same selection as the files. */
export async function queryDatasetSummary(sql: SqlEngine, selection: TraceSelection, tables: BuildTables): Promise<DatasetSummary> {
  const query = withTables(loadSql('dataset-summary'), tables);
  const rows = await sql.query(query, [...selectionParams(selection), selection.boundary, sqlTimestamp(selection.from), sqlTimestamp(selection.to), selection.scoring.version]);
  const [row] = parseRows(summaryRowSchema, rows, query.name);
  if (row === undefined || rows.length !== 1) throw new Error(`${query.name}: expected exactly one row, got ${rows.length}`);
  return row;
}

const agentRowSchema = z.object({
  agent_id: z.string(),
  positive_events: count,
  positive_traces: count,
  positive_feedback: count,
  high_quality: count,
  eligible: z.boolean(),
});

/** One agent's eligibility figures. */
export interface AgentEligibility {
  readonly agentId: string;
  /** Distinct success events plus traces whose own success has no event (each interaction once). */
  readonly positiveFeedback: number;
  /** Usable traces (accepted policy, a user turn, no golden overlap) with reward >= the threshold. */
  readonly highQualityTraces: number;
  readonly eligible: boolean;
}

/** Eligibility figures per agent, sorted by agent id. */
export async function queryAgentEligibility(sql: SqlEngine, selection: TraceSelection, tables: BuildTables): Promise<AgentEligibility[]> {
  const query = withTables(loadSql('agent-eligibility'), tables);
  const rows = parseRows(agentRowSchema, await sql.query(query, selectionParams(selection)), query.name);
  return rows
    .map((r) => ({ agentId: r.agent_id, positiveFeedback: r.positive_feedback, highQualityTraces: r.high_quality, eligible: r.eligible }))
    .sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
}

const discardRowSchema = z.object({ gate: z.string(), discarded: count });

/** Discarded traces of the boundary in the window, per gate, each trace once (gates with none are absent). */
export async function queryDiscardsByGate(sql: SqlEngine, selection: Pick<TraceSelection, 'boundary' | 'from' | 'to'>): Promise<Record<string, number>> {
  const query = loadSql('gate-discards');
  const rows = await sql.query(query, [selection.boundary, sqlTimestamp(selection.from), sqlTimestamp(selection.to)]);
  const counts: Record<string, number> = {};
  // Sorted by gate so the manifest reads the same whatever order the engine returned.
  for (const row of parseRows(discardRowSchema, rows, query.name).sort((a, b) => (a.gate < b.gate ? -1 : a.gate > b.gate ? 1 : 0))) {
    counts[row.gate] = row.discarded;
  }
  return counts;
}
