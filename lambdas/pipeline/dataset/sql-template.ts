/**
 * Turns a query file (sql/*.sql) into the text one engine runs. The files are written once for both
 * Athena (Trino) and DuckDB; where the dialects differ the file names the difference with a placeholder,
 * and each adapter supplies its dialect (a value for every placeholder):
 *
 * | placeholder       | Athena (Trino)          | DuckDB (local lake)   | why                                            |
 * |-------------------|-------------------------|-----------------------|------------------------------------------------|
 * | `{{traces}}`      | `"<settings.lake.tracesTable>"` | `"traces"`    | table names come from the stage settings       |
 * | `{{gate_audit}}`  | `"<auditTable>"`        | `"gate_audit"`        | (Glue) or the local lake's views               |
 * | `{{feedback}}`    | `"<feedbackTable>"`     | `"feedback"`          |                                                |
 * | `{{judgments}}`   | `"<judgmentsTable>"`    | `"judgments"`         |                                                |
 * | `{{transform}}`   | `transform`             | `list_transform`      | DuckDB has no `transform`                      |
 * | `{{json_format}}` | `json_format`           | `json`                | DuckDB has no `json_format`; `json` minifies   |
 * | `{{regexp_split}}`| `regexp_split`          | `regexp_split_to_array` | split text on a pattern into an array        |
 * | `{{cardinality}}` | `cardinality`           | `len`                 | DuckDB's `cardinality` is for maps only        |
 * | `{{sequence}}`    | `sequence`              | `generate_series`     | integer list from a to b (callers keep a <= b) |
 * | `{{array_join}}`  | `array_join`            | `array_to_string`     | join an array of strings                       |
 * | `{{to_utf8}}`     | `to_utf8`               | `encode`              | text to bytes for sha256                       |
 * | `{{to_hex}}`      | `to_hex`                | (nothing)             | Trino's sha256 gives bytes, DuckDB's hex text: `lower({{to_hex}}(sha256(...)))` is hex in both |
 * | `{{message_list_type}}` | `array(ROW(role VARCHAR, content VARCHAR))` | `STRUCT(role VARCHAR, content VARCHAR)[]` | the two spell array types differently |
 *
 * `{{percentile}}(x, p)` is Trino's `approx_percentile` and DuckDB's `quantile_cont` (its `approx_quantile`
 * takes no bound parameter for p): the latency percentile of the operating reports.
 *
 * `{{table:NAME}}` is a table the build materialised earlier (`SqlEngine.materialize`), a quoted identifier.
 * `{{slice}}` is Trino's `slice(array, start, length)`; DuckDB gets a macro of that meaning
 * (`list_slice` takes an end, not a length).
 *
 * `{{inline:NAME}}` is a value the caller supplies for one query (sql-files `withInline`), rendered as a
 * quoted string literal with its quotes doubled, exactly as Athena's parameters are: used where a value
 * is longer than a bound parameter may be on Athena (the golden set's n-grams).
 *
 * Comments are removed (a `?` in a comment must never count as a parameter, whatever the engine's
 * parser does), and the `?` markers outside literals and quoted identifiers are counted so that a call
 * with the wrong number of parameters fails here, naming the query, not deep inside the engine.
 */

/** Every placeholder a query file may use. */
export const SQL_PLACEHOLDERS = [
  'traces',
  'gate_audit',
  'feedback',
  'judgments',
  'transform',
  'json_format',
  'regexp_split',
  'cardinality',
  'sequence',
  'array_join',
  'to_utf8',
  'to_hex',
  'message_list_type',
  'slice',
  'percentile',
] as const;
export type SqlPlaceholder = (typeof SQL_PLACEHOLDERS)[number];

/** One engine's text for every placeholder. */
export type SqlDialect = Readonly<Record<SqlPlaceholder, string>>;

/** The lake's table names in one engine (Glue table names, or the local lake's view names). */
export interface LakeTableNames {
  readonly traces: string;
  readonly gate_audit: string;
  readonly feedback: string;
  readonly judgments: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A double-quoted identifier (both dialects). Names come from configuration, not users, but are still
 * checked: an identifier cannot be a bound parameter, so this is the one place text is put into SQL.
 */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`"${name}" is not a plain SQL identifier (letters, digits, underscores)`);
  return `"${name}"`;
}

