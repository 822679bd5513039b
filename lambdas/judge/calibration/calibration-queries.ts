/**
 * The calibration's lake queries, one text for Athena and DuckDB through the dataset build's SqlEngine
 * port (lambdas/pipeline/dataset/sql-engine.ts). `{{traces}}` and `{{json_format}}`/`{{transform}}` are
 * the dialect placeholders; the judgments and reviews tables come in as `{{table:...}}` identifiers
 * (their Glue names in AWS, the local lake's view names locally), because the dialects name only the
 * tables the dataset build reads. Every value is a bound `?` parameter.
 */
import type { SqlEngine, SqlQuery, SqlRow } from '../../pipeline/dataset/sql-engine';
import { sqlTimestamp } from '../../pipeline/dataset/sql-values';
import { isoWeekStart } from './iso-week';
import type { ReviewItem } from './review-item';

/** Names of the two calibration tables in the engine's catalog. */
export interface CalibrationTables {
  readonly judgments: string;
  readonly reviews: string;
}

/** The local lake's names (lambdas/shared/lake-tables.ts), which are also the Glue names the data stack gives them. */
export const LAKE_CALIBRATION_TABLES: CalibrationTables = { judgments: 'judgments', reviews: 'reviews' };

/** Judgments are re-delivered or re-judged at times: the latest per trace and prompt hash counts. */
const LATEST_JUDGMENTS = `
  SELECT trace_id, agent_id, judge_prompt_hash, faithfulness, answer_relevance, misrouted,
         ROW_NUMBER() OVER (PARTITION BY trace_id, judge_prompt_hash ORDER BY judged_at DESC) AS judgment_rank
  FROM {{table:judgments}}
  WHERE trace_ts >= CAST(? AS TIMESTAMP) AND trace_ts < CAST(? AS TIMESTAMP)`;

const CANDIDATES = `
SELECT trace_id, agent_id, judge_prompt_hash, faithfulness
FROM (${LATEST_JUDGMENTS}) latest
WHERE judgment_rank = 1
ORDER BY judge_prompt_hash, trace_id`;

const MASKED_TRACE = `
SELECT trace_id, agent_id, route_tier,
  {{json_format}}(CAST({{transform}}(input_messages, m -> ARRAY[m.role, m.content]) AS JSON)) AS messages_json,
  {{json_format}}(CAST(retrieved_contexts AS JSON)) AS contexts_json,
  output,
  {{json_format}}(CAST({{transform}}(tool_calls, t -> ARRAY[t.name, t.arguments, t.result, t.status]) AS JSON)) AS tool_calls_json
FROM {{traces}}
WHERE trace_id = ? AND ts >= CAST(? AS TIMESTAMP) AND ts < CAST(? AS TIMESTAMP)
ORDER BY gated_at DESC
LIMIT 1`;

/** Reviews are delivered at least once: one row per review id; joined with the judgment they reviewed. */
const REVIEWED_PAIRS = `
WITH reviewed AS (
  SELECT review_id, trace_id, agent_id, judge_prompt_hash, faithfulness, answer_relevance, misrouted,
         ROW_NUMBER() OVER (PARTITION BY review_id ORDER BY reviewed_at DESC) AS review_rank
  FROM {{table:reviews}}
  WHERE reviewed_at >= CAST(? AS TIMESTAMP) AND reviewed_at <= CAST(? AS TIMESTAMP)
), judged AS (${LATEST_JUDGMENTS}
)
SELECT r.review_id, r.trace_id, r.agent_id, r.judge_prompt_hash,
       j.faithfulness AS judge_faithfulness, r.faithfulness AS human_faithfulness,
       j.answer_relevance AS judge_answer_relevance, r.answer_relevance AS human_answer_relevance,
       j.misrouted AS judge_misrouted, r.misrouted AS human_misrouted
FROM reviewed r
JOIN judged j ON j.trace_id = r.trace_id AND j.judge_prompt_hash = r.judge_prompt_hash
WHERE r.review_rank = 1 AND j.judgment_rank = 1
ORDER BY r.review_id`;

function query(name: string, template: string, tables: CalibrationTables): SqlQuery {
  return { name, template, tables: { judgments: tables.judgments, reviews: tables.reviews } };
}

/** One judged trace, as the sampling sees it. */
export interface JudgedCandidate {
  readonly traceId: string;
  readonly agentId: string;
  readonly judgePromptHash: string;
  readonly faithfulness: number | null;
}

