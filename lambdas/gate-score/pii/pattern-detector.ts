/**
 * Structured-PII detector for any language: e-mail addresses, phone numbers (international, KR and
 * US formats), payment card numbers (Luhn), IBANs (mod-97), Korean resident registration numbers
 * and US social security numbers. Pure and synchronous.
 *
 * It is the only scanner for pattern-only languages (e.g. Korean in prod-kr) and runs next to
 * Comprehend for en/es as defence in depth (Comprehend has no KR RRN type). Entity types use
 * Comprehend's names where one exists, so both feed the same masker; offsets are code points with an
 * exclusive end, like Comprehend's.
 *
 * Speed and safety: every regex is compiled once at module load and is linear in its input. Each
 * quantifier is either bounded or followed by a token it cannot also match, so no input makes the
 * engine try exponentially (or quadratically) many ways; e-mails are found from each `@` outwards
 * instead of with a regex whose local part would rescan long words. Checksums and value rules run
 * only on the few candidates the regexes yield.
 *
 * Decisions (documented in the functions below):
 * - Cards: 13-19 digits, first digit 2-6 (every major network), written contiguously or in groups
 *   of 3-6 digits that start with a 4-digit group and share one separator; Luhn must hold.
 * - KR RRN: `YYMMDD-GNNNNNN` with a real calendar date and G in 1-8. Since October 2020 the last six
 *   digits of new RRNs are no longer computed, so the old check digit does not hold for them: a
 *   number that fails the checksum is still reported (score 0.85), one that passes scores 1.0.
 * - US SSN: `AAA-GG-SSSS` (or spaces; or nine digits right after an "SSN" cue) with the SSA's
 *   never-issued rules: area not 000, 666 or 900-999, group not 00, serial not 0000.
 * - IBAN: country letters, check digits and 11-30 alphanumerics (15-34 in total, grouped by 4 or
 *   not); the ISO 13616 mod-97 check must hold. The per-country length table is not used: mod-97
 *   already rejects 96 % of random candidates, and a missing table row would be a silent miss.
 * - Phones: `+` and 8-15 digits in groups (E.164), NANP numbers with separators, KR mobile
 *   (01X, also without separators) and KR landline numbers with separators.
 */
import type { PiiEntity } from '../../shared/ports';
import { hasSurrogates, utf16OffsetsToCodePoints } from './unicode';

/** Entity types this detector reports. */
export const PATTERN_PII_TYPES = {
  email: 'EMAIL',
  phone: 'PHONE',
  card: 'CREDIT_DEBIT_NUMBER',
  iban: 'INTERNATIONAL_BANK_ACCOUNT_NUMBER',
  ssn: 'SSN',
  krRrn: 'KR_RRN',
} as const;

/** Score of a finding whose checksum holds (Luhn, mod-97, RRN check digit). */
export const CHECKSUM_SCORE = 1;
/** Score of a finding that matches a strict format but carries no checksum. */
export const FORMAT_SCORE = 0.9;
/** Score of an RRN that fails the pre-2020 check digit (see the module comment). */
export const UNCHECKED_RRN_SCORE = 0.85;

// --- e-mail ---------------------------------------------------------------------------------------

