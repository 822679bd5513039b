/**
 * SqlEngine on the local lake (DuckDB over Hive-partitioned Parquet): the same query files Athena runs,
 * with DuckDB's spelling of the placeholders, parameters bound by prepared statements, and values
 * mapped exactly as the Athena adapter maps them (see SqlValue), so a query that works here returns the
 * same shapes in AWS.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBTypeId, type DuckDBResultReader, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import type { SqlEngine, SqlParam, SqlQuery, SqlRow, SqlValue, UnloadFormat, UnloadResult } from '../../lambdas/pipeline/dataset/sql-engine';
import { prepareSql, quoteLiteral, tablePlaceholders, type SqlDialect } from '../../lambdas/pipeline/dataset/sql-template';
import { floatValue, safeInteger, sqlTimestampToIso } from '../../lambdas/pipeline/dataset/sql-values';
import type { LakeSession, LocalLake } from '../local-lake';

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

/** Macros the DuckDB spelling relies on, created on each connection before its first query. */
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

/**
 * How many statements the engine runs at once by default. The dataset build starts its files and summaries
 * together; DuckDB runs the statements of different connections at once, so a statement that keeps one
 * core busy (a JSON file's write, which follows the query's order on one thread) leaves the other to the
 * next statement instead of idling.
 */
export const DEFAULT_DUCKDB_CONNECTIONS = 2;

/**
 * DuckDB's thread count while several statements are under way: one. The statements then fill the cores
 * between them, each on its own thread, and a statement on one thread does less work than the same one
 * spread over two (no per-thread hash tables and sorts to merge): the dataset build's file statements took
 * about 15 instead of 18 CPU seconds at 1,000,000 traces. A statement alone (the materialisations) gets
 * DuckDB's own count back (the core count).
 */
const THREADS_WHILE_SEVERAL = 1;

/** One connection the engine runs statements on: the lake's own, or a session of the lake. */
interface Connection {
  run(sql: string, params?: readonly DuckDBValue[]): Promise<DuckDBResultReader>;
  readonly session?: LakeSession;
  macrosReady: boolean;
}

/** Options of DuckDbSqlEngine. */
export interface DuckDbSqlEngineOptions {
  /**
   * How many statements may run at once, each on its own connection (the lake's own connection first,
   * then sessions of the lake). Default {@link DEFAULT_DUCKDB_CONNECTIONS}; 1 runs them one after another.
   */
  readonly connections?: number;
}

/** SqlEngine over a LocalLake. */
export class DuckDbSqlEngine implements SqlEngine {
  readonly name = 'duckdb';
  private readonly maxConnections: number;
  /** Connections open and not running a statement. */
  private readonly idle: Connection[] = [];
  private opened = 0;
  /** Statements waiting for a connection, first come first served. */
  private readonly waiting: Array<(connection: Connection) => void> = [];
  /** Statements started and not yet settled; `release` waits for them. */
  private readonly running = new Set<Promise<unknown>>();
  /** Tables made by `materialize`, dropped by `release`. */
  private readonly materialized = new Set<string>();
  /**
   * Materialised tables are ordinary tables of the lake's in-memory database, so that every connection
   * sees them (a temporary table is its connection's own); this engine's suffix keeps two engines on one
   * lake apart.
   */
  private readonly suffix = randomBytes(6).toString('hex');
  /** DuckDB's own thread count (read before the engine first changes it) and the count set last. */
  private threads: { readonly own: number; current: number } | undefined;
  /** The last thread-count change; every statement waits for it before it runs. */
  private threadsSet: Promise<void> = Promise.resolve();

  /**
   * @param lake the local lake the queries read.
   * @param pathOf maps an unload's s3:// URIs to files (the local object store's `pathOf`); without it
   *   `unload` is refused.
   */
  constructor(
    private readonly lake: LocalLake,
    private readonly pathOf?: LocalPathOf,
    options: DuckDbSqlEngineOptions = {},
  ) {
    const connections = options.connections ?? DEFAULT_DUCKDB_CONNECTIONS;
    if (!Number.isInteger(connections) || connections < 1) throw new Error(`connections must be a whole number of at least 1; received ${connections}`);
    this.maxConnections = connections;
  }

  query(query: SqlQuery, params: readonly SqlParam[]): Promise<SqlRow[]> {
    return this.start((connection) => this.read(connection, query, params));
  }

  unload(query: SqlQuery, params: readonly SqlParam[], prefix: string, format: UnloadFormat): Promise<UnloadResult> {
    return this.start((connection) => this.copy(connection, query, params, prefix, format));
  }

