/**
 * Answers the Athena API calls AthenaSqlEngine makes (StartQueryExecution, GetQueryExecution,
 * GetQueryResults, StopQueryExecution) by running the statement on a local Trino server, so the shipped
 * Athena engine, with its Trino spelling of the queries, its ExecutionParameters and its CTAS and UNLOAD
 * statements, runs unchanged against a real Trino. What only Athena has is translated, and says so:
 * - ExecutionParameters become `EXECUTE IMMEDIATE '...' USING ...` (the same positional `?` binding);
 * - CTAS's `WITH (format, external_location)` is dropped (the memory connector keeps rows in memory);
 * - UNLOAD runs its SELECT and writes the rows as JSON lines (rows as objects with their field names, as
 *   Athena's JSON UNLOAD writes them) or text lines into the object store, plus a data manifest.
 * So this proves the queries' meaning on Trino, not UNLOAD's own serialisation.
 */
import type { ObjectStore } from '../../lambdas/pipeline/ports';
import type { TrinoClient, TrinoColumn, TrinoTypeSignature } from './trino-client';

interface Execution {
  readonly state: 'SUCCEEDED' | 'FAILED';
  readonly error?: string;
  readonly columns?: readonly TrinoColumn[];
  readonly rows?: ReadonlyArray<readonly unknown[]>;
  readonly manifestUri?: string;
}

const UNLOAD = /^UNLOAD \(\n([\s\S]*)\n\) TO '([^']+)' WITH \(format = '(JSON|TEXTFILE)'\)$/;
const CTAS = /^CREATE TABLE ("[a-z0-9_]+") WITH \(format = 'PARQUET', external_location = '[^']+'\) AS\n([\s\S]*)$/;

/** A Trino value turned into what a JSON UNLOAD writes: rows become objects with their field names. */
export function jsonValue(value: unknown, type: TrinoTypeSignature): unknown {
  if (value === null || value === undefined) return null;
  if (type.rawType === 'row' && Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    type.arguments.forEach((argument, i) => {
      if (argument.kind !== 'NAMED_TYPE') throw new Error('a row field without a name cannot be written as JSON');
      out[argument.value.fieldName?.name ?? `field${i}`] = jsonValue(value[i], argument.value.typeSignature);
    });
    return out;
  }
  if (type.rawType === 'array' && Array.isArray(value)) {
    const element = type.arguments[0];
    if (element?.kind !== 'TYPE') throw new Error('an array type without its element type');
    return value.map((v) => jsonValue(v, element.value));
  }
  return value;
}

/** Athena's name for a Trino column type in GetQueryResults' ColumnInfo (no precision or length). */
function athenaTypeName(type: string): string {
  if (/^(array|row|map)\(/.test(type)) return type;
  return type.replace(/\(.*\)$/, '');
}

/** The text Athena returns for a value: every cell is a string. */
function athenaText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The subset of AthenaClient that AthenaSqlEngine calls, backed by Trino. */
export class TrinoBackedAthena {
  private readonly executions = new Map<string, Execution>();
  private next = 0;

  constructor(
    private readonly trino: TrinoClient,
    private readonly store: ObjectStore,
    /** Where UNLOAD data manifests are written (the workgroup's result location). */
    private readonly resultsPrefix: string,
  ) {}

  async send(command: { readonly constructor: { readonly name: string }; readonly input: Record<string, unknown> }): Promise<unknown> {
    const input = command.input;
    switch (command.constructor.name) {
      case 'StartQueryExecutionCommand':
        return { QueryExecutionId: await this.start(String(input.QueryString), (input.ExecutionParameters as string[] | undefined) ?? []) };
      case 'GetQueryExecutionCommand':
        return this.describe(String(input.QueryExecutionId));
      case 'GetQueryResultsCommand':
        return this.results(String(input.QueryExecutionId));
      case 'StopQueryExecutionCommand':
        return {};
      default:
        throw new Error(`TrinoBackedAthena does not answer ${command.constructor.name}`);
    }
  }

  private async start(text: string, params: readonly string[]): Promise<string> {
    const id = `trino-${++this.next}`;
    const bound = (sql: string): string => (params.length === 0 ? sql : `EXECUTE IMMEDIATE '${sql.replaceAll("'", "''")}' USING ${params.join(', ')}`);
    try {
      const unload = UNLOAD.exec(text);
      const ctas = CTAS.exec(text);
      if (unload !== null) {
        const [, select, prefix, format] = unload as unknown as [string, string, string, 'JSON' | 'TEXTFILE'];
        const { columns, rows } = await this.trino.execute(bound(select));
        const lines = rows.map((row) =>
          format === 'JSON'
            ? JSON.stringify(Object.fromEntries(columns.map((c, i) => [c.name, jsonValue(row[i], c.typeSignature)])))
            : String(athenaText(row[0]) ?? ''),
        );
        const file = `${prefix}part-00000.${format === 'JSON' ? 'jsonl' : 'txt'}`;
        await this.store.putText(file, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
        const manifestUri = `${this.resultsPrefix}${id}-manifest.csv`;
        await this.store.putText(manifestUri, `${file}\n`);
        this.executions.set(id, { state: 'SUCCEEDED', manifestUri });
      } else if (ctas !== null) {
        const [, table, select] = ctas as unknown as [string, string, string];
        await this.trino.execute(bound(`CREATE TABLE ${table} AS\n${select}`));
        this.executions.set(id, { state: 'SUCCEEDED' });
      } else {
        const { columns, rows } = await this.trino.execute(bound(text));
        this.executions.set(id, { state: 'SUCCEEDED', columns, rows });
      }
    } catch (error) {
      this.executions.set(id, { state: 'FAILED', error: error instanceof Error ? error.message : String(error) });
    }
    return id;
  }

  private describe(id: string): unknown {
    const execution = this.executions.get(id);
    if (execution === undefined) throw new Error(`no query ${id}`);
    return {
      QueryExecution: {
        QueryExecutionId: id,
        Status: { State: execution.state, ...(execution.error === undefined ? {} : { AthenaError: { ErrorMessage: execution.error, Retryable: false } }) },
        Statistics: { DataScannedInBytes: 0, EngineExecutionTimeInMillis: 0, ...(execution.manifestUri === undefined ? {} : { DataManifestLocation: execution.manifestUri }) },
      },
    };
  }

  /** Every row in one page, the header row first, as Athena pages a SELECT. */
  private results(id: string): unknown {
    const execution = this.executions.get(id);
    if (execution?.columns === undefined || execution.rows === undefined) throw new Error(`query ${id} returned no rows to read`);
    const { columns, rows } = execution;
    return {
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: columns.map((c) => ({ Name: c.name, Type: athenaTypeName(c.type) })) },
        Rows: [{ Data: columns.map((c) => ({ VarCharValue: c.name })) }, ...rows.map((row) => ({ Data: row.map((v) => ({ VarCharValue: athenaText(v) })) }))],
      },
    };
  }
}
