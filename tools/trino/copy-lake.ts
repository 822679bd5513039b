/**
 * Copies the local lake's tables (DuckDB over Parquet) into Trino memory tables with the lake's Iceberg
 * schema in Trino's types, so the same rows can be queried by both engines.
 */
import { LAKE_TABLES, type IcebergType, type LakeTableDefinition } from '../../lambdas/shared/lake-tables';
import type { LocalLake } from '../../local/local-lake';
import type { TrinoClient } from './trino-client';

const ROWS_PER_INSERT = 200;

/** The Trino type of an Iceberg type, as Athena shows a lake column. */
export function trinoType(type: IcebergType): string {
  if (typeof type === 'string') {
    return { string: 'varchar', boolean: 'boolean', int: 'integer', long: 'bigint', double: 'double', timestamp: 'timestamp(6)' }[type];
  }
  if (type.type === 'list') return `array(${trinoType(type.element)})`;
  return `row(${type.fields.map((f) => `"${f.name}" ${trinoType(f.type)}`).join(', ')})`;
}

function text(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A Trino literal of `value` (as DuckDB's JSON reader gives it) of the given type. */
export function trinoLiteral(value: unknown, type: IcebergType): string {
  if (value === null || value === undefined) return `CAST(NULL AS ${trinoType(type)})`;
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        return text(String(value));
      case 'boolean':
        return value === true || value === 'true' ? 'true' : 'false';
      case 'int':
      case 'long':
        return `CAST(${text(String(value))} AS ${trinoType(type)})`;
      case 'double':
        return `CAST(${text(String(value))} AS double)`;
      case 'timestamp':
        return `CAST(${text(String(value))} AS timestamp(6))`;
    }
  }
  if (type.type === 'list') {
    if (!Array.isArray(value)) throw new Error(`expected a list, found ${JSON.stringify(value)}`);
    return `CAST(ARRAY[${value.map((v) => trinoLiteral(v, type.element)).join(', ')}] AS ${trinoType(type)})`;
  }
  const record = value as Record<string, unknown>;
  return `CAST(ROW(${type.fields.map((f) => trinoLiteral(record[f.name], f.type)).join(', ')}) AS ${trinoType(type)})`;
}

async function copyTable(lake: LocalLake, trino: TrinoClient, table: LakeTableDefinition): Promise<number> {
  await trino.execute(`DROP TABLE IF EXISTS "${table.name}"`);
  await trino.execute(`CREATE TABLE "${table.name}" (${table.fields.map((f) => `"${f.name}" ${trinoType(f.type)}`).join(', ')})`);
  const rows = await lake.query(`SELECT ${table.fields.map((f) => `"${f.name}"`).join(', ')} FROM ${table.name}`);
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const values = rows.slice(i, i + ROWS_PER_INSERT).map((row) => `(${table.fields.map((f) => trinoLiteral(row[f.name], f.type)).join(', ')})`);
    await trino.execute(`INSERT INTO "${table.name}" VALUES ${values.join(',\n')}`);
  }
  return rows.length;
}

/** Copies every lake table; returns the row count per table. */
export async function copyLakeToTrino(lake: LocalLake, trino: TrinoClient): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of LAKE_TABLES) counts[table.name] = await copyTable(lake, trino, table);
  return counts;
}