/** Domain after the `@`: labels and a letters-only TLD; sticky, so it is tried at one position only. */
const EMAIL_DOMAIN = /(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/y;
const MAX_LOCAL_PART = 64;

function isEmailLocalUnit(unit: number): boolean {
  return (
    (unit >= 0x61 && unit <= 0x7a) || // a-z
    (unit >= 0x41 && unit <= 0x5a) || // A-Z
    (unit >= 0x30 && unit <= 0x39) || // 0-9
    unit === 0x2e || // .
    unit === 0x5f || // _
    unit === 0x25 || // %
    unit === 0x2b || // +
    unit === 0x2d // -
  );
}

function findEmails(text: string, out: Raw[]): void {
  let at = text.indexOf('@');
  while (at !== -1) {
    let start = at;
    // Walk left over the local part; the cap keeps a long run of word characters from costing more
    // than 64 steps per `@`.
    while (start > 0 && at - start < MAX_LOCAL_PART && isEmailLocalUnit(text.charCodeAt(start - 1))) start -= 1;
    while (start < at && text.charCodeAt(start) === 0x2e) start += 1; // a local part cannot start with '.'
    if (start < at) {
      EMAIL_DOMAIN.lastIndex = at + 1;
      const domain = EMAIL_DOMAIN.exec(text);
      if (domain !== null) {
        const end = at + 1 + domain[0].length;
        out.push({ type: PATTERN_PII_TYPES.email, start, end, score: FORMAT_SCORE });
        at = text.indexOf('@', end);
        continue;
      }
    }
    at = text.indexOf('@', at + 1);
  }
}

// --- phones ---------------------------------------------------------------------------------------

/**
 * One pass for every phone format. Each alternative is a fixed sequence of bounded digit groups
 * joined by a *mandatory* separator (or a fixed digit count), so a digit can be matched in only a
 * handful of ways. Boundaries: not glued to a word, a `+`, or a longer dotted/dashed number.
 */
const PHONE = new RegExp(
  [
    '(?<![\\w+.\\-])(?:',
    // International (E.164): +CC, optional "(0)" / "(area)", then separated groups; or +CC and 7-14 digits unseparated.
    '\\+[1-9]\\d{0,3}(?:[ .\\-]?\\(\\d{1,4}\\))?(?:[ .\\-]\\d{1,12}){1,6}',
    '|\\+[1-9]\\d{7,14}',
    // NANP: optional 1, area code and exchange both starting 2-9, separators required.
    '|(?:1[ .\\-]?)?(?:\\([2-9]\\d{2}\\)[ .\\-]?|[2-9]\\d{2}[ .\\-])[2-9]\\d{2}[ .\\-]\\d{4}',
    // KR mobile: 010/011/016/017/018/019, separators optional (01012345678 is common).
    '|01[016789][ .\\-]?\\d{3,4}[ .\\-]?\\d{4}',
    // KR landline: 02 (Seoul), 031-064 regional, 070 VoIP; separators required.
    '|(?:\\(0(?:2|[3-6][1-5]|70)\\) ?|0(?:2|[3-6][1-5]|70)[ .\\-])\\d{3,4}[ .\\-]\\d{4}',
    ')(?![\\w\\-]|\\.\\d)',
  ].join(''),
  'g',
);

const MAX_E164_DIGITS = 15;
const MIN_INTERNATIONAL_DIGITS = 8;

function findPhones(text: string, out: Raw[]): void {
  PHONE.lastIndex = 0;
  for (let m = PHONE.exec(text); m !== null; m = PHONE.exec(text)) {
    let value = m[0];
    if (value.charCodeAt(0) === 0x2b /* + */) {
      // Trailing groups can belong to the next number ("+82 10 1234 5678 2024"): drop whole groups
      // until the E.164 maximum holds, then require a plausible minimum.
      while (countDigits(value) > MAX_E164_DIGITS) {
        const cut = Math.max(value.lastIndexOf(' '), value.lastIndexOf('-'), value.lastIndexOf('.'));
        if (cut <= 0) break;
        value = value.slice(0, cut);
      }
      const digits = countDigits(value);
      if (digits < MIN_INTERNATIONAL_DIGITS || digits > MAX_E164_DIGITS) continue;
    }
    out.push({ type: PATTERN_PII_TYPES.phone, start: m.index, end: m.index + value.length, score: FORMAT_SCORE });
  }
}

// --- payment cards ---------------------------------------------------------------------------------

/**
 * A maximal run of at least 13 digits joined by single spaces or dashes. Each repetition consumes
 * exactly one digit, so a run can be matched only one way; runs too short for a card fail after at
 * most 13 steps without allocating a match (most numbers in prose are short).
 */
const DIGIT_RUN = /\d(?:[ -]?\d){12,}/g;
const GROUP = /\d+/g;

function findCards(text: string, out: Raw[]): void {
  DIGIT_RUN.lastIndex = 0;
  for (let run = DIGIT_RUN.exec(text); run !== null; run = DIGIT_RUN.exec(text)) {
    const runStart = run.index;
    const value = run[0];
    // A number glued to letters (an id such as "AB4111...") is not a card as written.
    if (isAsciiWordUnit(text.charCodeAt(runStart - 1)) || isAsciiWordUnit(text.charCodeAt(runStart + value.length))) continue;

    const groups: { start: number; end: number }[] = [];
    GROUP.lastIndex = 0;
    for (let g = GROUP.exec(value); g !== null; g = GROUP.exec(value)) groups.push({ start: g.index, end: g.index + g[0].length });

    let i = 0;
    while (i < groups.length) {
      const found = longestCardFrom(value, groups, i);
      if (found === undefined) {
        i += 1;
        continue;
      }
      out.push({ type: PATTERN_PII_TYPES.card, start: runStart + found.start, end: runStart + found.end, score: CHECKSUM_SCORE });
      i = found.nextGroup;
    }
  }
}

/** The longest Luhn-valid card that starts at group `i`, if any (see the module comment for the rules). */
function longestCardFrom(
  value: string,
  groups: readonly { start: number; end: number }[],
  i: number,
): { start: number; end: number; nextGroup: number } | undefined {
  const first = groups[i];
  if (first === undefined) return undefined;
  const firstDigit = value.charCodeAt(first.start);
  if (firstDigit < 0x32 || firstDigit > 0x36) return undefined; // 2-6
  const firstLength = first.end - first.start;
  if (firstLength >= 13 && firstLength <= 19) {
    return luhnValid(value.slice(first.start, first.end)) ? { start: first.start, end: first.end, nextGroup: i + 1 } : undefined;
  }
  if (firstLength !== 4) return undefined;

  const separator = value.charCodeAt(first.end);
  let digits = value.slice(first.start, first.end);
  let best: { start: number; end: number; nextGroup: number } | undefined;
  for (let j = i + 1; j < groups.length; j += 1) {
    const group = groups[j];
    if (group === undefined) break;
    const length = group.end - group.start;
    if (length < 3 || length > 6 || value.charCodeAt(group.start - 1) !== separator) break;
    digits += value.slice(group.start, group.end);
    if (digits.length > 19) break;
    if (digits.length >= 13 && luhnValid(digits)) best = { start: first.start, end: group.end, nextGroup: j + 1 };
  }
  return best;
}

/** Luhn (mod 10) check over a string of ASCII digits. */
export function luhnValid(digits: string): boolean {
  if (!/^\d{2,}$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let k = digits.length - 1; k >= 0; k -= 1) {
    let d = digits.charCodeAt(k) - 0x30;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

// --- IBAN -----------------------------------------------------------------------------------------

/** Country, check digits, then groups of four (optionally space-separated) and a short last group. */
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])/g;
const MIN_IBAN_LENGTH = 15;
const MAX_IBAN_LENGTH = 34;

function findIbans(text: string, out: Raw[]): void {
  IBAN.lastIndex = 0;
  for (let m = IBAN.exec(text); m !== null; m = IBAN.exec(text)) {
    let value = m[0];
    // A following word of 1-4 capitals/digits can be swallowed as the last group: retry without
    // trailing groups before giving up.
    for (;;) {
      if (ibanValid(value)) {
        out.push({ type: PATTERN_PII_TYPES.iban, start: m.index, end: m.index + value.length, score: CHECKSUM_SCORE });
        break;
      }
      const cut = value.lastIndexOf(' ');
      if (cut <= 4) break;
      value = value.slice(0, cut);
    }
  }
}

/** ISO 13616 check: 15-34 characters (spaces ignored), country letters, check digits, mod 97 = 1. */
export function ibanValid(candidate: string): boolean {
  const iban = candidate.replace(/ /g, '');
  if (iban.length < MIN_IBAN_LENGTH || iban.length > MAX_IBAN_LENGTH) return false;
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (let k = 0; k < rearranged.length; k += 1) {
    const unit = rearranged.charCodeAt(k);
    // Letters count as 10..35, i.e. two decimal digits; digits as one.
    remainder = unit >= 0x41 ? (remainder * 100 + (unit - 55)) % 97 : (remainder * 10 + (unit - 0x30)) % 97;
  }
  return remainder === 1;
}

// --- KR RRN ---------------------------------------------------------------------------------------

const RRN = /(?<![\w-])(\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])[- ]?([1-8])(\d{6})(?![\w-]|\.\d)/g;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const RRN_WEIGHTS = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5] as const;

