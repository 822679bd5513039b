/**
 * SqlEngine on the local lake (DuckDB over Hive-partitioned Parquet): the same query files Athena runs,
 * with DuckDB's spelling of the placeholders, parameters bound by prepared statements, and values
 * mapped exactly as the Athena adapter maps them (see SqlValue), so a query that works here returns the
 * same shapes in AWS.
 */
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import type { SqlEngine, SqlParam, SqlQuery, SqlRow, SqlValue } from '../../lambdas/pipeline/dataset/sql-engine';
import { prepareSql, tablePlaceholders, type SqlDialect } from '../../lambdas/pipeline/dataset/sql-template';
import { floatValue, safeInteger, sqlTimestampToIso } from '../../lambdas/pipeline/dataset/sql-values';
import type { LocalLake } from '../local-lake';

/** DuckDB's spelling of every placeholder: the lake's view names and the two functions Trino names differently. */
export const DUCKDB_DIALECT: SqlDialect = {
  ...tablePlaceholders({ traces: 'traces', gate_audit: 'gate_audit', feedback: 'feedback' }),
  transform: 'list_transform',
  json_format: 'json',
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

  constructor(private readonly lake: LocalLake) {}

  query(query: SqlQuery, params: readonly SqlParam[]): Promise<SqlRow[]> {
    const run = this.queue.then(() => this.run(query, params));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(query: SqlQuery, params: readonly SqlParam[]): Promise<SqlRow[]> {
    const text = prepareSql(query.template, DUCKDB_DIALECT, params.length, query.name);
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
