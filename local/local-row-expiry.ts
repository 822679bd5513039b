/**
 * Row retention over a local run's lake (what `sial lake expire --local DIR` runs): the stage's
 * `lake.rowRetentionDays` with the same rules and cutoffs as the stage's scheduled Athena DELETEs
 * (lambdas/shared/row-retention.ts), applied by rewriting the tables' Parquet files without the
 * expired rows (parquet-row-delete.ts, as erasure does). The cutoff is midnight UTC, `days` days before
 * `now`.
 */
import { rowRetentionRules, retentionCutoff, localRetentionPredicate, type RowRetentionDays } from '../lambdas/shared/row-retention';
import { deleteParquetRows } from './parquet-row-delete';
import type { LocalLake } from './local-lake';

/** One table's expiry: its cutoff and what went (or, in a dry run, would go). */
export interface LocalTableExpiry {
  readonly table: string;
  readonly timeColumn: string;
  readonly days: number;
  readonly cutoff: string;
  readonly rowsExpired: number;
  readonly filesRewritten: number;
}

export async function expireLocalRows(lake: LocalLake, retention: RowRetentionDays, now: Date, options: { readonly dryRun: boolean }): Promise<LocalTableExpiry[]> {
  const results: LocalTableExpiry[] = [];
  for (const rule of rowRetentionRules(retention)) {
    const predicate = localRetentionPredicate(rule, now);
    const deletion = await deleteParquetRows(lake, lake.tableDir(rule.table), async () => predicate, { dryRun: options.dryRun });
    results.push({ table: rule.table, timeColumn: rule.timeColumn, days: rule.days, cutoff: retentionCutoff(rule, now).toISOString(), rowsExpired: deletion.rows, filesRewritten: deletion.files });
  }
  return results;
}
