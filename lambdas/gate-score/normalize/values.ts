/**
 * Defensive readers for untrusted, already-parsed JSON. Every lookup is an own-property lookup, so a
 * record's `__proto__` / `constructor` keys are read as plain data and never reach Object.prototype;
 * every recursion is depth-bounded, so deep nesting fails with a reason instead of a stack overflow.
 */
import { canonicalUtcMs, isIsoDateTimeWithOffset } from '../iso-instant';
import { parseStrictJson, type DuplicateMember } from '../strict-json';
import { NormalizeFailure, renderPath } from './errors';
import { isKnownKey } from './vocabulary';

export { canonicalUtcMs } from '../iso-instant';

/** Deepest nesting the normalisers walk into (message parts, attribute values, tool arguments). */
export const MAX_NESTING = 64;

export type JsonObject = Readonly<Record<string, unknown>>;

/** True for a non-null, non-array object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own-property read: never walks the prototype chain (`constructor`, `__proto__`, `toString`). */
export function own(object: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/** True when the object has the key as its own property. */
export function hasOwn(object: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** Reads an optional string; null counts as absent (APIs such as Langfuse's return nulls for unset fields). */
export function optionalString(object: JsonObject, key: string, path: string): string | undefined {
  const value = own(object, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new NormalizeFailure('invalid_field', `${path}: expected a string`);
  return value;
}

/** Reads an optional finite number; null counts as absent. */
export function optionalNumber(object: JsonObject, key: string, path: string): number | undefined {
  const value = own(object, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new NormalizeFailure('invalid_field', `${path}: expected a finite number`);
  return value;
}

/** Reads an optional array; null counts as absent. */
export function optionalArray(object: JsonObject, key: string, path: string, maxItems: number): readonly unknown[] | undefined {
  const value = own(object, key);
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new NormalizeFailure('invalid_field', `${path}: expected an array`);
  if (value.length > maxItems) throw new NormalizeFailure('invalid_field', `${path}: expected at most ${maxItems} items`);
  return value;
}

/** True when the value nests deeper than `max` arrays/objects; iterative, so it cannot overflow the stack. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === undefined) break;
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= max) return true;
    const children = Array.isArray(item.value) ? item.value : Object.values(item.value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: item.depth + 1 });
    }
  }
  return false;
}

/**
 * Renders structured data (tool arguments, tool results) as text for the Trace, which stores them as
 * strings. Strings pass through unchanged; null/undefined stay absent.
 */
export function stringifyValue(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (nestsDeeperThan(value, MAX_NESTING)) throw new NormalizeFailure('invalid_field', `${path}: nests deeper than ${MAX_NESTING} levels`);
  return JSON.stringify(value);
}

/**
 * Parses a string that should hold JSON (OTel attributes recorded as JSON strings, Langfuse fields
 * ingested through its OTel endpoint). Returns undefined when it is not JSON, or nests deeper than
 * MAX_NESTING, so callers decide whether plain text is acceptable there. JSON that repeats a member
 * name is refused outright (`duplicate_key`), exactly as in the record itself: read as text, its
 * repeated `consent` would still be one value short of what the producer sent.
 */
export function parseJsonText(text: string, path: string): unknown {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return undefined;
  const parsed = parseStrictJson(trimmed, MAX_NESTING);
  if (parsed.ok) return parsed.value;
  if (parsed.problem === 'duplicate_member') throw new NormalizeFailure('duplicate_key', `${path}: ${describeDuplicate(parsed.duplicate, 'its JSON text')}`);
  return undefined;
}

/** "the JSON text gives consent twice in metadata": the name only when it is ours, the path with `?` for the others. */
export function describeDuplicate(duplicate: DuplicateMember, what: string): string {
  const name = isKnownKey(duplicate.name) ? `the member name ${duplicate.name}` : 'a member name';
  const where = duplicate.path.length === 0 ? '' : ` in ${renderPath(duplicate.path)}`;
  return `${what} gives ${name} twice${where}; a JSON object must not repeat a member name`;
}

/**
 * Normalises an ISO-8601 instant to UTC with milliseconds (`2026-04-19T01:00:00.000Z`). An explicit
 * offset (or `Z`) is required: a bare local time would be read in the Lambda's zone, silently shifting
 * the day partition.
 */
export function isoInstant(value: unknown, path: string): string {
  if (value === undefined || value === null) throw new NormalizeFailure('missing_field', `${path}: required (an ISO-8601 date-time)`);
  // Most producers already send the normalised form; it is checked without parsing a date.
  if (typeof value === 'string' && canonicalUtcMs(value) !== undefined) return value;
  if (typeof value !== 'string' || !isIsoDateTimeWithOffset(value)) {
    throw new NormalizeFailure('invalid_field', `${path}: expected an ISO-8601 date-time with an explicit offset, e.g. 2026-04-19T10:00:00.000Z`);
  }
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new NormalizeFailure('invalid_field', `${path}: not a real calendar instant`);
  return new Date(ms).toISOString();
}

/** Like isoInstant, but absent (undefined/null) stays undefined. Returns epoch milliseconds. */
export function optionalInstantMs(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  return Date.parse(isoInstant(value, path));
}

/** Rounds to microsecond precision so that seconds * 1000 does not produce 1234.0000000002. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** `{key: value}` when the value is present, `{}` otherwise: optional Trace fields are omitted, not set to undefined. */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
