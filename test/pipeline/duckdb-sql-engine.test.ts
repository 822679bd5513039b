/**
 * The local SQL engine's own behaviour: independent statements run at once on separate connections of the
 * lake's database, the tables it materialises are seen by every connection, and a failure in one
 * statement still rejects while `release` waits for the rest and cleans up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBResultReader, DuckDBValue } from '@duckdb/node-api';
import { DuckDbSqlEngine } from '../../local/pipeline/duckdb-sql-engine';
import { LocalLake, type LakeSession } from '../../local/local-lake';

type Run = (sql: string, params?: readonly DuckDBValue[]) => Promise<DuckDBResultReader>;

/**
 * Watches the statements that name `marker` (a table alias) on every connection of the lake: how many run at once, at
 * most. With `meet`, such a statement waits (up to `patienceMs`) until `meet` of them have started, so a
 * test of running at once does not depend on timing: an engine that ran them one after another would
 * keep the first waiting for the second, which never starts, and report one at a time.
 */
function watch(lake: LocalLake, marker: string, meet = 0, patienceMs = 1000): { readonly maxAtOnce: () => number; readonly sessions: () => number; readonly closed: () => number } {
  let running = 0;
  let maxAtOnce = 0;
  let started = 0;
  let sessions = 0;
  let closed = 0;
  const waiters: Array<() => void> = [];
  const wrap =
    (run: Run): Run =>
    async (sql, params) => {
      if (!sql.includes(marker)) return run(sql, params);
      running += 1;
      started += 1;
      maxAtOnce = Math.max(maxAtOnce, running);
      if (started >= meet) for (const wake of waiters.splice(0)) wake();
      else await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, patienceMs);
      });
      try {
        return await run(sql, params);
      } finally {
        running -= 1;
      }
    };
  const lakeRun = lake.run.bind(lake);
  lake.run = wrap(lakeRun);
  const openSession = lake.session.bind(lake);
  lake.session = async (): Promise<LakeSession> => {
    const session = await openSession();
    sessions += 1;
    return {
      run: wrap(session.run.bind(session)),
      close: () => {
        closed += 1;
        session.close();
      },
    };
  };
  return { maxAtOnce: () => maxAtOnce, sessions: () => sessions, closed: () => closed };
}

async function threadsOf(lake: LocalLake): Promise<number> {
  const [row] = (await lake.query("SELECT current_setting('threads') AS threads")) as Array<{ threads: number | string }>;
  return Number(row?.threads);
}

async function buildTables(lake: LocalLake): Promise<string[]> {
  const rows = (await lake.query("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'sial_build_%' ORDER BY table_name")) as Array<{ table_name: string }>;
  return rows.map((r) => r.table_name);
}

