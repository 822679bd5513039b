import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type GetQueryResultsOutput,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { AthenaQueryError, AthenaSqlEngine, athenaLiteral, type AthenaQueryInfo, type AthenaSqlEngineOptions } from '../../lambdas/pipeline/dataset/athena-sql-engine';
import { queryDiscardsByGate } from '../../lambdas/pipeline/dataset/dataset-queries';
import type { SqlQuery } from '../../lambdas/pipeline/dataset/sql-engine';

const athena = mockClient(AthenaClient);

const TABLES = { traces: 'traces_v2', gate_audit: 'gate_audit', feedback: 'feedback_events', judgments: 'judgments' };

function engine(overrides: Partial<AthenaSqlEngineOptions> = {}): { engine: AthenaSqlEngine; sleeps: number[] } {
  const sleeps: number[] = [];
  const e = new AthenaSqlEngine(new AthenaClient({ region: 'eu-central-1' }), {
    workGroup: 'sial-prod-eu-pipeline',
    database: 'sial_prod_eu',
    tables: TABLES,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  return { engine: e, sleeps };
}

const QUERY: SqlQuery = {
  name: 'test-query',
  template: `-- a comment with a ? that is not a parameter
SELECT trace_id, {{json_format}}(CAST({{transform}}(x, m -> m.content) AS JSON)) AS j
FROM {{traces}} /* another ? */ WHERE agent_id = ? AND note = '?' AND reward >= ? AND consent = ?`,
};

function page(columns: Array<[string, string]>, rows: Array<Array<string | undefined>>, options: { header?: boolean; nextToken?: string } = {}): GetQueryResultsOutput {
  const data = rows.map((r) => ({ Data: r.map((v) => (v === undefined ? {} : { VarCharValue: v })) }));
  const header = { Data: columns.map(([name]) => ({ VarCharValue: name })) };
  return {
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: columns.map(([Name, Type]) => ({ Name, Type })) },
      Rows: options.header ? [header, ...data] : data,
    },
    NextToken: options.nextToken,
  };
}

function succeeded(): void {
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-1' });
  athena.on(GetQueryExecutionCommand).resolves({
    QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 1234, EngineExecutionTimeInMillis: 56 } },
  });
}

beforeEach(() => athena.reset());

