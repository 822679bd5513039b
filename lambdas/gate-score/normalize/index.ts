/**
 * Input-format normalisation: the first half of the schema gate. A Firehose record (already
 * base64-decoded and JSON-parsed by the handler) is recognised as one of three formats, mapped to the
 * internal `Trace`, and checked against the trace contract (trace.ts `checkTrace`, the second half of the schema gate). The result
 * is a Trace, or a reason `<code>: <detail>` that names the field and the expectation, never its value.
 *
 * Format detection, by top-level own keys (exactly one marker may be present):
 *   - `resourceSpans`          -> OTLP/JSON ExportTraceServiceRequest (otlp.ts)
 *   - `trace_id`               -> the project's own record (native.ts)
 *   - `id` and `observations`  -> a Langfuse trace export (langfuse.ts)
 *
 * Pure: no I/O, no AWS SDK; safe to run on hostile input (never throws, never mutates prototypes).
 */
import { checkTrace, type Trace, type TraceFormat } from '../trace';
import { NormalizeFailure, formatReason, reasonFromIssues, type Candidate } from './errors';
import { isLangfuseTrace, normaliseLangfuse } from './langfuse';
import { NATIVE_DISCRIMINATOR, normaliseNative } from './native';
import { isOtlpExport, normaliseOtlp } from './otlp';
import { hasOwn, isObject, type JsonObject } from './values';

export { NORMALIZE_ERROR_CODES, MAX_REASON_CHARS, type NormalizeErrorCode } from './errors';
export { SIAL_ATTRIBUTES } from './otlp';
export { LANGFUSE_FEEDBACK_SCORE, LANGFUSE_QUALITY_SCORE } from './langfuse';
export { NATIVE_DISCRIMINATOR } from './native';

/** The outcome of normalising one record. `format` is stamped on the lake row for lineage. */
export type NormalizeResult = { ok: true; trace: Trace; format: TraceFormat } | { ok: false; format: TraceFormat | 'unknown'; reason: string };

/**
 * Which format a record is in, or why it is none. Exactly one format's marker must be present: a
 * record that looks like two formats is refused rather than read as whichever is checked first.
 */
export function detectFormat(raw: unknown): { format: TraceFormat } | { format: 'unknown'; reason: string } {
  if (!isObject(raw)) {
    const kind = raw === null ? 'null' : Array.isArray(raw) ? 'an array' : `a ${typeof raw}`;
    return { format: 'unknown', reason: formatReason('unrecognised_format', `expected a JSON object (one trace per record), received ${kind}`) };
  }
  const matches: TraceFormat[] = [];
  if (isOtlpExport(raw)) matches.push('otlp');
  if (hasOwn(raw, NATIVE_DISCRIMINATOR)) matches.push('native');
  if (isLangfuseTrace(raw)) matches.push('langfuse');
  const [only, ...others] = matches;
  if (only !== undefined && others.length === 0) return { format: only };
  if (only !== undefined) {
    return { format: 'unknown', reason: formatReason('ambiguous_format', `the record has the markers of ${matches.join(' and ')}; send exactly one format`) };
  }
  // A paginated list response (GET /api/public/traces) is a common mistake worth naming.
  const hint = hasOwn(raw, 'data') && Array.isArray(raw.data) ? '; a list response (data[]) must be split into one trace per record' : '';
  return {
    format: 'unknown',
    reason: formatReason(
      'unrecognised_format',
      `expected a native trace (trace_id), a Langfuse trace export (id + observations) or an OTLP/JSON export (resourceSpans)${hint}`,
    ),
  };
}

/**
 * What a record of a detected format becomes before the contract's check (exported for the tests
 * of the contract over the corpora). Throws NormalizeFailure for a record its normaliser refuses.
 */
export function schemaCandidate(format: TraceFormat, record: JsonObject): Candidate {
  switch (format) {
    case 'native':
      return normaliseNative(record);
    case 'langfuse':
      return normaliseLangfuse(record);
    case 'otlp':
      return normaliseOtlp(record);
  }
}

/**
 * Normalises one parsed Firehose record to a validated `Trace`. Never throws: malformed, hostile or
 * unexpected input yields `{ok: false, reason}`, and a defect in a normaliser is reported as
 * `internal_error` for that record alone, so one bad record never fails its batch.
 */
export function normalizeRecord(raw: unknown): NormalizeResult {
  let format: TraceFormat | 'unknown' = 'unknown';
  try {
    const detected = detectFormat(raw);
    if (detected.format === 'unknown') return { ok: false, format: 'unknown', reason: detected.reason };
    format = detected.format;
    const { candidate, sources } = schemaCandidate(detected.format, raw as JsonObject);
    const checked = checkTrace(candidate);
    if (!checked.ok) return { ok: false, format, reason: reasonFromIssues(checked.issues, sources) };
    return { ok: true, trace: checked.trace, format: detected.format };
  } catch (error) {
    if (error instanceof NormalizeFailure) return { ok: false, format, reason: formatReason(error.code, error.detail) };
    // Deliberately not the error message: it could quote input. The name is enough to find the defect.
    const name = error instanceof Error ? error.name : typeof error;
    return { ok: false, format, reason: formatReason('internal_error', `the ${format} normaliser failed (${name}); the record was not processed`) };
  }
}