describe('DuckDbSqlEngine', () => {
  let dir: string;
  let lake: LocalLake;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sial-duckdb-engine-'));
    lake = await LocalLake.open(join(dir, 'lake'));
  });

  afterEach(() => {
    lake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs independent statements at once, each on its own connection and thread, and all of them see the materialised table', async () => {
    await lake.run('SET threads = 3');
    const sql = new DuckDbSqlEngine(lake);
    const threads = "CAST(current_setting('threads') AS BIGINT) AS threads";
    // A statement alone runs with DuckDB's own thread count.
    const table = await sql.materialize('numbers', { name: 'numbers', template: `SELECT range AS n, ${threads} FROM range(1000)` }, [], 's3://bucket/work/numbers/');
    const watched = watch(lake, 'at_once', 2);
    const tables = { numbers: table };
    const [sum, count] = await Promise.all([
      sql.query({ name: 'sum', template: `SELECT sum(n) AS total, max(threads) AS alone, ${threads} FROM {{table:numbers}} at_once`, tables }, []),
      sql.query({ name: 'count', template: `SELECT count(*) AS rows, ${threads} FROM {{table:numbers}} at_once WHERE n >= ?`, tables }, [500]),
    ]);
    expect(sum).toEqual([{ total: 499_500, alone: 3, threads: 1 }]);
    expect(count).toEqual([{ rows: 500, threads: 1 }]);
    expect(watched.maxAtOnce()).toBe(2);
    expect(watched.sessions()).toBe(1);
    await sql.release();
    expect(await buildTables(lake)).toEqual([]);
    // The lake's other users get DuckDB's own count back.
    expect(await threadsOf(lake)).toBe(3);
  });

  it('runs no more statements at once than its connections, one after another with one', async () => {
    await lake.run('SET threads = 3');
    const one = new DuckDbSqlEngine(lake, undefined, { connections: 1 });
    const watched = watch(lake, 'queued', 3, 100);
    const statements = [1, 2, 3].map((i) => one.query({ name: `q${i}`, template: 'SELECT CAST(? AS INTEGER) AS i FROM (SELECT 1) queued', tables: {} }, [i]));
    expect(await Promise.all(statements)).toEqual([[{ i: 1 }], [{ i: 2 }], [{ i: 3 }]]);
    expect(watched.maxAtOnce()).toBe(1);
    expect(watched.sessions()).toBe(0);
    // One at a time, each statement keeps DuckDB's thread count.
    expect(await threadsOf(lake)).toBe(3);
    expect(() => new DuckDbSqlEngine(lake, undefined, { connections: 0 })).toThrow(/at least 1/);
  });

  it('rejects a failed statement while the others finish, and release waits for them, drops the tables and closes its sessions', async () => {
    const sql = new DuckDbSqlEngine(lake, undefined, { connections: 3 });
    const table = await sql.materialize('numbers', { name: 'numbers', template: 'SELECT range AS n FROM range(100)' }, [], 's3://bucket/work/numbers/');
    const watched = watch(lake, 'together', 3);
    const tables = { numbers: table };
    const settled: string[] = [];
    const good = sql.query({ name: 'good', template: 'SELECT max(n) AS top FROM {{table:numbers}} together', tables }, []).then((rows) => {
      settled.push('good');
      return rows;
    });
    const bad = sql.query({ name: 'bad', template: 'SELECT no_such_column FROM {{table:numbers}} together', tables }, []).finally(() => settled.push('bad'));
    const other = sql.query({ name: 'other', template: 'SELECT min(n) AS low FROM {{table:numbers}} together', tables }, []).finally(() => settled.push('other'));
    // Called while they run: release must not drop the table under them.
    const released = sql.release().then(() => settled.push('release'));
    await expect(bad).rejects.toThrow(/^bad: DuckDB query failed: .*no_such_column/s);
    await expect(good).resolves.toEqual([{ top: 99 }]);
    await expect(other).resolves.toEqual([{ low: 0 }]);
    await released;
    expect(settled[settled.length - 1]).toBe('release');
    expect(watched.maxAtOnce()).toBe(3);
    expect(watched.sessions()).toBe(2);
    expect(watched.closed()).toBe(2);
    expect(await buildTables(lake)).toEqual([]);
    // The engine opens connections again for a later build.
    await expect(sql.query({ name: 'again', template: 'SELECT 1 AS one', tables: {} }, [])).resolves.toEqual([{ one: 1 }]);
    await sql.release();
  });

  it('drops a table whose materialisation failed, and keeps two engines on one lake apart', async () => {
    const a = new DuckDbSqlEngine(lake);
    const b = new DuckDbSqlEngine(lake);
    await expect(a.materialize('broken', { name: 'broken', template: 'SELECT no_such_column' }, [], 's3://bucket/work/broken/')).rejects.toThrow(/^broken: DuckDB could not materialise/);
    const tableA = await a.materialize('rows', { name: 'rows', template: 'SELECT 1 AS engine' }, [], 's3://bucket/a/work/rows/');
    const tableB = await b.materialize('rows', { name: 'rows', template: 'SELECT 2 AS engine' }, [], 's3://bucket/b/work/rows/');
    expect(tableA).not.toBe(tableB);
    expect(await a.query({ name: 'a', template: 'SELECT engine FROM {{table:rows}}', tables: { rows: tableA } }, [])).toEqual([{ engine: 1 }]);
    expect(await b.query({ name: 'b', template: 'SELECT engine FROM {{table:rows}}', tables: { rows: tableB } }, [])).toEqual([{ engine: 2 }]);
    await a.release();
    expect(await buildTables(lake)).toEqual([tableB]);
    await b.release();
    await a.release();
    expect(await buildTables(lake)).toEqual([]);
  });
});