describe('AthenaSqlEngine', () => {
  it('starts the query in the workgroup and database with its values as ExecutionParameters', async () => {
    succeeded();
    athena.on(GetQueryResultsCommand).resolves(page([['trace_id', 'varchar']], [], { header: true }));
    await engine().engine.query(QUERY, ["rag-qa-agent'; DROP TABLE traces; --", 0.8, true]);

    const [start] = athena.commandCalls(StartQueryExecutionCommand);
    const input = start!.args[0].input;
    expect(input.WorkGroup).toBe('sial-prod-eu-pipeline');
    expect(input.QueryExecutionContext).toEqual({ Database: 'sial_prod_eu', Catalog: 'AwsDataCatalog' });
    // Each value is a literal; the quote inside the string is doubled, so the value cannot end it.
    expect(input.ExecutionParameters).toEqual(["'rag-qa-agent''; DROP TABLE traces; --'", '0.8', 'true']);
    // Values never reach the text; placeholders are Trino's spelling and the stage's table names; comments are gone.
    expect(input.QueryString).toBe(
      `SELECT trace_id, json_format(CAST(transform(x, m -> m.content) AS JSON)) AS j\nFROM "traces_v2"   WHERE agent_id = ? AND note = '?' AND reward >= ? AND consent = ?`,
    );
    expect(input.QueryString).not.toContain('DROP');
  });

  it('sends no ExecutionParameters for a query without parameters', async () => {
    succeeded();
    athena.on(GetQueryResultsCommand).resolves(page([['n', 'bigint']], [['1']], { header: true }));
    await engine().engine.query({ name: 'count', template: 'SELECT count(*) AS n FROM {{feedback}}' }, []);
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(input.ExecutionParameters).toBeUndefined();
    expect(input.QueryString).toBe('SELECT count(*) AS n FROM "feedback_events"');
  });

  it('refuses a call whose values do not match the ? markers, before calling Athena', async () => {
    await expect(engine().engine.query(QUERY, ['only-one'])).rejects.toThrow('test-query has 3 ? parameters but 1 values were given');
    expect(athena.calls()).toHaveLength(0);
  });

  it('polls with a doubling, capped backoff until the query succeeds', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-2' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'QUEUED' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).resolves(page([['n', 'bigint']], [['7']], { header: true }));
    const { engine: e, sleeps } = engine({ pollInitialMs: 100, pollMaxMs: 300 });
    expect(await e.query({ name: 'q', template: 'SELECT 7 AS n' }, [])).toEqual([{ n: 7 }]);
    expect(sleeps).toEqual([100, 200, 300, 300]);
    expect(athena.commandCalls(GetQueryExecutionCommand).every((c) => c.args[0].input.QueryExecutionId === 'qe-2')).toBe(true);
  });

  it('reads every page, skips the header row once, and maps values by column type', async () => {
    succeeded();
    const columns: Array<[string, string]> = [
      ['trace_id', 'varchar'],
      ['reward', 'double'],
      ['group_size', 'bigint'],
      ['chosen', 'boolean'],
      ['role', 'varchar'],
      ['ts', 'timestamp'],
      ['amount', 'decimal'],
    ];
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(page(columns, [['t-1', '0.85', '3', 'true', 'chosen', '2026-11-20 10:00:00.123456', '1.50']], { header: true, nextToken: 'p2' }))
      .resolvesOnce(page(columns, [['t-2', '1.0E-4', '9007199254740991', 'false', undefined, '2026-11-20 10:00:00', '0.00']], { nextToken: 'p3' }))
      // A later page's first row that looks like labels is data: only the first page has the header.
      .resolvesOnce(page(columns, [['trace_id', '0', '0', 'false', '', '2026-11-21 00:00:00.5', '2']]));
    const completed: AthenaQueryInfo[] = [];
    const rows = await engine({ onQueryCompleted: (info) => completed.push(info) }).engine.query({ name: 'rows', template: 'SELECT 1' }, []);

    expect(rows).toEqual([
      { trace_id: 't-1', reward: 0.85, group_size: 3, chosen: true, role: 'chosen', ts: '2026-11-20T10:00:00.123Z', amount: '1.50' },
      { trace_id: 't-2', reward: 0.0001, group_size: 9007199254740991, chosen: false, role: null, ts: '2026-11-20T10:00:00.000Z', amount: '0.00' },
      { trace_id: 'trace_id', reward: 0, group_size: 0, chosen: false, role: '', ts: '2026-11-21T00:00:00.500Z', amount: '2' },
    ]);
    const pages = athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input);
    expect(pages.map((p) => p.NextToken)).toEqual([undefined, 'p2', 'p3']);
    expect(pages.every((p) => p.QueryExecutionId === 'qe-1' && p.MaxResults === 1000)).toBe(true);
    expect(completed).toEqual([{ name: 'rows', queryExecutionId: 'qe-1', dataScannedBytes: 1234, engineExecutionMs: 56, rows: 3 }]);
  });

  it('refuses an integer beyond the safe range and a complex column, naming the column', async () => {
    succeeded();
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(page([['n', 'bigint']], [['9007199254740993']], { header: true }))
      .resolvesOnce(page([['messages', 'array']], [['[{role=user, content=hi}]']], { header: true }));
    await expect(engine().engine.query({ name: 'big', template: 'SELECT 1' }, [])).rejects.toThrow('column n: 9007199254740993 is not an integer');
    await expect(engine().engine.query({ name: 'arr', template: 'SELECT 1' }, [])).rejects.toThrow('column messages has Athena type "array"');
  });

  it('surfaces the reason of a FAILED query and reads no results', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-3' });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        Status: {
          State: 'FAILED',
          StateChangeReason: 'COLUMN_NOT_FOUND: line 3:5: Column \'trainig_scope\' cannot be resolved',
          AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false, ErrorMessage: "COLUMN_NOT_FOUND: line 3:5: Column 'trainig_scope' cannot be resolved" },
        },
      },
    });
    const failure = engine().engine.query({ name: 'training-completions', template: 'SELECT 1' }, []);
    await expect(failure).rejects.toThrow(AthenaQueryError);
    await expect(failure).rejects.toThrow("training-completions: Athena query qe-3 FAILED: COLUMN_NOT_FOUND: line 3:5: Column 'trainig_scope' cannot be resolved");
    await expect(failure).rejects.toMatchObject({ queryExecutionId: 'qe-3', state: 'FAILED', retryable: false });
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('falls back to the state change reason and reports a cancelled query', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-4' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'CANCELLED', StateChangeReason: 'Query cancelled by user' } } });
    await expect(engine().engine.query({ name: 'q', template: 'SELECT 1' }, [])).rejects.toThrow('Athena query qe-4 CANCELLED: Query cancelled by user');
  });

  it('stops a query that runs past the timeout instead of leaving it scanning', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-5' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    athena.on(StopQueryExecutionCommand).resolves({});
    let clock = 0;
    const { engine: e } = engine({
      timeoutMs: 1000,
      pollInitialMs: 200,
      pollMaxMs: 400,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    await expect(e.query({ name: 'slow', template: 'SELECT 1' }, [])).rejects.toThrow('slow: Athena query qe-5 still RUNNING after 1000 ms; stopped');
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([{ QueryExecutionId: 'qe-5' }]);
    expect(clock).toBeLessThanOrEqual(1000);
  });

  it('binds a real query file in its order: gate discards by boundary and window', async () => {
    succeeded();
    athena.on(GetQueryResultsCommand).resolves(
      page(
        [
          ['gate', 'varchar'],
          ['discarded', 'bigint'],
        ],
        [
          ['region', '4'],
          ['consent', '2'],
        ],
        { header: true },
      ),
    );
    const counts = await queryDiscardsByGate(engine().engine, {
      boundary: 'EU',
      from: new Date('2026-10-21T12:00:00.000Z'),
      to: new Date('2026-11-20T12:00:00.000Z'),
    });
    expect(counts).toEqual({ consent: 2, region: 4 });
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(input.ExecutionParameters).toEqual(["'EU'", "'2026-10-21 12:00:00.000'", "'2026-11-20 12:00:00.000'"]);
    expect(input.QueryString).toContain('FROM "gate_audit"');
    expect(input.QueryString).toContain('discarded_at >= CAST(? AS TIMESTAMP)');
  });
});

