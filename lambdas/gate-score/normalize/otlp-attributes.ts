/**
 * OTLP/JSON attribute decoding. In OTLP/JSON an attribute is `{key, value: AnyValue}` where AnyValue is
 * a protobuf oneof: `stringValue`, `boolValue`, `intValue` (a 64-bit integer, which the protobuf JSON
 * mapping writes as a *string*), `doubleValue` (a number, or "NaN"/"Infinity" strings), `bytesValue`
 * (base64), `arrayValue: {values: AnyValue[]}` or `kvlistValue: {values: [{key, value}]}`.
 *
 * Decoded maps are `Map`s and decoded kvlists are null-prototype objects, so an attribute or kvlist key
 * named `__proto__` or `constructor` is stored as data and can never reach Object.prototype.
 */
import { NormalizeFailure } from './errors';
import { isKnownKey } from './vocabulary';
import { isObject, own, type JsonObject } from './values';

/** A decoded attribute value. */
export type AttributeValue = string | number | boolean | null | readonly AttributeValue[] | { readonly [key: string]: AttributeValue };

/** Deepest AnyValue nesting decoded (arrays of kvlists of arrays ...). */
export const MAX_ANY_VALUE_DEPTH = 32;
/** Most entries read from one attribute list, array or kvlist. */
export const MAX_ATTRIBUTE_ENTRIES = 10_000;

const ONEOF_KEYS = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'bytesValue', 'arrayValue', 'kvlistValue'] as const;
type OneofKey = (typeof ONEOF_KEYS)[number];
const ONEOF_SET: ReadonlySet<string> = new Set(ONEOF_KEYS);

/**
 * Paths are built only when a reason needs one: decoding is on the hot path of every OTLP record, and
 * almost every attribute is valid.
 */
type LazyPath = () => string;

function decodeInt(raw: unknown, path: LazyPath): number {
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return raw;
  if (typeof raw === 'string' && /^-?\d{1,20}$/.test(raw)) {
    const value = Number(raw);
    if (Number.isSafeInteger(value)) return value;
    throw new NormalizeFailure('invalid_field', `${path()}.intValue: integer outside the exactly representable range (+-2^53)`);
  }
  throw new NormalizeFailure('invalid_field', `${path()}.intValue: expected an integer or a decimal integer string`);
}

function decodeDouble(raw: unknown, path: LazyPath): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string') {
    // The protobuf JSON mapping spells non-finite doubles as strings; the schema rejects them later if used.
    if (raw === 'NaN') return Number.NaN;
    if (raw === 'Infinity') return Number.POSITIVE_INFINITY;
    if (raw === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (/^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw)) return Number(raw);
  }
  throw new NormalizeFailure('invalid_field', `${path()}.doubleValue: expected a number`);
}

function entries(container: unknown, path: LazyPath, what: string): readonly unknown[] {
  if (!isObject(container)) throw new NormalizeFailure('invalid_field', `${path()}: expected an object with ${what}`);
  const values = own(container, 'values');
  // An empty array/kvlist may be serialised without its `values` field (proto3 omits empty repeated fields).
  if (values === undefined || values === null) return [];
  if (!Array.isArray(values)) throw new NormalizeFailure('invalid_field', `${path()}.values: expected an array`);
  if (values.length > MAX_ATTRIBUTE_ENTRIES) throw new NormalizeFailure('invalid_field', `${path()}.values: expected at most ${MAX_ATTRIBUTE_ENTRIES} entries`);
  return values;
}

/** The one oneof field an AnyValue sets; unknown fields are ignored, as OTLP/JSON receivers must. */
function oneof(value: JsonObject, path: LazyPath): { key: OneofKey; raw: unknown } | undefined {
  let found: { key: OneofKey; raw: unknown } | undefined;
  for (const key of Object.keys(value)) {
    if (!ONEOF_SET.has(key)) continue;
    const raw = value[key];
    if (raw === undefined || raw === null) continue;
    if (found !== undefined) throw new NormalizeFailure('invalid_field', `${path()}: an AnyValue sets exactly one of ${ONEOF_KEYS.join(', ')}`);
    found = { key: key as OneofKey, raw };
  }
  return found;
}

