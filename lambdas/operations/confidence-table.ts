/**
 * The confidence scores as rows of the `confidence_scores` Iceberg table (lake-tables.ts), and the one
 * MERGE both engines run to write a day's scores: Athena (Trino) into the Iceberg table, DuckDB into the
 * local lake's copy of the day (local/local-confidence-table.ts).
 *
 * Keyed by (report_date, agent_id, model): a pair not in the table yet is inserted; a pair whose scores
 * differ from the table's is updated (a rerun after new feedback, so the table says what the day's last
 * report said, like confidence.json); a pair whose scores are equal is not touched, so a rerun of the
 * same day that computes the same scores changes nothing, not even `computed_at`. A pair in the table
 * that a rerun no longer scores stays (neither engine's MERGE has WHEN NOT MATCHED BY SOURCE).
 *
 * The scores are computed here, not in SQL (confidence.ts: the blend, the decay, the divergence), so
 * the statement carries them as a VALUES list: one row per agent x model, a few dozen, never trace
 * data. Athena takes no execution parameters in a MERGE, so the values are literals, each rendered
 * from a checked type: numbers finite, ids of the identifier rules' characters, quotes doubled.
 */
import type { ConfidenceScore } from './confidence';

/** One row of the table, timestamps as ISO 8601 UTC text. */
export interface ConfidenceTableRow extends ConfidenceScore {
  /** `YYYY-MM-DDT00:00:00.000Z`: the report's day. */
  readonly report_date: string;
  readonly computed_at: string;
}

/** Columns compared to tell an update from a rerun of the same scores (every value but computed_at). */
export const CONFIDENCE_VALUE_COLUMNS = [
  'score',
  'global_score',
  'observed_rate',
  'feedback_count',
  'weight',
  'idle_days',
  'divergence_pp',
  'needs_review',
  'last_feedback_at',
] as const;

/** Every column, in the table's order. */
export const CONFIDENCE_TABLE_COLUMNS = ['report_date', 'agent_id', 'model', ...CONFIDENCE_VALUE_COLUMNS, 'computed_at'] as const;

type Column = (typeof CONFIDENCE_TABLE_COLUMNS)[number];

/** How each column's value is written as a literal both engines read alike. */
const COLUMN_TYPES: Readonly<Record<Column, 'timestamp' | 'id' | 'double' | 'bigint' | 'integer' | 'boolean'>> = {
  report_date: 'timestamp',
  agent_id: 'id',
  model: 'id',
  score: 'double',
  global_score: 'double',
  observed_rate: 'double',
  feedback_count: 'bigint',
  weight: 'double',
  idle_days: 'integer',
  divergence_pp: 'double',
  needs_review: 'boolean',
  last_feedback_at: 'timestamp',
  computed_at: 'timestamp',
};

/** The report's day as the table's key: midnight UTC of the day `end` falls on. */
export function reportDateOf(end: Date): string {
  return `${end.toISOString().slice(0, 10)}T00:00:00.000Z`;
}

/** A day's scores as table rows. */
export function confidenceTableRows(end: Date, scores: readonly ConfidenceScore[]): ConfidenceTableRow[] {
  const report_date = reportDateOf(end);
  const computed_at = end.toISOString();
  return scores.map((s) => ({ ...s, report_date, computed_at }));
}

/**
 * Agent ids and model names within the lake's identifier rules (gate-score/identifiers.ts: letters,
 * digits and . _ : / -, at most 128): no quote can occur, and the literal doubles one anyway.
 */
const ID = /^[A-Za-z0-9._:/-]{1,128}$/;

function literal(column: Column, value: unknown): string {
  switch (COLUMN_TYPES[column]) {
    case 'timestamp': {
      const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(ms)) throw new Error(`confidence row: ${column} ${JSON.stringify(value)} is not an ISO 8601 time`);
      // Trino's and DuckDB's timestamp literal, microseconds, UTC without a zone.
      return `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}000'`;
    }
    case 'id':
      if (typeof value !== 'string' || !ID.test(value)) throw new Error(`confidence row: ${column} ${JSON.stringify(value)} is not an identifier`);
      return `'${value.replaceAll("'", "''")}'`;
    case 'double':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`confidence row: ${column} ${JSON.stringify(value)} is not a finite number`);
      return `CAST(${String(value).toUpperCase()} AS DOUBLE)`;
    case 'bigint':
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new Error(`confidence row: ${column} ${JSON.stringify(value)} is not a whole number`);
      return `CAST(${value} AS ${COLUMN_TYPES[column].toUpperCase()})`;
    case 'boolean':
      if (typeof value !== 'boolean') throw new Error(`confidence row: ${column} ${JSON.stringify(value)} is not a boolean`);
      return value ? 'true' : 'false';
  }
}

/**
 * `MERGE INTO <table>` of the rows; `table` is the already quoted target (`"db"."confidence_scores"`
 * on Athena, a table of the day's rows on DuckDB). Every row must be of the same report day.
 * @throws Error when there are no rows, or a value does not fit its column
 */
export function renderConfidenceMerge(table: string, rows: readonly ConfidenceTableRow[]): string {
  if (rows.length === 0) throw new Error('renderConfidenceMerge: no rows; a day without scores writes nothing');
  if (new Set(rows.map((r) => r.report_date)).size !== 1) throw new Error('renderConfidenceMerge: rows of more than one report day');
  const values = rows.map((row) => `(${CONFIDENCE_TABLE_COLUMNS.map((c) => literal(c, row[c])).join(', ')})`).join(',\n    ');
  const columns = CONFIDENCE_TABLE_COLUMNS.join(', ');
  return [
    `MERGE INTO ${table} AS t`,
    `USING (VALUES\n    ${values}\n  ) AS s (${columns})`,
    'ON t.report_date = s.report_date AND t.agent_id = s.agent_id AND t.model = s.model',
    `WHEN MATCHED AND (${CONFIDENCE_VALUE_COLUMNS.map((c) => `t.${c} IS DISTINCT FROM s.${c}`).join(' OR ')})`,
    `  THEN UPDATE SET ${[...CONFIDENCE_VALUE_COLUMNS, 'computed_at'].map((c) => `${c} = s.${c}`).join(', ')}`,
    `WHEN NOT MATCHED THEN INSERT (${columns}) VALUES (${CONFIDENCE_TABLE_COLUMNS.map((c) => `s.${c}`).join(', ')})`,
  ].join('\n');
}

/** Where the day's scores are written: the Iceberg table through Athena, or the local lake. */
export interface ConfidenceTableWriter {
  /** The table, as the event names it: `<database>.confidence_scores`, or its local folder. */
  readonly location: string;
  /** Writes the day's rows (all of one report day; none: nothing is written). */
  merge(rows: readonly ConfidenceTableRow[]): Promise<void>;
}