function findRrns(text: string, out: Raw[]): void {
  RRN.lastIndex = 0;
  for (let m = RRN.exec(text); m !== null; m = RRN.exec(text)) {
    const month = Number(m[2]);
    const day = Number(m[3]);
    // Feb 29 is accepted for any year: the century (from G) is not worth the code to reject 1 in 1,461.
    if (day > (DAYS_IN_MONTH[month - 1] ?? 0)) continue;
    const digits = `${m[1] ?? ''}${m[2] ?? ''}${m[3] ?? ''}${m[4] ?? ''}${m[5] ?? ''}`;
    out.push({
      type: PATTERN_PII_TYPES.krRrn,
      start: m.index,
      end: m.index + m[0].length,
      score: rrnChecksumValid(digits) ? CHECKSUM_SCORE : UNCHECKED_RRN_SCORE,
    });
  }
}

/**
 * The pre-October-2020 RRN check digit: weights 2..9,2..5 over the first 12 digits,
 * check = (11 - sum mod 11) mod 10. Newer RRNs need not satisfy it (see the module comment).
 */
export function rrnChecksumValid(rrn: string): boolean {
  const digits = rrn.replace(/[- ]/g, '');
  if (!/^\d{13}$/.test(digits)) return false;
  let sum = 0;
  RRN_WEIGHTS.forEach((weight, k) => {
    sum += (digits.charCodeAt(k) - 0x30) * weight;
  });
  return (11 - (sum % 11)) % 10 === digits.charCodeAt(12) - 0x30;
}

