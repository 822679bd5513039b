/**
 * `sial lake query "SQL" [--local DIR] [--json]`: runs a query over a local run's lake with DuckDB (the
 * same engine the local lake is written with), so no DuckDB CLI is needed. `traces`, `gate_audit` and
 * `feedback` name the lake's tables. In AWS the lake is the stage's Glue database: query it with Athena.
 *
 * `sial lake expire [--local DIR] [--stage S] [--dry-run] [--json]`: applies the stage's row retention
 * (`lake.rowRetentionDays`) to the local lake, with the cutoffs of the stage's daily row expiry.
 */
import { DEFAULT_LAKE_DIR, LakeDirRefused, openLakeDir } from '../../local/lake-dir';
import { loadStageConfig } from '../../config';
import { LocalLake } from '../../local/local-lake';
import { expireLocalRows } from '../../local/local-row-expiry';
import { EXIT, parseCommandLine, UsageError, type CliCommand, type CliContext } from './command';
import { formatTable } from './table';

const USAGE = `usage:
  sial lake query "SQL" [--local DIR] [--json]
  sial lake expire [--local DIR] [--stage S] [--dry-run] [--json]

query runs SQL over the lake of a local run with DuckDB; the tables are traces, gate_audit and feedback.
expire deletes the rows older than the stage's row retention (lake.rowRetentionDays: per table, days
before midnight UTC today, by the table's time column) by rewriting the Parquet files without them,
as the stage's daily row expiry does with Athena DELETE in AWS; --dry-run only counts them.

where:
  --local DIR   the run's lake directory (sial local run --lake-dir; default ${DEFAULT_LAKE_DIR})
  --json        rows as JSON instead of a table
  --stage S     the stage whose lake.rowRetentionDays applies (expire; default dev)
  --dry-run     count what expire would delete, delete nothing

example:
  sial lake query "SELECT model_variant, count(*) AS traces, round(avg(reward), 3) AS mean_reward FROM traces GROUP BY ALL"

In AWS the lake is the stage's Glue database (stack output of sial-<stage>-data): query it with Athena.`;

const OPTIONS = {
  local: { type: 'string', default: DEFAULT_LAKE_DIR },
  json: { type: 'boolean' },
  stage: { type: 'string', default: 'dev' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export const lakeCommand: CliCommand = {
  name: 'lake',
  summary: 'query a local run\'s lake with DuckDB, or expire its old rows: sial lake query "SELECT ..." | expire [--local DIR]',
  usage: USAGE,
  async run(args, context) {
    const parsed = parseCommandLine(args, OPTIONS, USAGE, context);
    if (parsed === undefined) return EXIT.ok;
    const [action, sql, ...extra] = parsed.positionals;
    if (action !== 'query' && action !== 'expire') throw new UsageError(action === undefined ? 'say what to do: query "SQL" or expire' : `unknown action "${action}" (query or expire)`);
    if (action === 'query') {
      if (sql === undefined || sql.trim() === '') throw new UsageError('query needs the SQL, in quotes');
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (put the whole SQL in one pair of quotes)`);
    } else if (sql !== undefined) throw new UsageError(`unexpected argument "${sql}" (expire takes options only)`);
    let lakeDir: string;
    try {
      lakeDir = openLakeDir(parsed.values.local).lakeDir;
    } catch (error) {
      if (error instanceof LakeDirRefused) {
        context.io.err(`sial lake: ${error.message}`);
        return EXIT.failed;
      }
      throw error;
    }
    if (action === 'expire') return expire(lakeDir, parsed.values.stage, parsed.values['dry-run'] === true, parsed.values.json === true, context);
    const lake = await LocalLake.open(lakeDir);
    try {
      const rows = await lake.query(sql!);
      if (parsed.values.json === true) {
        context.io.out(JSON.stringify(rows, null, 2));
        return EXIT.ok;
      }
      const headers = rows[0] !== undefined ? Object.keys(rows[0]) : [];
      formatTable(headers, rows.map((row) => headers.map((h) => cell(row[h])))).forEach((line) => context.io.out(line));
      context.io.out(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
      return EXIT.ok;
    } finally {
      lake.close();
    }
  },
};

async function expire(lakeDir: string, stageName: string, dryRun: boolean, json: boolean, context: CliContext): Promise<number> {
  let retention;
  try {
    retention = loadStageConfig(stageName).lake.rowRetentionDays ?? {};
  } catch (error) {
    throw new UsageError(`--stage: ${(error as Error).message}`);
  }
  const lake = await LocalLake.open(lakeDir);
  try {
    const results = await expireLocalRows(lake, retention, context.clock(), { dryRun });
    if (json) {
      context.io.out(JSON.stringify({ dryRun, tables: results }, null, 2));
      return EXIT.ok;
    }
    if (results.length === 0) {
      context.io.out(`Stage ${stageName} sets no lake.rowRetentionDays: every row is kept.`);
      return EXIT.ok;
    }
    const verb = dryRun ? 'would expire' : 'expired';
    formatTable(['table', 'time column', 'days', 'cutoff', `rows ${verb}`, 'files'], results.map((r) => [r.table, r.timeColumn, String(r.days), r.cutoff, String(r.rowsExpired), String(r.filesRewritten)])).forEach((line) => context.io.out(line));
    context.io.out(dryRun ? '(dry run: nothing deleted)' : 'Expired rows are gone from the Parquet files (the local lake keeps no snapshots).');
    return EXIT.ok;
  } finally {
    lake.close();
  }
}
