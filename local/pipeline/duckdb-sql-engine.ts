/**
 * SqlEngine on the local lake (DuckDB over Hive-partitioned Parquet): the same query files Athena runs,
 * with DuckDB's spelling of the placeholders, parameters bound by prepared statements, and values
 * mapped exactly as the Athena adapter maps them (see SqlValue), so a query that works here returns the
 * same shapes in AWS.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import type { SqlEngine, SqlParam, SqlQuery, SqlRow, SqlValue, UnloadFormat, UnloadResult } from '../../lambdas/pipeline/dataset/sql-engine';
import { prepareSql, quoteLiteral, tablePlaceholders, type SqlDialect } from '../../lambdas/pipeline/dataset/sql-template';
import { floatValue, safeInteger, sqlTimestampToIso } from '../../lambdas/pipeline/dataset/sql-values';
import type { LocalLake } from '../local-lake';

/** DuckDB's spelling of every placeholder: the lake's view names and the two functions Trino names differently. */
export const DUCKDB_DIALECT: SqlDialect = {
  ...tablePlaceholders({ traces: 'traces', gate_audit: 'gate_audit', feedback: 'feedback', judgments: 'judgments' }),
  transform: 'list_transform',
  json_format: 'json',
  regexp_split: 'regexp_split_to_array',
  cardinality: 'len',
  sequence: 'generate_series',
  array_join: 'array_to_string',
  to_utf8: 'encode',
  // DuckDB's sha256 already returns lower-case hex text; the empty name leaves a parenthesised expression.
  to_hex: '',
  message_list_type: 'STRUCT(role VARCHAR, content VARCHAR)[]',
  slice: 'sial_slice',
  percentile: 'quantile_cont',
};

/** Macros the DuckDB spelling relies on, created on the lake's connection before the first query. */
const MACROS = [
  // Trino's slice(array, start, length); DuckDB's list_slice takes an inclusive end instead.
  'CREATE OR REPLACE TEMP MACRO sial_slice(l, s, n) AS list_slice(l, s, s + n - 1)',
  // Trino's regexp_like(string, pattern): whether the pattern matches anywhere in the string, which is what
  // DuckDB's regexp_matches does; the query files use Trino's name.
  'CREATE OR REPLACE TEMP MACRO regexp_like(s, p) AS regexp_matches(s, p)',
];

/** Where an s3:// URI lives on this machine (the local object store's mapping). */
export type LocalPathOf = (uri: string) => string;

/**
 * COPY options per unload format: JSON lines, the one column as bare lines (no header, no quoting), or
 * Parquet with Snappy named explicitly, as the Athena adapter's UNLOAD names it.
 */
const COPY_OPTIONS: Record<UnloadFormat, { readonly options: string; readonly extension: string }> = {
  json: { options: 'FORMAT json', extension: 'jsonl' },
  text: { options: "FORMAT csv, HEADER false, QUOTE '', ESCAPE ''", extension: 'txt' },
  parquet: { options: 'FORMAT parquet, COMPRESSION snappy', extension: 'parquet' },
};

function cellValue(value: unknown, type: DuckDBType, column: string): SqlValue {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.ENUM:
      return String(value);
    case DuckDBTypeId.BOOLEAN:
      return Boolean(value);
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      // The JSON reader gives 64-bit and wider integers as strings, so they never lose precision silently.
      return safeInteger(value as string | number, column);
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return floatValue(value as string | number, column);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return sqlTimestampToIso(String(value), column);
    default:
      // Athena cannot return these parseably, so neither may this engine: a query that relied on it locally would break in AWS.
      throw new Error(`column ${column} has DuckDB type ${type.toString()}, which has no plain value: return arrays, maps and structs as JSON text ({{json_format}})`);
  }
}

