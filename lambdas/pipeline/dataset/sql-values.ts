/**
 * Value conversions both SQL adapters share, so that a row looks the same whichever engine produced it.
 */

/**
 * A UTC instant as the text `CAST(? AS TIMESTAMP)` accepts in Trino and DuckDB alike:
 * `YYYY-MM-DD HH:MM:SS.mmm`. (Trino's varchar-to-timestamp cast rejects ISO 8601's `T` and `Z`.)
 */
export function sqlTimestamp(instant: Date): string {
  if (Number.isNaN(instant.getTime())) throw new Error('cannot bind an invalid Date as a timestamp');
  return instant.toISOString().replace('T', ' ').replace('Z', '');
}

const SQL_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?: ?(?:UTC|Z|\+00(?::?00)?))?$/;

/**
 * A timestamp as an engine prints it (`2026-11-20 10:00:00.123456`, optionally ` UTC`) to ISO 8601 UTC
 * with milliseconds. Lake timestamps are UTC without a zone (Iceberg `timestamp`), so none is assumed.
 * @throws Error for any other shape, including another zone: silently shifting an instant is worse.
 */
export function sqlTimestampToIso(text: string, column: string): string {
  const match = SQL_TIMESTAMP.exec(text.trim());
  if (match === null) throw new Error(`column ${column}: "${text}" is not a UTC timestamp`);
  const millis = (match[3] ?? '').padEnd(3, '0').slice(0, 3);
  return `${match[1]}T${match[2]}.${millis}Z`;
}

/**
 * An integer as a JavaScript number. Engines return 64-bit counts; beyond 2^53 a number would silently
 * round, so that is an error rather than a wrong count.
 */
export function safeInteger(value: string | number | bigint, column: string): number {
  if (typeof value === 'string' && !/^-?\d+$/.test(value)) throw new Error(`column ${column}: "${value}" is not an integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || (typeof value !== 'number' && BigInt(value) !== BigInt(n))) {
    throw new Error(`column ${column}: ${String(value)} is not an integer within JavaScript's safe range`);
  }
  return n;
}

/** A floating-point value printed by an engine (`0.85`, `8.5E-1`, `NaN`, `Infinity`) as a number. */
export function floatValue(value: string | number, column: string): number {
  if (typeof value === 'number') return value;
  const n = Number(value);
  if (Number.isNaN(n) && value !== 'NaN') throw new Error(`column ${column}: "${value}" is not a number`);
  return n;
}