  materialize(name: string, query: SqlQuery, params: readonly SqlParam[], _location: string): Promise<string> {
    return this.start(async (connection) => {
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`materialize: "${name}" is not a plain lower-case table name`);
      const table = `sial_build_${name}_${this.suffix}`;
      const text = prepareSql(query.template, DUCKDB_DIALECT, params.length, query.name, query.inline, query.tables);
      // Recorded before it exists, so that release drops it even when the statement fails half-way.
      this.materialized.add(table);
      try {
        await connection.run(`CREATE OR REPLACE TABLE ${table} AS ${text}`, params);
      } catch (error) {
        throw new Error(`${query.name}: DuckDB could not materialise ${table}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      return table;
    });
  }

  /**
   * Waits for every statement started before it to settle, drops the materialised tables and closes the
   * sessions it opened (a later statement opens them again). Safe to call more than once.
   */
  async release(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    if (this.threads !== undefined && this.threads.current !== this.threads.own) {
      // The lake's other users get DuckDB's own thread count back.
      await this.start(async () => undefined);
    }
    if (this.materialized.size > 0) {
      await this.start(async (connection) => {
        for (const table of this.materialized) await connection.run(`DROP TABLE IF EXISTS ${table}`);
        this.materialized.clear();
      });
    }
    for (const connection of this.idle.splice(0)) {
      if (connection.session === undefined) this.idle.push(connection);
      else {
        connection.session.close();
        this.opened -= 1;
      }
    }
  }

  /** Runs the work on a free connection (opening one while fewer than the limit are open), then frees it. */
  private start<T>(work: (connection: Connection) => Promise<T>): Promise<T> {
    const run = (async () => {
      const connection = await this.acquire();
      try {
        if (!connection.macrosReady) {
          for (const macro of MACROS) await connection.run(macro);
          connection.macrosReady = true;
        }
        await this.setThreads(connection);
        return await work(connection);
      } finally {
        this.free(connection);
      }
    })();
    this.running.add(run);
    void run.then(
      () => this.running.delete(run),
      () => this.running.delete(run),
    );
    return run;
  }

  /**
   * One thread while several statements are under way (this one included), DuckDB's own count otherwise.
   * The statements a caller starts together are all under way before the first of them runs, so they all
   * run with the same count; the setting is global to the database, so a change is made once and every
   * statement waits for it.
   */
  private async setThreads(connection: Connection): Promise<void> {
    if (this.maxConnections < 2) return;
    if (this.threads === undefined) {
      const own = Number((await connection.run("SELECT current_setting('threads') AS threads")).getRowObjectsJson()[0]?.['threads']);
      if (!Number.isSafeInteger(own) || own < 1) throw new Error(`DuckDB reported ${own} threads`);
      this.threads ??= { own, current: own };
    }
    const wanted = this.running.size > 1 ? THREADS_WHILE_SEVERAL : this.threads.own;
    if (wanted !== this.threads.current) {
      this.threads.current = wanted;
      const change = this.threadsSet.then(async () => {
        await connection.run(`SET threads = ${wanted}`);
      });
      // A failed change fails this statement only; the others run with the count DuckDB has.
      this.threadsSet = change.catch(() => undefined);
      await change;
      return;
    }
    await this.threadsSet;
  }

  private async acquire(): Promise<Connection> {
    const idle = this.idle.pop();
    if (idle !== undefined) return idle;
    if (this.opened < this.maxConnections) {
      this.opened += 1;
      const first = this.opened === 1;
      try {
        if (first) return { run: (sql, params) => this.lake.run(sql, params), macrosReady: false };
        const session = await this.lake.session();
        return { run: (sql, params) => session.run(sql, params), session, macrosReady: false };
      } catch (error) {
        this.opened -= 1;
        throw error;
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private free(connection: Connection): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(connection);
    else this.idle.push(connection);
  }

  /** COPY (query) TO one file under the prefix: DuckDB writes it, in the query's order, in one file. */
  private async copy(connection: Connection, query: SqlQuery, params: readonly SqlParam[], prefix: string, format: UnloadFormat): Promise<UnloadResult> {
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
      await connection.run(`COPY (${text}) TO ${quoteLiteral(path)} (${options})`, params);
    } catch (error) {
      throw new Error(`${query.name}: DuckDB COPY failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return { files: [uri] };
  }

  private async read(connection: Connection, query: SqlQuery, params: readonly SqlParam[]): Promise<SqlRow[]> {
    const text = prepareSql(query.template, DUCKDB_DIALECT, params.length, query.name, query.inline, query.tables);
    let reader;
    try {
      reader = await connection.run(text, params);
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
