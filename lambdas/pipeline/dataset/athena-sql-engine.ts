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
import { createHash } from 'node:crypto';
import type { Sleep } from '../../shared/ports';
import type { SqlEngine, SqlParam, SqlQuery, SqlRow, SqlValue, UnloadFormat, UnloadResult } from './sql-engine';
import { prepareSql, quoteIdentifier, quoteLiteral, tablePlaceholders, type LakeTableNames, type SqlDialect } from './sql-template';
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
  /**
   * Reads a text object (the data manifest an UNLOAD leaves in the workgroup's result location, which
   * lists the files it wrote). Required for `unload`.
   */
  readonly readText?: (uri: string) => Promise<string | undefined>;
  /**
   * Deletes every object under an s3:// prefix: the files of a materialised (CTAS) table when the build
   * releases it. Required for `materialize`.
   */
  readonly deletePrefix?: (prefix: string) => Promise<void>;
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

/** Trino's spelling of the functions and types DuckDB names differently (see sql-template.ts). */
const TRINO_FUNCTIONS: Omit<SqlDialect, keyof LakeTableNames> = {
  transform: 'transform',
  json_format: 'json_format',
  regexp_split: 'regexp_split',
  cardinality: 'cardinality',
  sequence: 'sequence',
  array_join: 'array_join',
  to_utf8: 'to_utf8',
  to_hex: 'to_hex',
  message_list_type: 'array(ROW(role VARCHAR, content VARCHAR))',
  slice: 'slice',
  percentile: 'approx_percentile',
};

/** Name prefix of the tables `materialize` creates in the lake's database (the build's IAM is scoped to it). */
export const MATERIALIZED_TABLE_PREFIX = 'sial_build_';

/** Athena's limit on a query's text (not adjustable); the inlined golden n-grams count against it. */
export const MAX_QUERY_BYTES = 262_144;

/**
 * UNLOAD's WITH properties per unload format. Athena compresses JSON and TEXTFILE output with gzip (its
 * only choice for them). Parquet is named Snappy rather than left to Athena's default (gzip): DuckDB's
 * COPY writes Snappy too, so both engines' files are alike, and every Parquet reader decodes it.
 */
const UNLOAD_FORMATS: Record<UnloadFormat, string> = { json: "format = 'JSON'", text: "format = 'TEXTFILE'", parquet: "format = 'PARQUET', compression = 'SNAPPY'" };

