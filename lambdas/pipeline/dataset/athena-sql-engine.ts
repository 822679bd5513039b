/**
 * SqlEngine on Amazon Athena (Trino engine, Iceberg tables in the Glue database). A query is started in
 * the stage's workgroup (which owns the result location and its encryption) with its parameters as
 * ExecutionParameters, polled with backoff until it ends, and its rows read page by page.
 */
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type ColumnInfo,
  type Datum,
} from '@aws-sdk/client-athena';
import type { Sleep } from '../../shared/ports';
import type { SqlEngine, SqlParam, SqlQuery, SqlRow, SqlValue } from './sql-engine';
import { prepareSql, tablePlaceholders, type LakeTableNames, type SqlDialect } from './sql-template';
import { floatValue, safeInteger, sqlTimestampToIso } from './sql-values';

/** Where and how AthenaSqlEngine runs queries. */
export interface AthenaSqlEngineOptions {
  /** The workgroup (ATHENA_WORKGROUP): result location, encryption and scan limits are set there. */
  readonly workGroup: string;
  /** The Glue database holding the lake tables. */
  readonly database: string;
  /** Glue table names of the lake tables (from the pipeline settings). */
  readonly tables: LakeTableNames;
  /**
   * The data catalog.
   * @default 'AwsDataCatalog'
   */
  readonly catalog?: string;
  /**
   * First wait between status polls, in milliseconds; doubles up to `pollMaxMs`.
   * @default 250
   */
  readonly pollInitialMs?: number;
  /**
   * Longest wait between status polls, in milliseconds.
   * @default 5000
   */
  readonly pollMaxMs?: number;
  /**
   * How long a query may take before it is stopped and the call fails, in milliseconds. Keep it under
   * the function's timeout so the query is stopped rather than left running unobserved.
   * @default 600000 (10 minutes)
   */
  readonly timeoutMs?: number;
  /**
   * Waits between polls.
   * @default setTimeout
   */
  readonly sleep?: Sleep;
  /**
   * Milliseconds since the epoch.
   * @default Date.now
   */
  readonly now?: () => number;
  /** Called when a query succeeded, e.g. to log its id and the bytes it scanned (Athena bills by them). */
  readonly onQueryCompleted?: (info: AthenaQueryInfo) => void;
}

/** What a completed query cost and where to find it in the console. */
export interface AthenaQueryInfo {
  readonly name: string;
  readonly queryExecutionId: string;
  readonly dataScannedBytes: number | undefined;
  readonly engineExecutionMs: number | undefined;
  readonly rows: number;
}

