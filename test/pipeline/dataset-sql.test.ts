/**
 * The query files and the code that turns them into one engine's text: placeholders, comments,
 * parameter counting, the loader's folder choice, and the shared trace selection staying identical.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSql, sqlDir, SQL_DIR_ENV, SQL_FILES, withInline, withTables } from '../../lambdas/pipeline/dataset/sql-files';
import { prepareSql, quoteIdentifier, renderSql, type SqlDialect } from '../../lambdas/pipeline/dataset/sql-template';
import { safeInteger, sqlTimestamp, sqlTimestampToIso } from '../../lambdas/pipeline/dataset/sql-values';
import { DUCKDB_DIALECT } from '../../local/pipeline/duckdb-sql-engine';

const SOURCE_DIR = join(__dirname, '..', '..', 'lambdas', 'pipeline', 'dataset', 'sql');
const TRINO: SqlDialect = {
  traces: '"traces"',
  gate_audit: '"gate_audit"',
  feedback: '"feedback"',
  judgments: '"judgments"',
  transform: 'transform',
  json_format: 'json_format',
  regexp_split: 'regexp_split',
  cardinality: 'cardinality',
  sequence: 'sequence',
  array_join: 'array_join',
  to_utf8: 'to_utf8',
  to_hex: 'to_hex',
  message_list_type: 'array(ROW(role VARCHAR, content VARCHAR))',
  percentile: 'approx_percentile',
  slice: 'slice',
};

describe('renderSql', () => {
  it('substitutes placeholders, drops comments and counts only real ? markers', () => {
    const rendered = renderSql(
      "-- why: a ? here is prose\nSELECT {{transform}}(a, x -> x) FROM {{traces}} /* ? */ WHERE b = ? AND c = 'is it?' AND \"odd?col\" = ?\n",
      TRINO,
    );
    expect(rendered.text).toBe('SELECT transform(a, x -> x) FROM "traces"   WHERE b = ? AND c = \'is it?\' AND "odd?col" = ?');
    expect(rendered.parameterCount).toBe(2);
  });

  it('keeps quotes doubled inside literals and never substitutes inside them', () => {
    const rendered = renderSql("SELECT 'it''s {{traces}} -- not a comment' AS t, ?", TRINO);
    expect(rendered.text).toBe("SELECT 'it''s {{traces}} -- not a comment' AS t, ?");
    expect(rendered.parameterCount).toBe(1);
  });

  it('refuses unknown placeholders and unterminated literals', () => {
    expect(() => renderSql('SELECT * FROM {{users}}', TRINO)).toThrow('unknown SQL placeholder "{{users}}"');
    expect(() => renderSql("SELECT 'open", TRINO)).toThrow('unterminated string literal');
    expect(() => renderSql('SELECT /* open', TRINO)).toThrow('unterminated block comment');
  });

  it('checks the number of values against the markers', () => {
    expect(() => prepareSql('SELECT ? , ?', TRINO, 1, 'two-params')).toThrow('two-params has 2 ? parameters but 1 values were given');
    expect(prepareSql('SELECT ?', TRINO, 1)).toBe('SELECT ?');
  });

  it('quotes identifiers and refuses anything but a plain name', () => {
    expect(quoteIdentifier('gate_audit')).toBe('"gate_audit"');
    expect(() => quoteIdentifier('traces"; DROP TABLE x; --')).toThrow('is not a plain SQL identifier');
  });
});

