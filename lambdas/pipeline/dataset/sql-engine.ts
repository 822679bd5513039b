/**
 * The SQL port of the dataset build: run one query with positional `?` parameters and get its rows as
 * plain objects. Athena implements it in AWS (athena-sql-engine.ts), DuckDB over the local lake in local
 * mode (local/pipeline/duckdb-sql-engine.ts); the query text is the same (sql/*.sql), apart from the
 * named placeholders each adapter substitutes (sql-template.ts).
 */

/** A value bound to a `?` parameter. Bound by the engine, never spliced into the SQL by our code. */
export type SqlParam = string | number | boolean;

/**
 * A value in a result row. Both adapters map engine types the same way: integers and floating point to
 * `number` (an integer outside the safe range is an error), booleans to `boolean`, text, decimals and dates
 * to `string`, timestamps to an ISO 8601 UTC string, NULL to `null`. Arrays, maps and rows are refused:
 * a query returns them as JSON text (`{{json_format}}`), because Athena cannot return them parseably.
 */
export type SqlValue = string | number | boolean | null;

/** One result row, by column name. */
export type SqlRow = Readonly<Record<string, SqlValue>>;

/** A query file: its name (for errors and logs) and its text, with `{{placeholders}}`. */
export interface SqlQuery {
  readonly name: string;
  readonly template: string;
  /** Values of the query's `{{inline:NAME}}` placeholders, rendered as quoted literals. */
  readonly inline?: Readonly<Record<string, string>>;
  /** Tables of the query's `{{table:NAME}}` placeholders (from `materialize`), rendered as identifiers. */
  readonly tables?: Readonly<Record<string, string>>;
}

/**
 * How `unload` writes rows: JSON lines (nested values as JSON), the one column as plain text lines, or
 * Parquet (typed columns, Snappy-compressed pages, for readers that want a table rather than lines).
 */
export type UnloadFormat = 'json' | 'text' | 'parquet';

/** What an unload wrote. */
export interface UnloadResult {
  /** The files written, as s3:// URIs, in the order their content is read (hashed, concatenated). */
  readonly files: readonly string[];
}

/** Runs read-only queries against the lake. */
export interface SqlEngine {
  /** For logs and errors: `athena`, `duckdb`. */
  readonly name: string;
  /**
   * Runs the query after substituting this engine's placeholders; `params` bind the `?` markers in order
   * of appearance.
   * @throws Error when the number of params differs from the `?` markers, a placeholder is unknown, or the query fails.
   */
  query(query: SqlQuery, params: readonly SqlParam[]): Promise<SqlRow[]>;
  /**
   * Runs the query and has the engine write its rows as files under `prefix` (an s3:// URI ending in `/`
   * that holds nothing yet): Athena with UNLOAD, DuckDB with COPY. No row passes through this process.
   * JSON and text: Athena writes gzip-compressed files (its only choice for them), DuckDB plain ones;
   * readers tell them apart by the gzip magic bytes. Parquet: both write Snappy-compressed Parquet (the
   * compression is inside the file, so any Parquet reader opens either engine's files).
   * @throws Error as `query` does, or when the prefix is not empty.
   */
  unload(query: SqlQuery, params: readonly SqlParam[], prefix: string, format: UnloadFormat): Promise<UnloadResult>;
  /**
   * Runs the query once and keeps its rows as a table for this build's later queries (the heavy part of
   * the build is computed once, and every file and count reads the same rows). DuckDB: a table of the
   * engine's own in the lake's in-memory database (seen by every connection the engine runs statements on);
   * Athena: a CTAS table in Parquet under `location` (inside the build's own folder). Returns the table's
   * name for `{{table:NAME}}`.
   */
  materialize(name: string, query: SqlQuery, params: readonly SqlParam[], location: string): Promise<string>;
  /** Drops what `materialize` made (Athena: the Glue table and its files). Safe to call more than once. */
  release(): Promise<void>;
}
