/**
 * The local lake: the same tables as the Iceberg lake (lambdas/shared/lake-tables.ts), written by
 * DuckDB as Hive-partitioned Parquet with the same partitions (day, model, consent for traces).
 * It stands in for Firehose's Iceberg destination; it is not Iceberg (no snapshots or manifests),
 * which nothing in local mode needs.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DuckDBInstance, type DuckDBConnection, type DuckDBResultReader, type DuckDBValue } from '@duckdb/node-api';
import { LAKE_TABLES, type IcebergField, type IcebergType, type LakeTableDefinition } from '../lambdas/shared/lake-tables';

function duckType(type: IcebergType): string {
  if (typeof type === 'string') {
    // Timestamps arrive as epoch microseconds, exactly as Firehose receives them; converted on write.
    return { string: 'VARCHAR', boolean: 'BOOLEAN', int: 'INTEGER', long: 'BIGINT', double: 'DOUBLE', timestamp: 'BIGINT' }[type];
  }
  if (type.type === 'list') return `${duckType(type.element)}[]`;
  return `STRUCT(${type.fields.map((f) => `"${f.name}" ${duckType(f.type)}`).join(', ')})`;
}

/** A column's type as the Parquet files hold it: timestamps are TIMESTAMP there (BIGINT only when staged). */
export function parquetDuckType(type: IcebergType): string {
  return type === 'timestamp' ? 'TIMESTAMP' : duckType(type);
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The SELECT list that turns staged JSON into the table's columns plus the derived partition columns. */
function projection(table: LakeTableDefinition): string {
  const columns = table.fields.map((f: IcebergField) => (f.type === 'timestamp' ? `make_timestamp("${f.name}") AS "${f.name}"` : `"${f.name}"`));
  for (const p of table.partitions) {
    if (p.transform === 'day') columns.push(`strftime(make_timestamp("${p.sourceName}"), '%Y-%m-%d') AS "${p.name}"`);
  }
  return columns.join(', ');
}

function partitionColumns(table: LakeTableDefinition): string[] {
  // An identity partition keeps its column name; a day() partition uses its derived column.
  return table.partitions.map((p) => (p.transform === 'identity' ? p.sourceName : p.name));
}

/**
 * A further connection to the lake's database, for a statement that should run while another runs on the
 * lake's own connection: DuckDB runs the statements of different connections at once. It reads the lake's
 * tables as `LocalLake.run` does, and sees the ordinary (not temporary) tables made on any connection.
 */
export interface LakeSession {
  /** As LocalLake.run, on this session's connection. */
  run(sql: string, params?: readonly DuckDBValue[]): Promise<DuckDBResultReader>;
  /** Closes the connection (never under a running statement); the lake's `close` closes any still open. */
  close(): void;
}

export class LocalLake {
  private readonly sessions = new Set<DuckDBConnection>();

  private constructor(
    readonly root: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(root: string): Promise<LocalLake> {
    mkdirSync(root, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:');
    return new LocalLake(root, instance, await instance.connect());
  }

  /** A further connection to the same database (see LakeSession). */
  async session(): Promise<LakeSession> {
    const connection = await this.instance.connect();
    this.sessions.add(connection);
    return {
      run: async (sql, params = []) => {
        await this.defineViews(connection);
        return connection.runAndReadAll(sql, params.length > 0 ? [...params] : undefined);
      },
      close: () => {
        if (this.sessions.delete(connection)) connection.closeSync();
      },
    };
  }

  tableDir(table: string): string {
    return join(this.root, table);
  }

  /** Appends rows (JSON objects shaped like the lake table) as new Parquet files in their partitions. */
  async append(tableName: string, rows: readonly object[]): Promise<void> {
    if (rows.length === 0) return;
    const table = LAKE_TABLES.find((t) => t.name === tableName);
    if (table === undefined) throw new Error(`Unknown lake table "${tableName}": known tables are ${LAKE_TABLES.map((t) => t.name).join(', ')}`);
    const stagingDir = join(this.root, '_staging');
    mkdirSync(stagingDir, { recursive: true });
    mkdirSync(this.tableDir(table.name), { recursive: true });
    const staged = join(stagingDir, `${table.name}-${randomUUID()}.jsonl`);
    writeFileSync(staged, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const columns = `{${table.fields.map((f) => `${quote(f.name)}: ${quote(duckType(f.type))}`).join(', ')}}`;
    try {
      await this.connection.run(
        `COPY (SELECT ${projection(table)} FROM read_json(${quote(staged)}, format = 'newline_delimited', columns = ${columns}))
         TO ${quote(this.tableDir(table.name))} (FORMAT parquet, PARTITION_BY (${partitionColumns(table).join(', ')}), APPEND true)`,
      );
    } finally {
      rmSync(staged, { force: true });
    }
  }

  /** Runs a query in which `traces`, `gate_audit` and `feedback` name the lake's tables. */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.run(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }

  /**
   * Like `query`, with `?` parameters bound by DuckDB (a prepared statement: values never become SQL
   * text), returning the reader so that callers can map values by column type.
   */
  async run(sql: string, params: readonly DuckDBValue[] = []): Promise<DuckDBResultReader> {
    await this.defineViews(this.connection);
    // Without parameters the statement runs unprepared, exactly as `query` always ran it.
    return this.connection.runAndReadAll(sql, params.length > 0 ? [...params] : undefined);
  }

  /** (Re)creates the views over the Parquet files, so that files appended since are seen. */
  private async defineViews(connection: DuckDBConnection): Promise<void> {
    for (const table of LAKE_TABLES) {
      const files = quote(join(this.tableDir(table.name), '**', '*.parquet'));
      try {
        await connection.run(
          `CREATE OR REPLACE TEMP VIEW ${table.name} AS SELECT * FROM read_parquet(${files}, hive_partitioning = true, union_by_name = true)`,
        );
      } catch {
        // No files yet: an empty view with the table's columns, so queries still run.
        const empty = table.fields.map((f) => `NULL::${parquetDuckType(f.type)} AS "${f.name}"`).join(', ');
        await connection.run(`CREATE OR REPLACE TEMP VIEW ${table.name} AS SELECT * FROM (SELECT ${empty}) WHERE false`);
      }
    }
  }

  /** Closes the lake's connection and every session still open. */
  close(): void {
    for (const connection of this.sessions) connection.closeSync();
    this.sessions.clear();
    this.connection.closeSync();
  }
}
