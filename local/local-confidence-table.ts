/**
 * The `confidence_scores` table of the local lake: the report workflow's MERGE (confidence-table.ts)
 * run by DuckDB on the day's rows. The local lake is Hive-partitioned Parquet, not Iceberg, so the day's
 * partition (`report_day=<date>/`) is read into a table, the very statement Athena runs merges into it,
 * and only when it changed a row is the partition written anew (to a staging folder first, then renamed
 * over the old one). A rerun that computes the same scores therefore leaves the files as they were.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIDENCE_TABLE_COLUMNS, renderConfidenceMerge, type ConfidenceTableRow, type ConfidenceTableWriter } from '../lambdas/operations/confidence-table';
import { CONFIDENCE_SCORES_TABLE } from '../lambdas/shared/lake-tables';
import { parquetDuckType, type LocalLake } from './local-lake';
import { quoteSqlString as quote } from './parquet-row-delete';

export class LocalConfidenceTable implements ConfidenceTableWriter {
  constructor(private readonly lake: LocalLake) {}

  get location(): string {
    return this.lake.tableDir(CONFIDENCE_SCORES_TABLE.name);
  }

  /** How many rows the last merge inserted or updated (0 for a rerun of equal scores). */
  lastChanged = 0;

  async merge(rows: readonly ConfidenceTableRow[]): Promise<void> {
    this.lastChanged = 0;
    if (rows.length === 0) return;
    const day = rows[0]!.report_date.slice(0, 10);
    const partition = CONFIDENCE_SCORES_TABLE.partitions[0]!.name;
    const dayDir = join(this.location, `${partition}=${day}`);
    const table = `confidence_day_${randomUUID().replaceAll('-', '')}`;
    const columns = CONFIDENCE_TABLE_COLUMNS.map((c) => `"${c}"`).join(', ');
    const hasFiles = existsSync(dayDir) && readdirSync(dayDir).some((f) => f.endsWith('.parquet'));
    const definition = CONFIDENCE_SCORES_TABLE.fields.map((f) => `"${f.name}" ${parquetDuckType(f.type)}`).join(', ');
    await this.lake.run(`CREATE TEMP TABLE ${table} (${definition})`);
    try {
      if (hasFiles) await this.lake.run(`INSERT INTO ${table} SELECT ${columns} FROM read_parquet(${quote(join(dayDir, '*.parquet'))}, hive_partitioning = false)`);
      const result = await this.lake.run(renderConfidenceMerge(table, rows));
      this.lastChanged = Number(result.getRowsJson()[0]?.[0] ?? 0);
      if (this.lastChanged === 0) return;
      const staging = join(this.lake.root, '_staging', `${CONFIDENCE_SCORES_TABLE.name}-${randomUUID()}`);
      mkdirSync(staging, { recursive: true });
      try {
        await this.lake.run(
          `COPY (SELECT ${columns}, strftime(report_date, '%Y-%m-%d') AS ${partition} FROM ${table} ORDER BY agent_id, model) TO ${quote(staging)} (FORMAT parquet, PARTITION_BY (${partition}))`,
        );
        mkdirSync(this.location, { recursive: true });
        rmSync(dayDir, { recursive: true, force: true });
        renameSync(join(staging, `${partition}=${day}`), dayDir);
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
    } finally {
      await this.lake.run(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