/** A query that ended FAILED or CANCELLED, or ran past the timeout. */
export class AthenaQueryError extends Error {
  override name = 'AthenaQueryError';
  constructor(
    message: string,
    readonly queryExecutionId: string,
    readonly state: string,
    /** Athena's own verdict on whether resubmitting may succeed. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Trino's spelling of the functions DuckDB names differently (see sql-template.ts). */
const TRINO_FUNCTIONS: Pick<SqlDialect, 'transform' | 'json_format'> = { transform: 'transform', json_format: 'json_format' };

/**
 * One ExecutionParameters value. Athena reads each as a SQL literal, not a bare value: a string must be a
 * quoted literal (`'EU'`; an unquoted EU would be a column name). Quotes inside are doubled, the only
 * escape a Trino string literal has (a backslash is an ordinary character), so no value can end the
 * literal early: the value stays data, whatever it holds.
 */
export function athenaLiteral(param: SqlParam): string {
  if (typeof param === 'string') return `'${param.replaceAll("'", "''")}'`;
  if (typeof param === 'boolean') return param ? 'true' : 'false';
  if (!Number.isFinite(param)) throw new Error(`cannot bind ${String(param)} as an Athena parameter: only finite numbers`);
  // `1e-7` -> `1E-7`: Trino's double literal; plain decimals stay decimals (compared exactly with doubles).
  return String(param).toUpperCase();
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Maps one result cell by its Athena column type (Athena returns every value as text). */
function cellValue(datum: Datum | undefined, column: ColumnInfo): SqlValue {
  const name = column.Name ?? '?';
  const text = datum?.VarCharValue;
  // A NULL arrives as a Datum without VarCharValue.
  if (text === undefined) return null;
  const type = (column.Type ?? '').toLowerCase();
  switch (type) {
    case 'varchar':
    case 'char':
    case 'string':
    case 'json':
    case 'decimal':
    case 'date':
    case 'varbinary':
      return text;
    case 'boolean':
      if (text === 'true' || text === 'false') return text === 'true';
      throw new Error(`column ${name}: "${text}" is not a boolean`);
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
    case 'bigint':
      return safeInteger(text, name);
    case 'double':
    case 'float':
    case 'real':
      return floatValue(text, name);
    case 'timestamp':
    case 'timestamp with time zone':
      return sqlTimestampToIso(text, name);
    default:
      throw new Error(
        `column ${name} has Athena type "${column.Type ?? 'unknown'}", which has no plain value: return arrays, maps and rows as JSON text ({{json_format}})`,
      );
  }
}

function isHeaderRow(row: readonly Datum[], columns: readonly ColumnInfo[]): boolean {
  return row.length === columns.length && row.every((d, i) => d.VarCharValue === columns[i]?.Name);
}

/** SqlEngine on Athena. */
export class AthenaSqlEngine implements SqlEngine {
  readonly name = 'athena';
  private readonly dialect: SqlDialect;
  private readonly sleep: Sleep;
  private readonly now: () => number;

  constructor(
    private readonly client: AthenaClient,
    private readonly options: AthenaSqlEngineOptions,
  ) {
    if (options.workGroup === '') throw new Error('AthenaSqlEngine needs a workgroup; received an empty name');
    if (options.database === '') throw new Error('AthenaSqlEngine needs a database; received an empty name');
    this.dialect = { ...tablePlaceholders(options.tables), ...TRINO_FUNCTIONS };
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
  }

  async query(query: SqlQuery, params: readonly SqlParam[]): Promise<SqlRow[]> {
    const text = prepareSql(query.template, this.dialect, params.length, query.name);
    const started = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: text,
        WorkGroup: this.options.workGroup,
        QueryExecutionContext: { Database: this.options.database, Catalog: this.options.catalog ?? 'AwsDataCatalog' },
        // An empty list is refused by the API; a query without parameters sends none.
        ...(params.length > 0 ? { ExecutionParameters: params.map(athenaLiteral) } : {}),
      }),
    );
    const id = started.QueryExecutionId;
    if (id === undefined) throw new Error(`${query.name}: Athena returned no query execution id`);
    const stats = await this.waitForSuccess(query.name, id);
    const rows = await this.readRows(query.name, id);
    this.options.onQueryCompleted?.({ name: query.name, queryExecutionId: id, ...stats, rows: rows.length });
    return rows;
  }

  private async waitForSuccess(name: string, id: string): Promise<Pick<AthenaQueryInfo, 'dataScannedBytes' | 'engineExecutionMs'>> {
    const startedAt = this.now();
    const timeoutMs = this.options.timeoutMs ?? 600_000;
    const maxDelay = this.options.pollMaxMs ?? 5000;
    let delay = this.options.pollInitialMs ?? 250;
    for (;;) {
      const { QueryExecution: execution } = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = execution?.Status?.State;
      if (state === 'SUCCEEDED') {
        return { dataScannedBytes: execution?.Statistics?.DataScannedInBytes, engineExecutionMs: execution?.Statistics?.EngineExecutionTimeInMillis };
      }
      if (state === 'FAILED' || state === 'CANCELLED') {
        const error = execution?.Status?.AthenaError;
        const reason = error?.ErrorMessage ?? execution?.Status?.StateChangeReason ?? 'no reason given';
        throw new AthenaQueryError(`${name}: Athena query ${id} ${state}: ${reason}`, id, state, error?.Retryable ?? false);
      }
      if (this.now() - startedAt + delay > timeoutMs) {
        // Stop it: an abandoned query keeps scanning (and billing) after this function gave up on it.
        await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
        throw new AthenaQueryError(`${name}: Athena query ${id} still ${state ?? 'unknown'} after ${timeoutMs} ms; stopped`, id, state ?? 'UNKNOWN', true);
      }
      await this.sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }

  private async readRows(name: string, id: string): Promise<SqlRow[]> {
    const rows: SqlRow[] = [];
    let columns: ColumnInfo[] | undefined;
    let nextToken: string | undefined;
    let firstPage = true;
    do {
      const page = await this.client.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1000, NextToken: nextToken }));
      columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo;
      if (columns === undefined) throw new Error(`${name}: Athena query ${id} returned no column metadata`);
      let data = page.ResultSet?.Rows ?? [];
      // A SELECT's first row holds the column labels.
      if (firstPage && data.length > 0 && isHeaderRow(data[0]?.Data ?? [], columns)) data = data.slice(1);
      for (const row of data) {
        const cells = row.Data ?? [];
        const record: Record<string, SqlValue> = {};
        columns.forEach((column, i) => {
          record[column.Name ?? `_col${i}`] = cellValue(cells[i], column);
        });
        rows.push(record);
      }
      nextToken = page.NextToken;
      firstPage = false;
    } while (nextToken !== undefined);
    return rows;
  }
}
