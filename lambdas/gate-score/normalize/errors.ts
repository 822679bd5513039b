/**
 * Failure reasons of the normalisers. A reason is `<code>: <detail>`: the code is a small, stable
 * vocabulary (it becomes a metric dimension, see gates/verdict.ts `reasonCode`), the detail names the
 * field and what was expected. A detail never contains a field's *value*: records carry personal data,
 * and reasons end up in logs, metrics and the content-free audit trail. Nor does it contain a *key*
 * taken from the record unless the key is one of the project's own names (vocabulary.ts): a producer
 * controls its keys, and a key can be an e-mail address or a name.
 */
import type { TraceIssue } from '../trace';
import { describeUnrecognisedKeys, keyForReason } from './vocabulary';

/** Machine codes a normalisation failure can carry; the first word of every `reason`. */
export const NORMALIZE_ERROR_CODES = [
  /** The record is not an object of any accepted format. */
  'unrecognised_format',
  /** The record carries the markers of more than one format. */
  'ambiguous_format',
  /** A required field is absent. */
  'missing_field',
  /** A field is present but has the wrong type, range or shape. */
  'invalid_field',
  /** The same logical field was given different values in different places. */
  'conflicting_field',
  /** A JSON object gives the same member name twice (in the record, or in JSON text inside a field). */
  'duplicate_key',
  /** An OTLP payload holds spans of more than one trace; one Firehose record carries one trace. */
  'multiple_traces',
  /** A defect in the normaliser itself; the record is failed rather than the batch. */
  'internal_error',
] as const;
export type NormalizeErrorCode = (typeof NORMALIZE_ERROR_CODES)[number];

/** Longest reason returned; long enough for a path and an expectation, short enough for a log line. */
export const MAX_REASON_CHARS = 300;

/**
 * Thrown inside the format modules to abandon a record with an explained reason. `normalizeRecord`
 * catches it; it never escapes the public API.
 */
export class NormalizeFailure extends Error {
  override name = 'NormalizeFailure';
  constructor(
    readonly code: NormalizeErrorCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** Builds the public reason string, truncated to MAX_REASON_CHARS. */
export function formatReason(code: NormalizeErrorCode, detail: string): string {
  const reason = `${code}: ${detail}`;
  return reason.length <= MAX_REASON_CHARS ? reason : `${reason.slice(0, MAX_REASON_CHARS - 3)}...`;
}

/**
 * Renders a path such as `input_messages[2].content` from its segments (keys and array indexes). A key
 * that is not one of the project's own names is shown as `?`.
 */
export function renderPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? keyForReason(segment) : `.${keyForReason(segment)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Where each Trace field came from in the source format, keyed by Trace path prefix (`consent`,
 * `model.family`, `usage`). Used to say "model.family (from metadata.model_family)" in a reason, so a
 * producer knows which of *their* fields to fix.
 */
export type SourceMap = Readonly<Record<string, string>>;

/** What a format module hands to the schema gate: a Trace-shaped object and where its fields came from. */
export interface Candidate {
  readonly candidate: Record<string, unknown>;
  readonly sources: SourceMap;
}

function sourceFor(path: readonly PropertyKey[], sources: SourceMap): string | undefined {
  for (let length = path.length; length > 0; length -= 1) {
    const key = path
      .slice(0, length)
      .filter((s) => typeof s !== 'number')
      .map(String)
      .join('.');
    const source = sources[key];
    if (source !== undefined && Object.prototype.hasOwnProperty.call(sources, key)) return source;
  }
  return undefined;
}

/**
 * Turns the trace contract's issues (trace.ts `checkTrace`) into one reason. The first issue decides
 * the code (missing vs invalid); up to three issues are described, then a count of the rest. The
 * expectations are the contract's own fixed words; keys the contract does not know are counted or
 * quoted only when they are the project's own names (vocabulary.ts).
 */
export function reasonFromIssues(issues: readonly TraceIssue[], sources: SourceMap): string {
  const first = issues[0];
  if (first === undefined) return formatReason('invalid_field', '(root): did not validate');
  const parts = issues.slice(0, 3).map((issue) => {
    const path = renderPath(issue.path);
    const source = sourceFor(issue.path, sources);
    const what =
      issue.code === 'unrecognised_keys' ? describeUnrecognisedKeys(issue.keys) : issue.code === 'missing' ? `required (${issue.expected})` : issue.expected;
    return source === undefined ? `${path}: ${what}` : `${path} (from ${source}): ${what}`;
  });
  const more = issues.length > 3 ? `; (+${issues.length - 3} more)` : '';
  return formatReason(first.code === 'missing' ? 'missing_field' : 'invalid_field', `${parts.join('; ')}${more}`);
}
