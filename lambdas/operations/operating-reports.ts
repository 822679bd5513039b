/**
 * The daily operating reports, computed from the lake through the SQL port: the same query files run on
 * Athena in AWS and on DuckDB over the local lake (lambdas/pipeline/dataset/sql/agent-*.sql). This module
 * only binds parameters and turns rows into the pure reports (cost.ts, regression.ts, confidence.ts).
 */
import type { SqlEngine, SqlParam, SqlQuery, SqlRow } from '../pipeline/dataset/sql-engine';
import { AgentIdentities } from '../shared/agent-pseudonyms';
import { loadSql } from '../pipeline/dataset/sql-files';
import { confidenceScores, type AgentModelOutcomes, type ConfidenceScore, type ConfidenceSettings } from './confidence';
import type { AgentCostRow } from './cost';
import { REGRESSION_DIMENSIONS, regressionReport, type RegressionDimension, type RegressionReport, type ServingMix, type WindowMetrics } from './regression';
import { intervalText, reportWindows, type ReportWindows } from './report-window';

/** What the reports read from the stage's `operations` settings, plus the report's end and window. */
export interface OperatingReportSettings {
  readonly end: Date;
  readonly currentWindowDays: number;
  readonly baselineWindowDays: number;
  readonly thresholdPoints: number;
  readonly minRequests: number;
  readonly maxAffectedTraceIds: number;
  /** The latency percentile the regression report compares (0..1). */
  readonly latencyPercentile: number;
  readonly confidence: ConfidenceSettings;
  /** Days of feedback the confidence scores are computed over. */
  readonly confidenceLookbackDays: number;
  /** Only this agent, when set: its id as the producer names it (the configured id), not its stored form. */
  readonly agentId?: string;
  /**
   * How the lake stores agent ids (`lake.hashAgentIds`): the reports match `agentId` against its stored
   * form and show a declared agent's configured name where a row holds its pseudonym. Default: plain.
   */
  readonly identities?: AgentIdentities;
}

const PLAIN = AgentIdentities.plain([]);

function identitiesOf(settings: Pick<OperatingReportSettings, 'identities'>): AgentIdentities {
  return settings.identities ?? PLAIN;
}

/** The stored form of the one agent asked for, or undefined for all. */
function storedAgentId(settings: Pick<OperatingReportSettings, 'identities' | 'agentId'>): string | undefined {
  return settings.agentId === undefined ? undefined : identitiesOf(settings).stored(settings.agentId);
}

const DAY_MS = 86_400_000;

function text(row: SqlRow, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`the query returned ${JSON.stringify(value)} for ${column}; expected text`);
  return value;
}

function num(row: SqlRow, column: string): number {
  const value = row[column];
  if (typeof value !== 'number') throw new Error(`the query returned ${JSON.stringify(value)} for ${column}; expected a number`);
  return value;
}

function numOrNull(row: SqlRow, column: string): number | null {
  return row[column] === null ? null : num(row, column);
}

/** A timestamp as both engines CAST text to TIMESTAMP (UTC, no zone suffix). */
function sqlTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** The parameters of operating-rows.sql, in its order. */
function windowParams(w: ReportWindows): SqlParam[] {
  const [baselineStart, currentStart, end] = [w.baselineStart, w.currentStart, w.end].map(sqlTime) as [string, string, string];
  return [currentStart, baselineStart, end, baselineStart, end, baselineStart, end];
}

function forAgent<T extends { readonly agent_id: string }>(rows: readonly T[], agentId: string | undefined): T[] {
  return agentId === undefined ? [...rows] : rows.filter((r) => r.agent_id === agentId);
}

/**
 * The cost report's query and parameters (the current window, and the one agent or '' for all): what
 * `agentCosts` reads as rows and what the report workflow unloads to Parquet, so both files hold the
 * same rows. The agent is filtered in SQL for that reason, not with `forAgent`.
 */
export function agentCostsQuery(settings: Pick<OperatingReportSettings, 'end' | 'currentWindowDays' | 'baselineWindowDays' | 'agentId' | 'identities'>): { query: SqlQuery; params: SqlParam[] } {
  const windows = reportWindows(settings.end, settings.currentWindowDays, settings.baselineWindowDays);
  // The rows hold the stored form (with lake.hashAgentIds, the pseudonym), so the filter does too.
  const agent = storedAgentId(settings) ?? '';
  return { query: loadSql('agent-costs'), params: [sqlTime(windows.currentStart), sqlTime(windows.end), agent, agent] };
}

/**
 * The per-agent cost report over the current window (cost already rounded to micro-dollars by the query),
 * each agent under the name a report shows (identities.displayName: a declared agent's configured name).
 */
export async function agentCosts(sql: SqlEngine, settings: OperatingReportSettings): Promise<AgentCostRow[]> {
  const { query, params } = agentCostsQuery(settings);
  const rows = await sql.query(query, params);
  const identities = identitiesOf(settings);
  return rows.map((r) => ({
    agent_id: identities.displayName(text(r, 'agent_id')),
    requests: num(r, 'requests'),
    tokens_in: num(r, 'tokens_in'),
    tokens_out: num(r, 'tokens_out'),
    cost_usd: num(r, 'cost_usd'),
    unpriced_requests: num(r, 'unpriced_requests'),
  }));
}

