/**
 * `sial lake query "SQL" [--local DIR] [--json]`: runs a query over a local run's lake with DuckDB (the
 * same engine the local lake is written with), so no DuckDB CLI is needed. `traces`, `gate_audit` and
 * `feedback` name the lake's tables. In AWS the lake is the stage's Glue database: query it with Athena.
 */
import { DEFAULT_LAKE_DIR, LakeDirRefused, openLakeDir } from '../../local/lake-dir';
import { LocalLake } from '../../local/local-lake';
import { EXIT, parseCommandLine, UsageError, type CliCommand } from './command';
import { formatTable } from './table';

const USAGE = `usage:
  sial lake query "SQL" [--local DIR] [--json]

Runs SQL over the lake of a local run with DuckDB; the tables are traces, gate_audit and feedback.

where:
  --local DIR   the run's lake directory (sial local run --lake-dir; default ${DEFAULT_LAKE_DIR})
  --json        rows as JSON instead of a table

example:
  sial lake query "SELECT model_variant, count(*) AS traces, round(avg(reward), 3) AS mean_reward FROM traces GROUP BY ALL"

In AWS the lake is the stage's Glue database (stack output of sial-<stage>-data): query it with Athena.`;

const OPTIONS = {
  local: { type: 'string', default: DEFAULT_LAKE_DIR },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export const lakeCommand: CliCommand = {
  name: 'lake',
  summary: 'query a local run\'s lake with DuckDB: sial lake query "SELECT ..." [--local DIR]',
  usage: USAGE,
  async run(args, context) {
    const parsed = parseCommandLine(args, OPTIONS, USAGE, context);
    if (parsed === undefined) return EXIT.ok;
    const [action, sql, ...extra] = parsed.positionals;
    if (action !== 'query') throw new UsageError(action === undefined ? 'say what to do: query "SQL"' : `unknown action "${action}" (the only one is query)`);
    if (sql === undefined || sql.trim() === '') throw new UsageError('query needs the SQL, in quotes');
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (put the whole SQL in one pair of quotes)`);
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
    const lake = await LocalLake.open(lakeDir);
    try {
      const rows = await lake.query(sql);
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
