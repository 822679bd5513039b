/**
 * The Firehose data-transformation contract: decoding an input record safely, and the three results a
 * record can get. Every input record gets exactly one result; a bad record never fails its batch.
 */
import { formatReason } from './normalize/errors';
import { describeDuplicate } from './normalize/values';
import { parseStrictJson } from './strict-json';

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
/**
 * Deeper JSON than this is hostile or broken; no trace format nests anywhere near it. V8's JSON.parse
 * is iterative, so parsing a hostile document is safe; the recursive code after it (normalisers,
 * schema validation) is what this bound protects.
 */
export const MAX_JSON_DEPTH = 64;

export type DecodeResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one record: base64 -> strict UTF-8 -> bounded JSON in which no object repeats a member
 * name (strict-json.ts). Reasons never quote record content, nor a key that is not one of the
 * project's own names, because either may hold personal data and reasons are logged.
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
  const parsed = parseStrictJson(text, MAX_JSON_DEPTH);
  if (parsed.ok) return { ok: true, value: parsed.value };
  switch (parsed.problem) {
    case 'invalid_json':
      return { ok: false, reason: 'invalid_json: the record is not valid JSON' };
    case 'too_deeply_nested':
      return { ok: false, reason: `too_deeply_nested: JSON nesting deeper than ${MAX_JSON_DEPTH}` };
    case 'duplicate_member':
      // JSON.parse would keep the last value: `{"consent": false, ..., "consent": true}` would read as consented.
      return { ok: false, reason: formatReason('duplicate_key', describeDuplicate(parsed.duplicate, 'the record')) };
  }
}

/** Encodes a lake row as an Ok record routed to one Iceberg table. */
export function okRecord(recordId: string, row: object, route: IcebergRoute): FirehoseOutputRecord {
  const json = JSON.stringify(row);
  // An all-ASCII row (the UTF-8 length equals the length in units) is copied byte for byte, which is
  // cheaper than UTF-8 encoding and gives the same bytes.
  const bytes = Buffer.from(json, Buffer.byteLength(json) === json.length ? 'latin1' : 'utf8');
  return { recordId, result: 'Ok', data: bytes.toString('base64'), metadata: { otfMetadata: route } };
}
