/**
 * The last check on every reason the gate writes: to `gate_audit.reason`, to the `Reason` metric
 * dimension (its code) and to the log. Reasons are built by our code in our words, but some quote
 * things a producer controls (an unknown key's name, a language subtag, an error's name), and an SDK
 * error message can echo the text it was sent. This module makes sure none of that passes:
 *
 * - the code (before the first `:`) is lower-case letters, digits and underscores, starting with a
 *   letter, at most 48 (`invalid_utf8`), and passes the same digit-run and detector checks as the
 *   detail: it can hold neither an address nor a number;
 * - the detail is printable ASCII without `@`, `%`, `\`, quotes or backticks, at most
 *   {@link MAX_SAFE_REASON_CHARS} in all, with no run of {@link MAX_DIGIT_RUN} or more digits (a phone
 *   number without separators), and the structured-PII pattern detector finds nothing in it.
 *
 * A detail that fails is replaced whole by a fixed phrase (the code is kept, so metrics still count
 * it); a code that fails turns the reason into `internal_error`. Pure; never throws.
 */
import { detectPatternPii } from './pii/pattern-detector';

/** Longest reason kept (the normalisers' own bound). */
export const MAX_SAFE_REASON_CHARS = 300;
/** A run of this many digits in a detail withholds it: our details never need one (byte counts and limits stay under 8 digits). */
export const MAX_DIGIT_RUN = 8;

const CODE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const MAX_CODE_CHARS = 48;
/** Printable ASCII except `@ % \ " \``. */
const DETAIL = /^[\x20-\x21\x23-\x24\x26-\x5b\x5d-\x5f\x61-\x7e]*$/;
const DIGIT_RUN = new RegExp(`[0-9]{${MAX_DIGIT_RUN}}`);

/** The detail that replaces one that failed the check. */
export const WITHHELD_DETAIL = 'detail withheld: it did not pass the reason check';

/** The reason that replaces one whose code is not a code. */
export const UNSAFE_CODE_REASON = 'internal_error: a reason with an invalid code was withheld';

/** True when text of the allowed characters holds no long digit run and nothing the detector finds. */
function holdsNoPattern(text: string): boolean {
  return !DIGIT_RUN.test(text) && detectPatternPii(text).length === 0;
}

/**
 * The reason as it may be written, counted and logged: unchanged when it passes the check, else with
 * its detail (or, for a bad code, all of it) replaced by a fixed phrase.
 */
export function safeReason(reason: string): string {
  const colon = reason.indexOf(':');
  const code = colon === -1 ? reason : reason.slice(0, colon);
  if (code.length > MAX_CODE_CHARS || !CODE.test(code) || !holdsNoPattern(code)) return UNSAFE_CODE_REASON;
  if (colon === -1) return code;
  const detail = reason.slice(colon + 1);
  if (reason.length > MAX_SAFE_REASON_CHARS || !DETAIL.test(detail) || !holdsNoPattern(detail)) return `${code}: ${WITHHELD_DETAIL}`;
  return reason;
}

/** True when `reason` is exactly what {@link safeReason} would let through. */
export function isSafeReason(reason: string): boolean {
  return safeReason(reason) === reason;
}
