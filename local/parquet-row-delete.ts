/**
 * Deleting rows from a local lake table: each Parquet file holding a matching row is rewritten without
 * it (or removed when nothing is left) and renamed over the original, so the deleted bytes are gone from
 * the directory; the local lake keeps no snapshots or older versions. Shared by erasure (`sial erase
 * --local`) and row expiry (`sial lake expire --local`).
 */
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalLake } from './local-lake';

/** Suffix of a file being rewritten; one left over means a rewrite was interrupted. */
export const REWRITE_SUFFIX = '.rewrite.tmp';

export const quoteSqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`;

export function parquetFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries.filter((e) => e.isFile() && e.name.endsWith('.parquet')).map((e) => join(e.parentPath, e.name)).sort();
}

/** Rows of `relation` where `predicate` holds (null counts as false). */
export async function countMatching(lake: LocalLake, relation: string, predicate: string): Promise<number> {
  const rows = await lake.query(`SELECT count(*) AS n FROM ${relation} WHERE coalesce(${predicate}, false)`);
  return Number(rows[0]?.n ?? 0);
}

/** Rows deleted and files rewritten or removed. */
export interface RowDeletion {
  readonly rows: number;
  readonly files: number;
}

/**
 * Deletes the rows matching the predicate from every Parquet file under `dir`. `predicateOf` gives the
 * predicate for one file's relation (a file written before a column was added may lack it). With
 * `dryRun` only counts.
 */
export async function deleteParquetRows(lake: LocalLake, dir: string, predicateOf: (relation: string) => Promise<string>, options: { readonly dryRun?: boolean } = {}): Promise<RowDeletion> {
  let rows = 0;
  let files = 0;
  for (const file of parquetFiles(dir)) {
    const relation = `read_parquet(${quoteSqlString(file)})`;
    const predicate = await predicateOf(relation);
    const matching = await countMatching(lake, relation, predicate);
    if (matching === 0) continue;
    rows += matching;
    files += 1;
    if (options.dryRun === true) continue;
    const kept = await countMatching(lake, relation, `NOT coalesce(${predicate}, false)`);
    if (kept === 0) rmSync(file);
    else {
      const rewritten = `${file}${REWRITE_SUFFIX}`;
      await lake.run(`COPY (SELECT * FROM ${relation} WHERE NOT coalesce(${predicate}, false)) TO ${quoteSqlString(rewritten)} (FORMAT parquet)`);
      renameSync(rewritten, file);
    }
  }
  return { rows, files };
}