describe('athenaLiteral', () => {
  it('renders strings as quoted literals, numbers and booleans as literals, and refuses non-finite numbers', () => {
    expect(athenaLiteral("O'Brien")).toBe("'O''Brien'");
    expect(athenaLiteral('back\\slash')).toBe("'back\\slash'");
    expect(athenaLiteral('')).toBe("''");
    expect(athenaLiteral(30)).toBe('30');
    expect(athenaLiteral(0.199999999)).toBe('0.199999999');
    expect(athenaLiteral(1e-7)).toBe('1E-7');
    expect(athenaLiteral(false)).toBe('false');
    expect(() => athenaLiteral(Number.NaN)).toThrow('only finite numbers');
  });
});

describe('AthenaSqlEngine.unload', () => {
  const PREFIX = 's3://sial-prod-eu-artifacts/runs/run-1/dataset/build-1/grpo/';
  const manifests: Record<string, string> = {
    's3://results/qe-1-manifest.csv': `${PREFIX}20261120_0002.gz\n${PREFIX}20261120_0001.gz\n`,
  };
  const readText = (uri: string): Promise<string | undefined> => Promise.resolve(manifests[uri]);

  it('sends UNLOAD ... TO the prefix with the format and returns the files from the data manifest, sorted', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataManifestLocation: 's3://results/qe-1-manifest.csv' } } });
    const result = await engine({ readText }).engine.unload(QUERY, ['rag-qa-agent', 0.8, true], PREFIX, 'json');
    expect(result.files).toEqual([`${PREFIX}20261120_0001.gz`, `${PREFIX}20261120_0002.gz`]);
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(input.QueryString).toMatch(/^UNLOAD \(\nSELECT trace_id, json_format\(/);
    expect(input.QueryString).toMatch(new RegExp(`\\) TO '${PREFIX}' WITH \\(format = 'JSON'\\)$`));
    expect(input.ExecutionParameters).toEqual(["'rag-qa-agent'", '0.8', 'true']);
  });

  it('unloads Parquet with Snappy named explicitly, the same SELECT and parameters as the other formats', async () => {
    const reports = 's3://sial-prod-eu-artifacts/reports/2026-12-04/costs.parquet/run=20261204T050000.123Z/';
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-3' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataManifestLocation: 's3://results/qe-3-manifest.csv' } } });
    const manifest = (): Promise<string | undefined> => Promise.resolve(`${reports}20261204_050001_00007_abcde_1\n`);
    const result = await engine({ readText: manifest }).engine.unload(QUERY, ['rag-qa-agent', 0.8, true], reports, 'parquet');
    expect(result.files).toEqual([`${reports}20261204_050001_00007_abcde_1`]);
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(input.QueryString).toBe(
      [
        'UNLOAD (',
        'SELECT trace_id, json_format(CAST(transform(x, m -> m.content) AS JSON)) AS j',
        `FROM "traces_v2"   WHERE agent_id = ? AND note = '?' AND reward >= ? AND consent = ?`,
        `) TO '${reports}' WITH (format = 'PARQUET', compression = 'SNAPPY')`,
      ].join('\n'),
    );
    expect(input.ExecutionParameters).toEqual(["'rag-qa-agent'", '0.8', 'true']);
  });

  it('refuses a prefix it would have to splice unsafely, and a file outside the prefix', async () => {
    await expect(engine({ readText }).engine.unload(QUERY, ['a', 1, true], "s3://bucket/x'; DROP/", 'json')).rejects.toThrow('must be an s3://bucket/key/ URI');
    await expect(engine({ readText }).engine.unload(QUERY, ['a', 1, true], 's3://bucket/no-slash', 'text')).rejects.toThrow('ending in /');
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-2' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataManifestLocation: 's3://results/qe-2-manifest.csv' } } });
    const elsewhere = (): Promise<string | undefined> => Promise.resolve('s3://other/place.gz\n');
    await expect(engine({ readText: elsewhere }).engine.unload(QUERY, ['a', 1, true], PREFIX, 'json')).rejects.toThrow('outside its prefix');
  });

  it('refuses a query text over Athena\'s limit before sending it', async () => {
    const huge: SqlQuery = { name: 'huge', template: `SELECT {{inline:x}} FROM {{traces}} WHERE a = ? AND b = ? AND c = ?`, inline: { x: 'g'.repeat(300_000) } };
    await expect(engine({ readText }).engine.unload(huge, ['a', 1, true], PREFIX, 'json')).rejects.toThrow("over Athena's 262144");
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });
});
