/**
 * The query files and the code that turns them into one engine's text: placeholders, comments,
 * parameter counting, the loader's folder choice, and the shared trace selection staying identical.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSql, sqlDir, SQL_DIR_ENV, SQL_FILES } from '../../lambdas/pipeline/dataset/sql-files';
import { prepareSql, quoteIdentifier, renderSql, type SqlDialect } from '../../lambdas/pipeline/dataset/sql-template';
import { safeInteger, sqlTimestamp, sqlTimestampToIso } from '../../lambdas/pipeline/dataset/sql-values';
import { DUCKDB_DIALECT } from '../../local/pipeline/duckdb-sql-engine';

const SOURCE_DIR = join(__dirname, '..', '..', 'lambdas', 'pipeline', 'dataset', 'sql');
const TRINO: SqlDialect = { traces: '"traces"', gate_audit: '"gate_audit"', feedback: '"feedback"', transform: 'transform', json_format: 'json_format' };

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
  const selection = (text: string): string => {
    const match = /-- selection:begin[^\n]*\n([\s\S]*?)\n\s*-- selection:end/.exec(text);
    if (match === null) throw new Error('no selection block');
    return match[1]!;
  };

  it('share one trace selection, so the dataset and its eligibility figures read the same rows', () => {
    const completions = readFileSync(join(SOURCE_DIR, 'training-completions.sql'), 'utf8');
    const figures = readFileSync(join(SOURCE_DIR, 'eligibility-figures.sql'), 'utf8');
    expect(selection(figures)).toBe(selection(completions));
    expect(selection(completions)).toContain('training_scope IN (?, ?)');
  });

  it.each(SQL_FILES)('%s renders for both engines with the same parameters and no placeholder left', (name) => {
    const { template } = loadSql(name, {});
    const trino = renderSql(template, TRINO);
    const duck = renderSql(template, DUCKDB_DIALECT);
    expect(trino.parameterCount).toBe(duck.parameterCount);
    expect(trino.parameterCount).toBeGreaterThan(0);
    for (const text of [trino.text, duck.text]) {
      expect(text).not.toMatch(/\{\{|--|\/\*/);
    }
    // The texts differ only where a placeholder stood.
    const neutral = (t: string): string => t.replace(/\blist_transform\b/g, 'transform').replace(/\bjson\(/g, 'json_format(');
    expect(neutral(duck.text)).toBe(trino.text);
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
