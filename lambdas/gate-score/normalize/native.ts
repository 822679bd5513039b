/**
 * The project's own JSON trace record ("native"): the Trace shape itself (trace.ts), identified by a
 * top-level `trace_id`. Producers may leave out the collections and flags that have an obvious empty
 * value; everything else must be exactly the Trace contract, unknown keys included, so that a
 * misspelled governance field (`consnet`) is reported instead of silently ignored.
 */
import { NormalizeFailure, type Candidate } from './errors';
import { hasOwn, isoInstant, type JsonObject } from './values';

/** The top-level key that identifies a native record. */
export const NATIVE_DISCRIMINATOR = 'trace_id';

/** Defaults applied when a native record omits the field (absent only: an explicit null is an error). */
const DEFAULTS: Readonly<Record<string, () => unknown>> = {
  retrieved_contexts: () => [],
  tool_calls: () => [],
  error: () => false,
  usage: () => ({}),
};

/**
 * Fills the defaults and normalises the timestamp to UTC milliseconds; validation of everything else is
 * the schema gate's job (the trace contract, trace.ts `checkTrace`), which reports unknown keys too.
 */
export function normaliseNative(record: JsonObject): Candidate {
  // Spread copies own keys as data properties (a `__proto__` key stays a plain, reportable key).
  const candidate: Record<string, unknown> = { ...record };
  for (const [key, make] of Object.entries(DEFAULTS)) {
    if (!hasOwn(record, key)) candidate[key] = make();
  }
  if (!hasOwn(record, 'timestamp')) throw new NormalizeFailure('missing_field', 'timestamp: required (an ISO-8601 date-time)');
  candidate.timestamp = isoInstant(record.timestamp, 'timestamp');
  return { candidate, sources: {} };
}