const text = (row: SqlRow, column: string): string => {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column}: expected text, received ${JSON.stringify(value)}`);
  return value;
};
const numberOrNull = (row: SqlRow, column: string): number | null => {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number') throw new Error(`column ${column}: expected a number, received ${JSON.stringify(value)}`);
  return value;
};
const booleanOrNull = (row: SqlRow, column: string): boolean | null => {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'boolean') throw new Error(`column ${column}: expected a boolean, received ${JSON.stringify(value)}`);
  return value;
};

/** The latest judgment per trace and prompt hash of traces that started in [from, to). */
export async function loadJudgedCandidates(engine: SqlEngine, tables: CalibrationTables, from: Date, to: Date): Promise<JudgedCandidate[]> {
  const rows = await engine.query(query('calibration-candidates', CANDIDATES, tables), [sqlTimestamp(from), sqlTimestamp(to)]);
  return rows.map((row) => ({ traceId: text(row, 'trace_id'), agentId: text(row, 'agent_id'), judgePromptHash: text(row, 'judge_prompt_hash'), faithfulness: numberOrNull(row, 'faithfulness') }));
}

/** A trace as the reviewer sees it: lake text only, which the PII gate already masked. */
export interface MaskedTrace {
  readonly traceId: string;
  readonly agentId: string;
  readonly routeTier: string | null;
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: string }>;
  readonly contexts: readonly string[];
  readonly answer: string;
  readonly toolCalls: ReadonlyArray<{ readonly name: string; readonly arguments: string; readonly result: string | null; readonly status: string }>;
}

function jsonArray(row: SqlRow, column: string): unknown[] {
  const value = row[column];
  if (value === null || value === undefined) return [];
  const parsed: unknown = JSON.parse(text(row, column));
  if (!Array.isArray(parsed)) throw new Error(`column ${column}: expected a JSON array`);
  return parsed;
}

const asText = (value: unknown): string => (typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value));

/** Days of traces a week's sample is drawn from: the 7 before the week's Monday. */
export const SAMPLE_DAYS = 7;

/** The masked trace of a queue item (searched in the days its week was sampled from), or undefined when the lake no longer holds it. */
export async function loadMaskedTrace(engine: SqlEngine, item: Pick<ReviewItem, 'traceId' | 'week'>): Promise<MaskedTrace | undefined> {
  const to = isoWeekStart(item.week);
  const from = new Date(to.getTime() - SAMPLE_DAYS * 86_400_000);
  const rows = await engine.query({ name: 'calibration-trace', template: MASKED_TRACE }, [item.traceId, sqlTimestamp(from), sqlTimestamp(to)]);
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    traceId: text(row, 'trace_id'),
    agentId: text(row, 'agent_id'),
    routeTier: typeof row.route_tier === 'string' ? row.route_tier : null,
    messages: jsonArray(row, 'messages_json').map((m) => {
      const [role, content] = Array.isArray(m) ? m : [];
      return { role: asText(role), content: asText(content) };
    }),
    contexts: jsonArray(row, 'contexts_json').map(asText),
    answer: typeof row.output === 'string' ? row.output : '',
    toolCalls: jsonArray(row, 'tool_calls_json').map((t) => {
      const [name, args, result, status] = Array.isArray(t) ? t : [];
      return { name: asText(name), arguments: asText(args), result: result === null || result === undefined ? null : asText(result), status: asText(status) };
    }),
  };
}

/** A reviewed item with the judge's and the person's verdicts side by side (null: not judged, or n.a.). */
export interface ReviewedPair {
  readonly reviewId: string;
  readonly traceId: string;
  readonly agentId: string;
  readonly judgePromptHash: string;
  readonly judge: { readonly faithfulness: number | null; readonly answerRelevance: number | null; readonly misrouted: boolean | null };
  readonly human: { readonly faithfulness: number | null; readonly answerRelevance: number | null; readonly misrouted: boolean | null };
}

/**
 * Reviews submitted in [from, to] (the end included: a report written right after a review counts it), each with the latest judgment of its trace under the same prompt
 * hash; judgments are searched from `judgedFrom` (traces sampled before the window was opened).
 */
export async function loadReviewedPairs(engine: SqlEngine, tables: CalibrationTables, from: Date, to: Date, judgedFrom: Date): Promise<ReviewedPair[]> {
  const rows = await engine.query(query('calibration-pairs', REVIEWED_PAIRS, tables), [sqlTimestamp(from), sqlTimestamp(to), sqlTimestamp(judgedFrom), sqlTimestamp(to)]);
  return rows.map((row) => ({
    reviewId: text(row, 'review_id'),
    traceId: text(row, 'trace_id'),
    agentId: text(row, 'agent_id'),
    judgePromptHash: text(row, 'judge_prompt_hash'),
    judge: { faithfulness: numberOrNull(row, 'judge_faithfulness'), answerRelevance: numberOrNull(row, 'judge_answer_relevance'), misrouted: booleanOrNull(row, 'judge_misrouted') },
    human: { faithfulness: numberOrNull(row, 'human_faithfulness'), answerRelevance: numberOrNull(row, 'human_answer_relevance'), misrouted: booleanOrNull(row, 'human_misrouted') },
  }));
}
