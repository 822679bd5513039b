/**
 * A minimal client of Trino's HTTP statement protocol (POST /v1/statement, then follow `nextUri`), enough
 * to run the dataset SQL on a local Trino server: the engine Athena's SQL is built on.
 */

/** A column as the statement protocol describes it. */
export interface TrinoColumn {
  readonly name: string;
  /** The type as Trino writes it, e.g. `varchar`, `timestamp(6)`, `array(row(role varchar, ...))`. */
  readonly type: string;
  readonly typeSignature: TrinoTypeSignature;
}

export interface TrinoTypeSignature {
  readonly rawType: string;
  readonly arguments: ReadonlyArray<
    | { readonly kind: 'TYPE'; readonly value: TrinoTypeSignature }
    | { readonly kind: 'NAMED_TYPE'; readonly value: { readonly fieldName?: { readonly name: string }; readonly typeSignature: TrinoTypeSignature } }
    | { readonly kind: 'LONG'; readonly value: number }
  >;
}

export interface TrinoResult {
  readonly columns: readonly TrinoColumn[];
  readonly rows: ReadonlyArray<readonly unknown[]>;
}

interface StatementResponse {
  readonly nextUri?: string;
  readonly columns?: TrinoColumn[];
  readonly data?: unknown[][];
  readonly error?: { readonly message: string; readonly errorName?: string };
}

/** Runs statements on one Trino server, in one catalog and schema. */
export class TrinoClient {
  constructor(
    private readonly serverUri: string,
    private readonly catalog: string,
    private readonly schema: string,
  ) {}

  /** Runs one statement to its end and returns every row. @throws Error with Trino's message on failure. */
  async execute(statement: string): Promise<TrinoResult> {
    const headers = { 'X-Trino-User': 'sial-check', 'X-Trino-Catalog': this.catalog, 'X-Trino-Schema': this.schema };
    let response = await this.read(await fetch(`${this.serverUri}/v1/statement`, { method: 'POST', headers, body: statement }));
    let columns: TrinoColumn[] | undefined;
    const rows: unknown[][] = [];
    for (;;) {
      if (response.error !== undefined) throw new Error(`Trino: ${response.error.errorName ?? 'error'}: ${response.error.message}`);
      columns ??= response.columns;
      if (response.data !== undefined) rows.push(...response.data);
      if (response.nextUri === undefined) break;
      response = await this.read(await fetch(response.nextUri, { headers }));
    }
    return { columns: columns ?? [], rows };
  }

  private async read(response: Response): Promise<StatementResponse> {
    const text = await response.text();
    if (!response.ok) throw new Error(`Trino answered HTTP ${response.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as StatementResponse;
  }
}