/** SqlEngine over a LocalLake. */
export class DuckDbSqlEngine implements SqlEngine {
  readonly name = 'duckdb';
  // One DuckDB connection runs one statement at a time; queries queue here instead of interleaving.
  private queue: Promise<unknown> = Promise.resolve();
  private macrosReady = false;
  /** Temporary tables made by `materialize`, dropped by `release`. */
  private readonly materialized = new Set<string>();

  /**
   * @param lake the local lake the queries read.
   * @param pathOf maps an unload's s3:// URIs to files (the local object store's `pathOf`); without it
   *   `unload` is refused.
   */
  constructor(
    private readonly lake: LocalLake,
    private readonly pathOf?: LocalPathOf,
  ) {}

  query(query: SqlQuery, params: readonly SqlParam[]): Promise<SqlRow[]> {
    return this.enqueue(() => this.run(query, params));
  }

  unload(query: SqlQuery, params: readonly SqlParam[], prefix: string, format: UnloadFormat): Promise<UnloadResult> {
    return this.enqueue(() => this.copy(query, params, prefix, format));
  }

  materialize(name: string, query: SqlQuery, params: readonly SqlParam[], _location: string): Promise<string> {
    return this.enqueue(async () => {
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`materialize: "${name}" is not a plain lower-case table name`);
      const table = `sial_build_${name}`;
      const text = prepareSql(query.template, DUCKDB_DIALECT, params.length, query.name, query.inline, query.tables);
      try {
        await this.lake.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${text}`, params);
      } catch (error) {
        throw new Error(`${query.name}: DuckDB could not materialise ${table}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      this.materialized.add(table);
      return table;
    });
  }

  release(): Promise<void> {
    return this.enqueue(async () => {
      for (const table of this.materialized) await this.lake.run(`DROP TABLE IF EXISTS ${table}`);
      this.materialized.clear();
    });
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      if (!this.macrosReady) {
        for (const macro of MACROS) await this.lake.run(macro);
        this.macrosReady = true;
      }
      return work();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** COPY (query) TO one file under the prefix: DuckDB writes it, in the query's order, in one file. */
  private async copy(query: SqlQuery, params: readonly SqlParam[], prefix: string, format: UnloadFormat): Promise<UnloadResult> {
    if (this.pathOf === undefined) throw new Error(`${query.name}: this DuckDbSqlEngine was built without a local path mapping, so it cannot unload`);
    if (!/^s3:\/\/[^/]+\/.+\/$/.test(prefix)) throw new Error(`${query.name}: unload prefix "${prefix}" must be an s3://bucket/key/ URI ending in /`);
    const { options, extension } = COPY_OPTIONS[format];
    const uri = `${prefix}part-00000.${extension}`;
    const path = this.pathOf(uri);
    const dir = dirname(path);
    mkdirSync(dir, { recursive: true });
    // As Athena's UNLOAD: never write into a prefix that holds anything (a retried build uses a new one).
    if (readdirSync(dir).length > 0) throw new Error(`${query.name}: unload prefix ${prefix} is not empty`);
    const text = prepareSql(query.template, DUCKDB_DIALECT, params.length, query.name, query.inline, query.tables);
    try {
      await this.lake.run(`COPY (${text}) TO ${quoteLiteral(path)} (${options})`, params);
    } catch (error) {
      throw new Error(`${query.name}: DuckDB COPY failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return { files: [uri] };
  }

  private async run(query: SqlQuery, params: readonly SqlParam[]): Promise<SqlRow[]> {
    const text = prepareSql(query.template, DUCKDB_DIALECT, params.length, query.name, query.inline, query.tables);
    let reader;
    try {
      reader = await this.lake.run(text, params);
    } catch (error) {
      throw new Error(`${query.name}: DuckDB query failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const names = reader.columnNames();
    const types = reader.columnTypes();
    return reader.getRowObjectsJson().map((row) => {
      const record: Record<string, SqlValue> = {};
      names.forEach((name, i) => {
        record[name] = cellValue(row[name], types[i]!, name);
      });
      return record;
    });
  }
}
