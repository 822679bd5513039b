/**
 * Loads the dataset build's query files. In a Lambda bundle the construct copies sql/ next to the
 * bundle and sets SIAL_SQL_DIR; from source (tests, local mode) the folder next to this module is read.
 * Bundled ESM has no `__dirname`, hence the guard: there SIAL_SQL_DIR is required.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlQuery } from './sql-engine';

/** The environment variable naming the folder that holds the query files. */
export const SQL_DIR_ENV = 'SIAL_SQL_DIR';

/** Every query file; a fixed list, so a name can never walk out of the folder. */
export const SQL_FILES = [
  'candidates',
  'members',
  'dataset-grpo',
  'dataset-dpo',
  'dataset-trace-ids',
  // The router classifier's training set (router targets).
  'router-members',
  'dataset-router',
  'dataset-router-trace-ids',
  'dataset-summary',
  'agent-eligibility',
  'gate-discards',
  // The judge's daily curation (lambdas/judge/curation).
  'curation-candidates',
  'judge-usage',
  'judged-variant-metrics',
  // The daily operating reports (lambdas/operations).
  'agent-window-metrics',
  'agent-affected-traces',
  'agent-serving-mix',
  'agent-costs',
  'agent-model-outcomes',
] as const;

/**
 * Shared query text a file includes with `{{NAME}}` (before the dialect's placeholders are rendered), so a
 * rule shared by several queries exists once: `{{selection}}` is sql/selection.sql.
 */
export const SQL_INCLUDES = ['selection', 'operating-rows'] as const;
export type SqlFileName = (typeof SQL_FILES)[number];

/** The folder the query files are read from. */
export function sqlDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[SQL_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (typeof __dirname === 'undefined') {
    throw new Error(`${SQL_DIR_ENV} is not set and this bundle has no __dirname: the construct copies sql/ into the bundle and sets ${SQL_DIR_ENV}`);
  }
  return join(__dirname, 'sql');
}

// Files are read once per execution environment; they never change under a running function.
const cache = new Map<string, SqlQuery>();

/** Reads `sql/<name>.sql`. */
export function loadSql(name: SqlFileName, env: NodeJS.ProcessEnv = process.env): SqlQuery {
  if (!(SQL_FILES as readonly string[]).includes(name)) throw new Error(`unknown query file "${name}"; known: ${SQL_FILES.join(', ')}`);
  const path = join(sqlDir(env), `${name}.sql`);
  let query = cache.get(path);
  if (query === undefined) {
    let template = readFileSync(path, 'utf8');
    for (const include of SQL_INCLUDES) {
      if (template.includes(`{{${include}}}`)) template = template.replaceAll(`{{${include}}}`, readFileSync(join(sqlDir(env), `${include}.sql`), 'utf8'));
    }
    query = { name, template };
    cache.set(path, query);
  }
  return query;
}

/** The query with the tables of its `{{table:NAME}}` placeholders (see sql-template.ts). */
export function withTables(query: SqlQuery, tables: Readonly<Record<string, string>>): SqlQuery {
  return { ...query, tables: { ...query.tables, ...tables } };
}

/** The query with values for its `{{inline:NAME}}` placeholders (see sql-template.ts). */
export function withInline(query: SqlQuery, inline: Readonly<Record<string, string>>): SqlQuery {
  return { ...query, inline: { ...query.inline, ...inline } };
}