// --- US SSN ---------------------------------------------------------------------------------------

/** `AAA-GG-SSSS` or `AAA GG SSSS` (the same separator twice). */
const SSN = /(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-]|\.\d)/g;
/** Nine digits right after an explicit cue; bounded gaps keep it linear. */
const SSN_CUED = /\b(?:ssn|social security (?:number|no\.?))[ \t]{0,3}(?:#|:|=|is)?[ \t]{0,3}(\d{9})(?!\d)/gi;

function findSsns(text: string, out: Raw[]): void {
  SSN.lastIndex = 0;
  for (let m = SSN.exec(text); m !== null; m = SSN.exec(text)) {
    if (ssnValid(`${m[1] ?? ''}${m[3] ?? ''}${m[4] ?? ''}`)) {
      out.push({ type: PATTERN_PII_TYPES.ssn, start: m.index, end: m.index + m[0].length, score: FORMAT_SCORE });
    }
  }
  SSN_CUED.lastIndex = 0;
  for (let m = SSN_CUED.exec(text); m !== null; m = SSN_CUED.exec(text)) {
    const digits = m[1] ?? '';
    if (!ssnValid(digits)) continue;
    const end = m.index + m[0].length;
    out.push({ type: PATTERN_PII_TYPES.ssn, start: end - digits.length, end, score: FORMAT_SCORE });
  }
}

const SSN_SHAPE = /^(\d{3})([- ]?)(\d{2})\2(\d{4})$/;

/**
 * True for `AAA-GG-SSSS`, `AAA GG SSSS` or nine digits that the SSA could have issued: area not 000,
 * 666 or 900-999, group not 00, serial not 0000.
 */
export function ssnValid(ssn: string): boolean {
  const m = SSN_SHAPE.exec(ssn);
  if (m === null) return false;
  const area = Number(m[1]);
  const group = Number(m[3]);
  const serial = Number(m[4]);
  return area !== 0 && area !== 666 && area < 900 && group !== 0 && serial !== 0;
}

// --- entry point ----------------------------------------------------------------------------------

interface Raw {
  readonly type: string;
  /** UTF-16 indices, end exclusive. */
  readonly start: number;
  readonly end: number;
  readonly score: number;
}

const ANY_DIGIT = /\d/;

function isAsciiWordUnit(unit: number): boolean {
  return (unit >= 0x61 && unit <= 0x7a) || (unit >= 0x41 && unit <= 0x5a) || unit === 0x5f;
}

function countDigits(value: string): number {
  let n = 0;
  for (let k = 0; k < value.length; k += 1) {
    const unit = value.charCodeAt(k);
    if (unit >= 0x30 && unit <= 0x39) n += 1;
  }
  return n;
}

/**
 * Finds structured PII in one text. Entities are sorted by start offset (then by detection order:
 * e-mail, RRN, SSN, IBAN, card, phone, which the masker uses to name a span two patterns found
 * with the same length). Offsets are code points, end exclusive. Overlapping findings of different
 * types are all returned; the masker merges them.
 */
export function detectPatternPii(text: string): PiiEntity[] {
  const raw: Raw[] = [];
  findEmails(text, raw);
  // Every other type contains digits; most sentences do not.
  if (ANY_DIGIT.test(text)) {
    findRrns(text, raw);
    findSsns(text, raw);
    findIbans(text, raw);
    findCards(text, raw);
    findPhones(text, raw);
  }
  if (raw.length === 0) return [];
  raw.sort((a, b) => a.start - b.start);

  if (!hasSurrogates(text)) {
    return raw.map((r) => ({ type: r.type, beginOffset: r.start, endOffset: r.end, score: r.score }));
  }
  // Convert UTF-16 indices to code points in one walk: sort all boundaries, convert, look up.
  const boundaries = [...new Set(raw.flatMap((r) => [r.start, r.end]))].sort((a, b) => a - b);
  const converted = utf16OffsetsToCodePoints(text, boundaries);
  const toCodePoint = new Map<number, number>();
  boundaries.forEach((b, k) => toCodePoint.set(b, converted[k] ?? b));
  return raw.map((r) => ({
    type: r.type,
    beginOffset: toCodePoint.get(r.start) ?? r.start,
    endOffset: toCodePoint.get(r.end) ?? r.end,
    score: r.score,
  }));
}