/** Decodes one AnyValue. An AnyValue with no field set is the protobuf "empty" value: null. */
export function decodeAnyValue(value: unknown, path: LazyPath, depth = 0, root: LazyPath = path): AttributeValue {
  // Reported at the attribute's own path: the nested path of a hostile value would fill the reason.
  if (depth > MAX_ANY_VALUE_DEPTH) throw new NormalizeFailure('invalid_field', `${root()}: nests deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw new NormalizeFailure('invalid_field', `${path()}: expected an AnyValue object ({stringValue: ...}, {intValue: ...}, ...)`);
  const set = oneof(value, path);
  if (set === undefined) return null;
  const { key, raw } = set;
  switch (key) {
    case 'stringValue':
    case 'bytesValue':
      if (typeof raw !== 'string') throw new NormalizeFailure('invalid_field', `${path()}.${key}: expected a string`);
      return raw;
    case 'boolValue':
      if (typeof raw !== 'boolean') throw new NormalizeFailure('invalid_field', `${path()}.boolValue: expected true or false`);
      return raw;
    case 'intValue':
      return decodeInt(raw, path);
    case 'doubleValue':
      return decodeDouble(raw, path);
    case 'arrayValue':
      return entries(raw, () => `${path()}.arrayValue`, 'values').map((item, i) => decodeAnyValue(item, () => `${path()}.arrayValue.values[${i}]`, depth + 1, root));
    case 'kvlistValue': {
      const out = Object.create(null) as Record<string, AttributeValue>;
      entries(raw, () => `${path()}.kvlistValue`, 'values').forEach((entry, i) => {
        const entryPath = (): string => `${path()}.kvlistValue.values[${i}]`;
        const key = isObject(entry) ? own(entry, 'key') : undefined;
        if (typeof key !== 'string') throw new NormalizeFailure('invalid_field', `${entryPath()}: expected {key, value}`);
        // A kvlist is a map: a repeated key would silently keep its last value, as a repeated JSON member would.
        if (Object.prototype.hasOwnProperty.call(out, key)) throw new NormalizeFailure('duplicate_key', `${entryPath()}: repeats ${keyNamed(key)} of an earlier entry`);
        out[key] = decodeAnyValue(own(entry as JsonObject, 'value'), () => `${entryPath()}.value`, depth + 1, root);
      });
      return out;
    }
  }
}

/** "the key sial.consent" for one of our keys; "the key" for any other, which is the producer's text. */
function keyNamed(key: string): string {
  return isKnownKey(key) ? `the key ${key}` : 'the key';
}

/**
 * Decodes an attribute list (`[{key, value}]`) into a Map. A repeated key is refused: OTLP requires
 * unique keys, and two values for e.g. `sial.consent` on one span could only be guessed between.
 * Reasons locate an attribute by its key when the key is ours and by its position otherwise.
 */
export function decodeAttributes(list: unknown, path: string): Map<string, AttributeValue> {
  const map = new Map<string, AttributeValue>();
  if (list === undefined || list === null) return map;
  if (!Array.isArray(list)) throw new NormalizeFailure('invalid_field', `${path}: expected a list of {key, value}`);
  if (list.length > MAX_ATTRIBUTE_ENTRIES) throw new NormalizeFailure('invalid_field', `${path}: expected at most ${MAX_ATTRIBUTE_ENTRIES} attributes`);
  list.forEach((item, i) => {
    if (!isObject(item)) throw new NormalizeFailure('invalid_field', `${path}[${i}]: expected {key, value}`);
    const key = own(item, 'key');
    if (typeof key !== 'string' || key === '') throw new NormalizeFailure('invalid_field', `${path}[${i}].key: expected a non-empty string`);
    if (map.has(key)) throw new NormalizeFailure('duplicate_key', `${path}[${i}]: repeats ${keyNamed(key)} of an earlier attribute`);
    map.set(key, decodeAnyValue(own(item, 'value'), () => `${path}[${isKnownKey(key) ? key : i}].value`));
  });
  return map;
}