/**
 * One regression report per agent seen in either window (an agent with no regression gets an empty list),
 * its `target` the name a report shows (a declared agent's configured name where the rows hold its pseudonym).
 */
export async function agentRegressionReports(sql: SqlEngine, settings: OperatingReportSettings): Promise<RegressionReport[]> {
  const windows = reportWindows(settings.end, settings.currentWindowDays, settings.baselineWindowDays);
  const params = windowParams(windows);
  const [metricRows, affectedRows, mixRows] = await Promise.all([
    sql.query(loadSql('agent-window-metrics'), [...params, settings.latencyPercentile]),
    sql.query(loadSql('agent-affected-traces'), [...params, settings.latencyPercentile, settings.maxAffectedTraceIds]),
    sql.query(loadSql('agent-serving-mix'), params),
  ]);
  const metrics = new Map<string, WindowMetrics>();
  for (const r of metricRows) {
    metrics.set(`${text(r, 'agent_id')}/${text(r, 'report_window')}`, {
      requests: num(r, 'requests'),
      faithfulness: numOrNull(r, 'faithfulness'),
      positive_feedback_rate: numOrNull(r, 'positive_feedback_rate'),
      error_rate: numOrNull(r, 'error_rate'),
      latency_percentile: numOrNull(r, 'latency_percentile'),
      cost_per_request: numOrNull(r, 'cost_per_request'),
      misroute_rate: numOrNull(r, 'misroute_rate'),
      samples: Object.fromEntries(REGRESSION_DIMENSIONS.map((d) => [d, num(r, `${d}_samples`)])) as Record<RegressionDimension, number>,
    });
  }
  const agents = [...new Set(metricRows.map((r) => text(r, 'agent_id')))].sort();
  const only = storedAgentId(settings);
  const identities = identitiesOf(settings);
  const window = { baseline: intervalText(windows.baselineStart, windows.currentStart), current: intervalText(windows.currentStart, windows.end) };
  return agents
    .filter((agentId) => only === undefined || agentId === only)
    .map((agentId) => {
      const affected: Partial<Record<RegressionDimension, string[]>> = {};
      for (const r of affectedRows.filter((row) => row.agent_id === agentId)) {
        const dimension = text(r, 'dimension') as RegressionDimension;
        if (!(REGRESSION_DIMENSIONS as readonly string[]).includes(dimension)) throw new Error(`the query returned an unknown dimension "${dimension}"`);
        (affected[dimension] ??= []).push(text(r, 'trace_id'));
      }
      const servingMix: ServingMix[] = mixRows
        .filter((r) => r.agent_id === agentId)
        .map((r) => ({ window: text(r, 'report_window') === 'current' ? 'current' : 'baseline', model: text(r, 'model'), model_version: text(r, 'model_version'), requests: num(r, 'requests') }));
      return regressionReport({
        agentId: identities.displayName(agentId),
        window,
        baseline: metrics.get(`${agentId}/baseline`),
        current: metrics.get(`${agentId}/current`),
        affected,
        servingMix,
        thresholdPoints: settings.thresholdPoints,
        minRequests: settings.minRequests,
        maxAffectedTraceIds: settings.maxAffectedTraceIds,
      });
    });
}

/**
 * The confidence score of every agent x model pair with feedback in the lookback, as of the report's end,
 * with `agent_id` as the lake stores it (the form the confidence_scores table keeps, like every lake
 * table); `confidenceWithDisplayNames` gives the form the JSON export and the metrics show.
 */
export async function agentModelConfidence(sql: SqlEngine, settings: OperatingReportSettings): Promise<ConfidenceScore[]> {
  const start = sqlTime(new Date(settings.end.getTime() - settings.confidenceLookbackDays * DAY_MS));
  const end = sqlTime(settings.end);
  const rows = await sql.query(loadSql('agent-model-outcomes'), [start, end, start, end]);
  const outcomes: AgentModelOutcomes[] = rows.map((r) => ({
    agent_id: text(r, 'agent_id'),
    model: text(r, 'model'),
    feedback_count: num(r, 'feedback_count'),
    positive_count: num(r, 'positive_count'),
    last_feedback_at: text(r, 'last_feedback_at'),
  }));
  // Global scores come from every agent, even when one agent is asked for.
  return forAgent(confidenceScores(outcomes, settings.end, settings.confidence), storedAgentId(settings));
}

/** Confidence scores under the names a report shows: a declared agent's configured name, the stored id otherwise. */
export function confidenceWithDisplayNames(scores: readonly ConfidenceScore[], identities: AgentIdentities | undefined): ConfidenceScore[] {
  const ids = identities ?? PLAIN;
  return scores.map((s) => ({ ...s, agent_id: ids.displayName(s.agent_id) }));
}