/** An UNLOAD target: put into the query text (it cannot be a parameter), so held to a strict shape. */
const UNLOAD_PREFIX = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[A-Za-z0-9._:=/-]+\/$/;

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
    const text = prepareSql(query.template, this.dialect, params.length, query.name, query.inline, query.tables);
    const id = await this.start(query.name, text, params);
    const stats = await this.waitForSuccess(query.name, id);
    const rows = await this.readRows(query.name, id);
    this.options.onQueryCompleted?.({ name: query.name, queryExecutionId: id, dataScannedBytes: stats.dataScannedBytes, engineExecutionMs: stats.engineExecutionMs, rows: rows.length });
    return rows;
  }

  /**
   * Runs a statement that returns no rows (DML, OPTIMIZE, VACUUM, ALTER TABLE) and waits for it to
   * succeed; its results are not read (Athena gives such statements no column metadata).
   */
  async execute(query: SqlQuery, params: readonly SqlParam[]): Promise<void> {
    const text = prepareSql(query.template, this.dialect, params.length, query.name, query.inline, query.tables);
    const id = await this.start(query.name, text, params);
    const stats = await this.waitForSuccess(query.name, id);
    this.options.onQueryCompleted?.({ name: query.name, queryExecutionId: id, dataScannedBytes: stats.dataScannedBytes, engineExecutionMs: stats.engineExecutionMs, rows: 0 });
  }

  /**
   * UNLOAD (query) TO prefix: Athena writes the rows as gzip-compressed JSON lines (or text lines), or as
   * Snappy-compressed Parquet, in parallel files; the files come from the data manifest Athena writes in the result location. Nothing
   * of the rows is read here.
   */
  async unload(query: SqlQuery, params: readonly SqlParam[], prefix: string, format: UnloadFormat): Promise<UnloadResult> {
    const readText = this.options.readText;
    if (readText === undefined) throw new Error(`${query.name}: AthenaSqlEngine needs readText to unload (it reads the data manifest)`);
    if (!UNLOAD_PREFIX.test(prefix)) throw new Error(`${query.name}: unload prefix "${prefix}" must be an s3://bucket/key/ URI of plain characters ending in /`);
    const select = prepareSql(query.template, this.dialect, params.length, query.name, query.inline, query.tables);
    const text = `UNLOAD (\n${select}\n) TO ${quoteLiteral(prefix)} WITH (${UNLOAD_FORMATS[format]})`;
    const id = await this.start(query.name, text, params);
    const stats = await this.waitForSuccess(query.name, id);
    if (stats.dataManifestLocation === undefined) throw new Error(`${query.name}: Athena query ${id} wrote no data manifest, so the files it wrote are unknown`);
    const manifest = await readText(stats.dataManifestLocation);
    if (manifest === undefined) throw new Error(`${query.name}: the data manifest ${stats.dataManifestLocation} of query ${id} does not exist`);
    const files = manifest
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '');
    const outside = files.find((file) => !file.startsWith(prefix));
    if (outside !== undefined) throw new Error(`${query.name}: query ${id} lists ${outside}, outside its prefix ${prefix}`);
    this.options.onQueryCompleted?.({ name: query.name, queryExecutionId: id, dataScannedBytes: stats.dataScannedBytes, engineExecutionMs: stats.engineExecutionMs, rows: 0 });
    // Athena writes the files in parallel and names them itself; sorted, the list reads the same every time.
    return { files: [...files].sort() };
  }

  /** CTAS tables made by `materialize` (name and files), dropped by `release`. */
  private readonly materialized: Array<{ readonly table: string; readonly location: string }> = [];

  /**
   * CREATE TABLE ... WITH (format = 'PARQUET', external_location) AS query: the rows are computed once and
   * kept as Parquet under `location`, inside the build's own folder (the only place the build may write).
   * The table's name is unique to the location, so two builds never share one.
   */
  async materialize(name: string, query: SqlQuery, params: readonly SqlParam[], location: string): Promise<string> {
    if (this.options.deletePrefix === undefined) throw new Error(`${query.name}: AthenaSqlEngine needs deletePrefix to materialise (it removes the table's files afterwards)`);
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`materialize: "${name}" is not a plain lower-case table name`);
    if (!UNLOAD_PREFIX.test(location)) throw new Error(`${query.name}: location "${location}" must be an s3://bucket/key/ URI of plain characters ending in /`);
    const table = `${MATERIALIZED_TABLE_PREFIX}${name}_${createHash('sha256').update(location).digest('hex').slice(0, 16)}`;
    const select = prepareSql(query.template, this.dialect, params.length, query.name, query.inline, query.tables);
    const text = `CREATE TABLE ${quoteIdentifier(table)} WITH (format = 'PARQUET', external_location = ${quoteLiteral(location)}) AS\n${select}`;
    const id = await this.start(query.name, text, params);
    // Recorded before waiting: a failed CTAS may still have left files, which release removes.
    this.materialized.push({ table, location });
    const stats = await this.waitForSuccess(query.name, id);
    this.options.onQueryCompleted?.({ name: query.name, queryExecutionId: id, dataScannedBytes: stats.dataScannedBytes, engineExecutionMs: stats.engineExecutionMs, rows: 0 });
    return table;
  }

  /** Drops the CTAS tables (Glue entries) and deletes their files: they hold rows that are not in the dataset. */
  async release(): Promise<void> {
    while (this.materialized.length > 0) {
      const { table, location } = this.materialized.pop()!;
      const id = await this.start('release', `DROP TABLE IF EXISTS ${quoteIdentifier(table)}`, []);
      await this.waitForSuccess('release', id);
      await this.options.deletePrefix!(location);
    }
  }

  private async start(name: string, text: string, params: readonly SqlParam[]): Promise<string> {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_QUERY_BYTES) {
      throw new Error(`${name}: the query text is ${bytes} bytes, over Athena's ${MAX_QUERY_BYTES}; a golden set this large must be decontaminated in fewer n-grams (a longer dataset.decontamination.ngramWords) or split`);
    }
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
    if (id === undefined) throw new Error(`${name}: Athena returned no query execution id`);
    return id;
  }

  private async waitForSuccess(
    name: string,
    id: string,
  ): Promise<Pick<AthenaQueryInfo, 'dataScannedBytes' | 'engineExecutionMs'> & { readonly dataManifestLocation: string | undefined }> {
    const startedAt = this.now();
    const timeoutMs = this.options.timeoutMs ?? 600_000;
    const maxDelay = this.options.pollMaxMs ?? 5000;
    let delay = this.options.pollInitialMs ?? 250;
    for (;;) {
      const { QueryExecution: execution } = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = execution?.Status?.State;
      if (state === 'SUCCEEDED') {
        return {
          dataScannedBytes: execution?.Statistics?.DataScannedInBytes,
          engineExecutionMs: execution?.Statistics?.EngineExecutionTimeInMillis,
          dataManifestLocation: execution?.Statistics?.DataManifestLocation,
        };
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
