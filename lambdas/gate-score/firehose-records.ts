/**
 * The Firehose data-transformation contract: decoding an input record safely, and the three results a
 * record can get. Every input record gets exactly one result; a bad record never fails its batch.
 */

/** One record of a Firehose transformation event (base64 `data`). */
export interface FirehoseInputRecord {
  readonly recordId: string;
  readonly data: string;
}

/** Where Firehose's Iceberg destination writes an Ok record (Lambda routing via `otfMetadata`). */
export interface IcebergRoute {
  readonly destinationDatabaseName: string;
  readonly destinationTableName: string;
  readonly operation: 'insert';
}

export type FirehoseOutputRecord =
  | { readonly recordId: string; readonly result: 'Ok'; readonly data: string; readonly metadata: { readonly otfMetadata: IcebergRoute } }
  | { readonly recordId: string; readonly result: 'Dropped' | 'ProcessingFailed'; readonly data: string };

/** Firehose's own limit on one record (1,000 KiB); anything bigger cannot be a genuine record. */
export const MAX_RECORD_BYTES = 1_024_000;
/** Deeper JSON than this is hostile or broken; no trace format nests anywhere near it. */
export const MAX_JSON_DEPTH = 64;

export type DecodeResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * True when a parsed JSON value nests deeper than `limit` (`[]` has depth 1). V8's JSON.parse is
 * iterative, so parsing a hostile document is safe; the recursive code after it (normalisers,
 * schema validation) is what this bound protects. Walking the parsed value visits a few dozen nodes
 * per trace, far cheaper than scanning every character of the text.
 */
export function nestingExceeds(value: unknown, limit: number, depth = 1): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth > limit) return true;
  const children = Array.isArray(value) ? value : Object.values(value);
  for (const child of children) if (nestingExceeds(child, limit, depth + 1)) return true;
  return false;
}

/**
 * Decodes one record: base64 -> strict UTF-8 -> bounded JSON. Reasons never quote record content,
 * because it may hold personal data and reasons are logged.
 */
export function decodeRecord(data: string): DecodeResult {
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length === 0) return { ok: false, reason: 'empty_record: the record has no data' };
  if (bytes.length > MAX_RECORD_BYTES) {
    return { ok: false, reason: `record_too_large: ${bytes.length} bytes, the limit is ${MAX_RECORD_BYTES}` };
  }
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'invalid_utf8: the record is not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'invalid_json: the record is not valid JSON' };
  }
  if (nestingExceeds(value, MAX_JSON_DEPTH)) {
    return { ok: false, reason: `too_deeply_nested: JSON nesting deeper than ${MAX_JSON_DEPTH}` };
  }
  return { ok: true, value };
}

/** Encodes a lake row as an Ok record routed to one Iceberg table. */
export function okRecord(recordId: string, row: object, route: IcebergRoute): FirehoseOutputRecord {
  return { recordId, result: 'Ok', data: Buffer.from(JSON.stringify(row)).toString('base64'), metadata: { otfMetadata: route } };
}