/** A string literal in both dialects: single quotes, inner quotes doubled (the only escape either has). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The table placeholders of a dialect, quoted. */
export function tablePlaceholders(tables: LakeTableNames): Pick<SqlDialect, keyof LakeTableNames> {
  return { traces: quoteIdentifier(tables.traces), gate_audit: quoteIdentifier(tables.gate_audit), feedback: quoteIdentifier(tables.feedback), judgments: quoteIdentifier(tables.judgments) };
}

/** Query text ready for one engine. */
export interface RenderedSql {
  readonly text: string;
  /** `?` markers outside literals, identifiers and comments. */
  readonly parameterCount: number;
}

function isPlaceholder(name: string): name is SqlPlaceholder {
  return (SQL_PLACEHOLDERS as readonly string[]).includes(name);
}

/** Index just past the quoted run starting at `start` (a `quote` doubled inside is an escaped quote). */
function endOfQuoted(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else i += 1;
  }
  throw new Error(`unterminated ${quote === "'" ? 'string literal' : 'quoted identifier'} starting at offset ${start}`);
}

/**
 * Substitutes the placeholders, removes comments and counts the parameters.
 * @throws Error on an unknown placeholder, an unterminated literal or comment.
 */
export function renderSql(
  template: string,
  dialect: SqlDialect,
  inline: Readonly<Record<string, string>> = {},
  tables: Readonly<Record<string, string>> = {},
): RenderedSql {
  let out = '';
  let parameterCount = 0;
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    const next = template[i + 1];
    if (c === "'" || c === '"') {
      const end = endOfQuoted(template, i, c);
      out += template.slice(i, end);
      i = end;
    } else if (c === '-' && next === '-') {
      const newline = template.indexOf('\n', i);
      i = newline === -1 ? template.length : newline;
    } else if (c === '/' && next === '*') {
      const close = template.indexOf('*/', i + 2);
      if (close === -1) throw new Error(`unterminated block comment starting at offset ${i}`);
      out += ' ';
      i = close + 2;
    } else if (c === '{' && next === '{') {
      const close = template.indexOf('}}', i + 2);
      const name = close === -1 ? '' : template.slice(i + 2, close);
      if (name.startsWith('table:')) {
        const table = tables[name.slice('table:'.length)];
        if (table === undefined) throw new Error(`no table for SQL placeholder "{{${name}}}" at offset ${i}: materialise it first`);
        out += quoteIdentifier(table);
        i = close + 2;
        continue;
      }
      if (name.startsWith('inline:')) {
        const value = inline[name.slice('inline:'.length)];
        if (value === undefined) throw new Error(`no value for SQL placeholder "{{${name}}}" at offset ${i}`);
        out += quoteLiteral(value);
        i = close + 2;
        continue;
      }
      if (!isPlaceholder(name)) {
        throw new Error(`unknown SQL placeholder "{{${name}}}" at offset ${i}; known: ${SQL_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`);
      }
      out += dialect[name];
      i = close + 2;
    } else {
      if (c === '?') parameterCount += 1;
      out += c;
      i += 1;
    }
  }
  // Blank lines left by removed comments carry nothing; dropping them keeps the engines' query logs readable.
  const text = out
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .join('\n');
  return { text, parameterCount };
}

/**
 * Renders `template` for a dialect and checks that `parameterCount` values will bind it.
 * @throws Error naming `queryName` when the counts differ.
 */
export function prepareSql(
  template: string,
  dialect: SqlDialect,
  parameterCount: number,
  queryName = 'query',
  inline: Readonly<Record<string, string>> = {},
  tables: Readonly<Record<string, string>> = {},
): string {
  const rendered = renderSql(template, dialect, inline, tables);
  if (rendered.parameterCount !== parameterCount) {
    throw new Error(`${queryName} has ${rendered.parameterCount} ? parameters but ${parameterCount} values were given`);
  }
  return rendered.text;
}