describe('the query files', () => {
  it('keep every rule in two shared places: the candidates (materialised once) and the selection over them', () => {
    const shared = readFileSync(join(SOURCE_DIR, 'selection.sql'), 'utf8');
    for (const name of ['members', 'dataset-summary', 'agent-eligibility'] as const) {
      expect(readFileSync(join(SOURCE_DIR, `${name}.sql`), 'utf8')).toContain('WITH {{selection}}');
      expect(loadSql(name, {}).template).toContain(shared);
    }
    // The files read only the materialised members: the lineage and the files come from the same rows.
    for (const name of ['dataset-grpo', 'dataset-dpo', 'dataset-trace-ids'] as const) {
      const text = readFileSync(join(SOURCE_DIR, `${name}.sql`), 'utf8');
      expect(text).toContain('FROM {{table:members}}');
      expect(text).not.toContain('{{traces}}');
    }
    // The router's rows apply the same selection; its files read only its materialised rows.
    expect(readFileSync(join(SOURCE_DIR, 'router-members.sql'), 'utf8')).toContain('WITH {{selection}}');
    for (const name of ['dataset-router', 'dataset-router-trace-ids'] as const) {
      const text = readFileSync(join(SOURCE_DIR, `${name}.sql`), 'utf8');
      expect(text).toContain('FROM {{table:router_members}}');
      expect(text).not.toContain('{{traces}}');
    }
    expect(readFileSync(join(SOURCE_DIR, 'candidates.sql'), 'utf8')).toContain('c.training_scope IN (p.scope_a, p.scope_b)');
  });

  it.each(SQL_FILES)('%s renders for both engines with the same parameters and no placeholder left', (name) => {
    const query = withTables(withInline(loadSql(name, {}), { golden_ngrams: "|it's a gram|" }), { candidates: 'sial_build_candidates', members: 'sial_build_members', router_members: 'sial_build_router_members' });
    const trino = renderSql(query.template, TRINO, query.inline, query.tables);
    const duck = renderSql(query.template, DUCKDB_DIALECT, query.inline, query.tables);
    expect(trino.parameterCount).toBe(duck.parameterCount);
    // The file queries read only the materialised members; everything else binds its rules.
    expect(trino.parameterCount > 0).toBe(!['dataset-grpo', 'dataset-dpo', 'dataset-trace-ids', 'dataset-router', 'dataset-router-trace-ids'].includes(name));
    for (const text of [trino.text, duck.text]) {
      expect(text).not.toMatch(/\{\{|--|\/\*/);
    }
    if (name === 'candidates') expect(trino.text).toContain("'|it''s a gram|'");
    // The texts differ only where a placeholder stood.
    const neutral = (t: string): string =>
      t
        .replace(/\blist_transform\b/g, 'transform')
        .replace(/\bjson\(/g, 'json_format(')
        .replace(/\bregexp_split_to_array\b/g, 'regexp_split')
        .replace(/\blen\(/g, 'cardinality(')
        .replace(/\bgenerate_series\b/g, 'sequence')
        .replace(/\barray_to_string\b/g, 'array_join')
        .replace(/\bencode\(/g, 'to_utf8(')
        .replace(/lower\(\(sha256/g, 'lower(to_hex(sha256')
        .replace(/STRUCT\(role VARCHAR, content VARCHAR\)\[\]/g, 'array(ROW(role VARCHAR, content VARCHAR))')
        .replace(/\bsial_slice\(/g, 'slice(')
        .replace(/\bquantile_cont\(/g, 'approx_percentile(');
    expect(neutral(duck.text)).toBe(trino.text);
  });

  it('refuses an inline or table placeholder without a value', () => {
    expect(() => renderSql('SELECT {{inline:golden_ngrams}}', TRINO)).toThrow('no value for SQL placeholder "{{inline:golden_ngrams}}"');
    expect(() => renderSql('SELECT * FROM {{table:members}}', TRINO)).toThrow('materialise it first');
    expect(() => renderSql('SELECT * FROM {{table:members}}', TRINO, {}, { members: 'x"; DROP' })).toThrow('is not a plain SQL identifier');
  });
});

describe('loadSql', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sial-sql-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the folder next to the module unless SIAL_SQL_DIR names another (the Lambda bundle)', () => {
    expect(sqlDir({})).toBe(SOURCE_DIR);
    writeFileSync(join(dir, 'gate-discards.sql'), 'SELECT ? AS bundled');
    expect(sqlDir({ [SQL_DIR_ENV]: dir })).toBe(dir);
    expect(loadSql('gate-discards', { [SQL_DIR_ENV]: dir })).toEqual({ name: 'gate-discards', template: 'SELECT ? AS bundled' });
    expect(loadSql('gate-discards', {}).template).toContain('FROM {{gate_audit}}');
  });

  it('refuses names outside its fixed list', () => {
    expect(() => loadSql('../../etc/passwd' as never, {})).toThrow('unknown query file');
  });
});

describe('SQL value conversions', () => {
  it('binds instants in the one text form both engines cast to TIMESTAMP, and reads timestamps back as ISO UTC', () => {
    expect(sqlTimestamp(new Date('2026-11-20T12:00:00.000Z'))).toBe('2026-11-20 12:00:00.000');
    expect(sqlTimestampToIso('2026-11-20 12:00:00.123456', 'ts')).toBe('2026-11-20T12:00:00.123Z');
    expect(sqlTimestampToIso('2026-11-20 12:00:00.000 UTC', 'ts')).toBe('2026-11-20T12:00:00.000Z');
    expect(() => sqlTimestampToIso('2026-11-20 12:00:00 Europe/Berlin', 'ts')).toThrow('is not a UTC timestamp');
  });

  it('keeps integers exact or fails', () => {
    expect(safeInteger('42', 'n')).toBe(42);
    expect(() => safeInteger('9007199254740993', 'n')).toThrow('safe range');
    expect(() => safeInteger('4.2', 'n')).toThrow('is not an integer');
  });
});
