/**
 * Row retention of the lake (`lake.rowRetentionDays`): how long each table keeps its rows, measured by
 * the table's time column ({@link RETENTION_TIME_COLUMNS}). One rendering of the rule, read by the
 * stage's scheduled expiry (Athena `DELETE` statements in a state machine) and by the local lake's
 * `sial lake expire` (DuckDB over Parquet files), so both delete exactly the same rows.
 *
 * The cutoff is the start of the UTC day `days` days before the run: a table partitioned by day loses
 * whole days, never part of one, and two runs on the same day delete the same rows.
 */
import { RETENTION_TIME_COLUMNS, type LakeTableName } from './lake-tables';

/** Days each table keeps its rows; a table left out keeps them until erased. */
export type RowRetentionDays = Readonly<Partial<Record<LakeTableName, number>>>;

/** One table's expiry: which rows go (time column older than the cutoff, `days` days back). */
export interface RowRetentionRule {
  readonly table: LakeTableName;
  readonly timeColumn: string;
  readonly days: number;
}

const DAY_MS = 86_400_000;

/** The rules of a stage, in table order; throws on a day count that is not a whole number of at least 1. */
export function rowRetentionRules(retention: RowRetentionDays): RowRetentionRule[] {
  return (Object.keys(RETENTION_TIME_COLUMNS) as LakeTableName[]).flatMap((table) => {
    const days = retention[table];
    if (days === undefined) return [];
    if (!Number.isInteger(days) || days < 1) throw new Error(`row retention of ${table}: ${days} days; expected a whole number of at least 1`);
    return [{ table, timeColumn: RETENTION_TIME_COLUMNS[table], days }];
  });
}

/** The cutoff of a rule on a run at `now`: midnight UTC of the day `days` days before. */
export function retentionCutoff(rule: RowRetentionRule, now: Date): Date {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return new Date(today - rule.days * DAY_MS);
}

const identifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * The Athena (Trino) statement of a rule. The cutoff is computed by Athena when the statement runs
 * (`current_date` is the UTC date: Athena's session zone is UTC), so the scheduled workflow passes no
 * time and a retried statement deletes nothing more.
 */
export function renderAthenaRetentionDelete(databaseName: string, rule: RowRetentionRule): string {
  return `DELETE FROM ${identifier(databaseName)}.${identifier(rule.table)} WHERE ${identifier(rule.timeColumn)} < date_add('day', -${rule.days}, CAST(current_date AS timestamp))`;
}

/** The predicate of the rows a rule expires at `now`, for DuckDB over the local lake's files. */
export function localRetentionPredicate(rule: RowRetentionRule, now: Date): string {
  const cutoff = retentionCutoff(rule, now).toISOString().replace('T', ' ').replace('Z', '');
  return `${identifier(rule.timeColumn)} < TIMESTAMP '${cutoff}'`;
}
