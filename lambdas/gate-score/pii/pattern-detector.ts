/**
 * Structured-PII detector for any language: e-mail addresses, phone numbers, payment card numbers
 * (Luhn), IBANs (mod-97), Korean resident registration numbers and US social security numbers. Pure
 * and synchronous.
 *
 * It reads a text's skeleton (skeleton.ts), never the raw text: full-width digits, invisible
 * characters, look-alike letters, odd spaces and dashes, HTML/percent/backslash escapes are undone
 * there, so the patterns below only deal with ASCII spellings, and every finding is mapped back to the
 * exact original characters.
 *
 * It is the only scanner for pattern-only languages and runs next to the entity detector everywhere
 * else as defence in depth (Comprehend has no KR RRN type). Entity types use Comprehend's names where
 * one exists, so both feed the same masker; offsets are code points with an exclusive end, like
 * Comprehend's.
 *
 * Speed and safety: every regex is compiled once at module load and is linear in its input. Each
 * quantifier is either bounded or followed by a token it cannot also match, so no input makes the
 * engine try exponentially (or quadratically) many ways; e-mails are found from each `@` (or spelled
 * `at`) outwards instead of with a regex whose local part would rescan long words. Checksums and
 * value rules run only on the few candidates the regexes yield.
 *
 * Decisions (documented in the functions below):
 * - Separators: a space, tab, line break, dash or dot between digit groups (a number split over
 *   lines is one number).
 * - E-mails: internationalised local parts and domains; one space or line break around the `@`;
 *   spelled-out forms ("john dot smith at example dot com", `[at]`, `(at)`), where a bare "at" needs a
 *   spelled dot or a common e-mail top-level domain, so "look at main.py" stays prose.
 * - Cards: 13-19 digits, first digit 2-6 (every major network), written contiguously, in groups of
 *   3-6 digits that start with a 4-digit group and share one kind of separator, or as one run of
 *   irregular groups; Luhn must hold.
 * - KR RRN: `YYMMDD-GNNNNNN` with a real calendar date and G in 1-8, dash, dot or spaces between.
 *   Since October 2020 the last six digits of new RRNs are no longer computed, so the old check digit
 *   does not hold for them: a number that fails the checksum is still reported (score 0.85), one that
 *   passes scores 1.0.
 * - US SSN: `AAA-GG-SSSS` (or spaces or dots; or nine digits right after an "SSN" cue) with the SSA's
 *   never-issued rules: area not 000, 666 or 900-999, group not 00, serial not 0000.
 * - IBAN: country letters, check digits and 11-30 alphanumerics (15-34 in total), grouped uniformly by
 *   4 with spaces, dashes or dots, or not at all; the ISO 13616 mod-97 check must hold, and so must
 *   the country's registered length where the table has the country. A country missing from the
 *   table is accepted in capitals on mod-97 alone (never a silent miss for the usual spelling);
 *   lower-case candidates need the table, since hashes and ids share the shape.
 * - Phones: `+` or `00` and 8-15 digits (E.164); NANP numbers with separators or as ten digits;
 *   national numbers with a trunk 0 (9-12 digits, separated or not: UK, KR, FR, DE, JP forms); KR
 *   and mainland China mobiles; and any 7-15 digits right after a word that names a phone number.
 */
import type { PiiEntity } from '../../shared/ports';
import { buildSkeleton, entitiesInOriginal, type SkeletonEntity } from './skeleton';

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

/**
 * A dot between domain labels: `.`, or spelled out (` dot `, `[dot]`, `(dot)`, `{dot}`, `<dot>`), any case.
 * The skeleton has already turned dot look-alikes into `.`.
 */
const DOT_TOKEN = String.raw`(?:\.|[ \t]*[\[({<][ \t]*[dD][oO][tT][ \t]*[\])}>][ \t]*|[ \t]+[dD][oO][tT][ \t]+)`;
const SPELLED_DOT = /[[({<][ \t]*[dD][oO][tT][ \t]*[\])}>]|[ \t][dD][oO][tT][ \t]/;
/**
 * Domain after the `@`: labels of letters (any script: internationalised domains), digits and `-`,
 * and a letters-only (or punycode) top-level label. Sticky, so it is tried at one position only.
 */
const EMAIL_DOMAIN = new RegExp(String.raw`(?:[\p{L}\p{N}-]{1,63}${DOT_TOKEN}){1,8}(?:\p{L}{2,24}|xn--[a-z0-9-]{1,59})(?![\p{L}\p{N}-])`, 'uy');
/** The four spellings of the word `at`, tried in this order (see findSpelledEmails). */
const AT_SPELLINGS = ['at', 'AT', 'At', 'aT'] as const;
/** The local part before a spelled-out `at`: words joined by dot tokens, anchored at the end of its window. */
const SPELLED_LOCAL = new RegExp(String.raw`(?:[\p{L}\p{N}_%+-]{1,64}${DOT_TOKEN}){0,6}[\p{L}\p{N}_%+-]{1,64}$`, 'u');
/** How far back a spelled local part is looked for. */
const SPELLED_LOCAL_WINDOW = 160;
/**
 * Top-level domains common enough in e-mail that "name at example.com" (a bare `at`, real dots) is read
 * as an address. Elsewhere a bare `at` needs a spelled dot, so "look at main.py" stays prose.
 */
const EMAIL_TLDS = new Set(
  'com net org edu gov mil int info biz io co me us uk de fr es it nl be ch at se no dk fi pl pt ie kr jp cn tw hk sg in au nz ca br mx ar eu ru ua cz'.split(' '),
);
const MAX_LOCAL_PART = 64;
const NON_ASCII_WORD = /^[\p{L}\p{N}\p{M}]$/u;

function isEmailLocalUnit(text: string, index: number): boolean {
  const unit = text.charCodeAt(index);
  if (unit >= 0x80) return NON_ASCII_WORD.test(text.charAt(index)); // internationalised local parts
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

/** Length of the run of spaces, tabs and line breaks starting at `index`, up to three (0 when none). */
function whitespaceAt(text: string, index: number): number {
  let length = 0;
  while (length < 3 && isAsciiWhitespace(text.charCodeAt(index + length))) length += 1;
  return length;
}

/** Length of the run of spaces, tabs and line breaks ending just before `index`, up to three. */
function whitespaceBefore(text: string, index: number): number {
  let length = 0;
  while (length < 3 && index - length > 0 && isAsciiWhitespace(text.charCodeAt(index - length - 1))) length += 1;
  return length;
}

function isAsciiWhitespace(unit: number): boolean {
  return unit === 0x20 || unit === 0x09 || unit === 0x0a || unit === 0x0d;
}

function findEmails(text: string, out: Raw[]): void {
  let at = text.indexOf('@');
  while (at !== -1) {
    // One line break or space on either side of the `@` does not stop an address ("john@\nexample.com").
    let localEnd = at;
    if (at >= 2 && whitespaceAt(text, at - 1) === 1 && isEmailLocalUnit(text, at - 2)) localEnd = at - 1;
    let start = localEnd;
    // Walk left over the local part; the cap keeps a long run of word characters from costing more
    // than 64 steps per `@`.
    while (start > 0 && localEnd - start < MAX_LOCAL_PART && isEmailLocalUnit(text, start - 1)) start -= 1;
    while (start < localEnd && text.charCodeAt(start) === 0x2e) start += 1; // a local part cannot start with '.'
    if (start < localEnd) {
      EMAIL_DOMAIN.lastIndex = at + 1 + whitespaceAt(text, at + 1);
      const domain = EMAIL_DOMAIN.exec(text);
      if (domain !== null) {
        const end = EMAIL_DOMAIN.lastIndex;
        out.push({ type: PATTERN_PII_TYPES.email, start, end, score: FORMAT_SCORE });
        at = text.indexOf('@', end);
        continue;
      }
    }
    at = text.indexOf('@', at + 1);
  }
  findSpelledEmails(text, out);
}

/**
 * "john dot smith at example dot com", "john[at]example[dot]com", "jane (at) example.org": an `at`
 * word standing for `@`. Accepted when the `at` is bracketed, when any dot is spelled out, or when the
 * top-level domain is a common e-mail one; otherwise a bare "at" is prose. Each candidate `at` costs
 * one sticky match; the local part is searched only behind an `at` that has a domain after it.
 *
 * The candidates come from one regex scan (`atWordCandidates`), then each spelling is tried in the
 * order of `AT_SPELLINGS`, each with its own resume point past an address it found. This is the same
 * as searching the text once per spelling with `indexOf` from `max(p + 2, resume)` and skipping a hit
 * with a letter or digit beside it (what this did before, four native scans instead of one): that
 * search visits, in order, every occurrence of the spelling at or after `resume` (two occurrences of
 * one spelling cannot overlap, `a` is not `t`), and the skipped ones are exactly those the regex
 * leaves out.
 */
function findSpelledEmails(text: string, out: Raw[]): void {
  const candidates = atWordCandidates(text);
  if (candidates.length === 0) return;
  for (const spelling of AT_SPELLINGS) {
    const first = spelling.charCodeAt(0);
    const second = spelling.charCodeAt(1);
    let resume = 0;
    for (const p of candidates) {
      if (p < resume || text.charCodeAt(p) !== first || text.charCodeAt(p + 1) !== second) continue;
      const found = spelledEmailAt(text, p);
      if (found === undefined) continue;
      out.push(found);
      resume = found.end;
    }
  }
}

/** An `at` in any of the four spellings with no ASCII letter or digit right before or after it. */
const AT_WORD = /(?<![A-Za-z0-9])(?:at|AT|At|aT)(?![A-Za-z0-9])/g;
const NO_CANDIDATES: readonly number[] = Object.freeze([]);

/**
 * Where the text has an `at` word (`AT_WORD`), ascending: every one, since two cannot overlap (the
 * unit after an `at` is `t` or `T`, never the `a` of another). Exported for the test that holds it to
 * the per-spelling `indexOf` search it replaced.
 */
export function atWordCandidates(text: string): readonly number[] {
  AT_WORD.lastIndex = 0;
  let found: number[] | undefined;
  for (let m = AT_WORD.exec(text); m !== null; m = AT_WORD.exec(text)) (found ??= []).push(m.index);
  return found ?? NO_CANDIDATES;
}

/** Opening and closing brackets around a spelled `at` ("[at]", "(at)", "{at}", "<at>"). */
function isOpenBracket(unit: number): boolean {
  return unit === 0x5b || unit === 0x28 || unit === 0x7b || unit === 0x3c;
}
function isCloseBracket(unit: number): boolean {
  return unit === 0x5d || unit === 0x29 || unit === 0x7d || unit === 0x3e;
}

/** Index past spaces and tabs from `index` in direction `step` (bounded: brackets hold at most a few). */
function skipBlanks(text: string, index: number, step: 1 | -1): number {
  let i = index;
  for (let n = 0; n < 3; n += 1) {
    const unit = text.charCodeAt(i);
    if (unit !== 0x20 && unit !== 0x09) break;
    i += step;
  }
  return i;
}

/** The spelled-out address whose `at` word starts at `p`, if it is one. */
function spelledEmailAt(text: string, p: number): Raw | undefined {
  const before = skipBlanks(text, p - 1, -1);
  const after = skipBlanks(text, p + 2, 1);
  const bracketed = isOpenBracket(text.charCodeAt(before)) && isCloseBracket(text.charCodeAt(after));
  let atStart: number;
  let atEnd: number;
  if (bracketed) {
    atStart = before - whitespaceBefore(text, before);
    atEnd = after + 1 + whitespaceAt(text, after + 1);
  } else {
    // A bare word: whitespace on both sides.
    if (!isAsciiWhitespace(text.charCodeAt(p - 1)) || !isAsciiWhitespace(text.charCodeAt(p + 2))) return undefined;
    atStart = p - whitespaceBefore(text, p);
    atEnd = p + 2 + whitespaceAt(text, p + 2);
  }
  EMAIL_DOMAIN.lastIndex = atEnd;
  const domain = EMAIL_DOMAIN.exec(text);
  if (domain === null) return undefined;
  const windowStart = Math.max(0, atStart - SPELLED_LOCAL_WINDOW);
  const local = SPELLED_LOCAL.exec(text.slice(windowStart, atStart));
  if (local === null) return undefined;
  const spelledDot = SPELLED_DOT.test(domain[0]) || SPELLED_DOT.test(local[0]);
  const tld = domain[0].slice(domain[0].search(/[\p{L}]+$/u)).toLowerCase();
  if (!bracketed && !spelledDot && !EMAIL_TLDS.has(tld)) return undefined;
  let start = windowStart + local.index;
  if (start > 0 && isEmailLocalUnit(text, start - 1)) return undefined; // the window cut a longer word
  while (text.charCodeAt(start) === 0x2e) start += 1;
  return { type: PATTERN_PII_TYPES.email, start, end: EMAIL_DOMAIN.lastIndex, score: FORMAT_SCORE };
}

// --- phones ---------------------------------------------------------------------------------------

/**
 * One separator inside a number: up to three spaces, tabs or line breaks, a dot or a dash (the skeleton
 * made every look-alike one of these).
 */
const SEP = String.raw`(?:[ \t\r\n]{1,3}|[.\-])`;
/** An international prefix: `+`, or the `00` dialled instead of it in most of the world. */
const INTL = String.raw`(?:\+|00(?=[1-9]))`;

/**
 * One pass for every phone format. Each alternative is a fixed sequence of bounded digit groups
 * joined by a *mandatory* separator (or a fixed digit count), so a digit can be matched in only a
 * handful of ways. Boundaries: not glued to a word, a `+`, or a longer dotted/dashed number.
 */
const PHONE = new RegExp(
  [
    String.raw`(?<![\w+.\-])(?:`,
    // International (E.164): +CC or 00CC, optional "(0)" / "(area)", then separated groups; or 7-14 digits unseparated.
    String.raw`${INTL}[1-9]\d{0,3}(?:${SEP}?\(\d{1,4}\))?(?:${SEP}\d{1,12}){1,6}`,
    String.raw`|${INTL}[1-9]\d{7,14}`,
    // NANP: optional 1, area code and exchange both starting 2-9; separated, or ten digits written together.
    String.raw`|(?:1${SEP}?)?(?:\([2-9]\d{2}\)${SEP}?|[2-9]\d{2}${SEP})[2-9]\d{2}${SEP}\d{4}`,
    String.raw`|1?[2-9]\d{2}[2-9]\d{6}`,
    // National numbers with a trunk 0 (UK 020 / 07xxx, FR 06 12 .., DE 030 .., KR 010 / 02, JP 03 ..):
    // separated groups, "(0xx)" area codes, or 10-11 digits written together.
    String.raw`|0\d{1,4}(?:${SEP}\d{2,4}){1,4}`,
    String.raw`|\(0\d{1,4}\)${SEP}?\d{3,4}(?:${SEP}\d{2,4}){1,2}`,
    String.raw`|0[1-9]\d{8,9}`,
    // Mainland China mobiles: 1[3-9]X, eleven digits, written together or as 3-4-4.
    String.raw`|1[3-9]\d(?:${SEP}?\d{4}){2}`,
    // KR mobile (010/011/016-019) with separators optional between any groups ("010-12345678").
    String.raw`|01[016789]${SEP}?\d{3,4}${SEP}?\d{4}`,
    String.raw`)(?![\w\-]|\.\d)`,
  ].join(''),
  'g',
);

/**
 * A number right after a word that says it is one ("phone", "tel", "WhatsApp", "전화", "móvil", ...):
 * any 7-15 digits in groups, whatever the national format. Bounded gaps keep it linear.
 */
const CUED_PHONE = new RegExp(
  String.raw`(?<!\p{L})(?:phone|tel|telephone|mobile|cell|whatsapp|signal|sms|fax|call me|text me|contact number|tel\u00e9fono|telefono|m\u00f3vil|celular|telefon|handy|t\u00e9l\u00e9phone|portable|\uc804\ud654|\ud734\ub300\ud3f0|\ud578\ub4dc\ud3f0|\uc5f0\ub77d\ucc98|\ubc88\ud638)[^0-9+\n]{0,16}((?:\+|\b)\d(?:${SEP}?\(?\d\)?){6,16})(?![\w\-]|\.\d)`,
  'giu',
);

const MAX_E164_DIGITS = 15;
const MIN_INTERNATIONAL_DIGITS = 8;
const MIN_NATIONAL_DIGITS = 9;
const MAX_NATIONAL_DIGITS = 12;
const MIN_CUED_DIGITS = 7;

function findPhones(text: string, out: Raw[]): void {
  PHONE.lastIndex = 0;
  for (let m = PHONE.exec(text); m !== null; m = PHONE.exec(text)) {
    let value = m[0];
    const first = value.charCodeAt(0);
    const international = first === 0x2b /* + */ || value.startsWith('00');
    if (international) {
      const prefixDigits = first === 0x2b ? 0 : 2;
      // Trailing groups can belong to the next number ("+82 10 1234 5678 2024"): drop whole groups
      // until the E.164 maximum holds, then require a plausible minimum.
      while (countDigits(value) - prefixDigits > MAX_E164_DIGITS) {
        const cut = lastSeparator(value);
        if (cut <= 0) break;
        value = value.slice(0, cut);
      }
      const digits = countDigits(value) - prefixDigits;
      if (digits < MIN_INTERNATIONAL_DIGITS || digits > MAX_E164_DIGITS) continue;
    } else if (first === 0x30 /* 0 */ || (first === 0x28 /* ( */ && value.charCodeAt(1) === 0x30)) {
      // A trunk-0 national number: its digit count is what tells it from a date or a version.
      const digits = countDigits(value);
      if (digits < MIN_NATIONAL_DIGITS || digits > MAX_NATIONAL_DIGITS) continue;
    }
    out.push({ type: PATTERN_PII_TYPES.phone, start: m.index, end: m.index + value.length, score: FORMAT_SCORE });
  }
  CUED_PHONE.lastIndex = 0;
  for (let m = CUED_PHONE.exec(text); m !== null; m = CUED_PHONE.exec(text)) {
    const number = m[1] ?? '';
    const digits = countDigits(number);
    if (digits < MIN_CUED_DIGITS || digits > MAX_E164_DIGITS) continue;
    const end = m.index + m[0].length;
    out.push({ type: PATTERN_PII_TYPES.phone, start: end - number.length, end, score: FORMAT_SCORE });
  }
}

/** Index of the last separator in a matched number, where a trailing group can be cut off. */
function lastSeparator(value: string): number {
  return Math.max(value.lastIndexOf(' '), value.lastIndexOf('-'), value.lastIndexOf('.'), value.lastIndexOf('\n'), value.lastIndexOf('\t'));
}

// --- payment cards ---------------------------------------------------------------------------------

/**
 * A maximal run of at least 13 digits joined by single separators (up to three spaces, tabs or line
 * breaks, a dash or a dot). Each repetition consumes exactly one digit, so a run can be matched only one way; runs too
 * short for a card fail after at most 13 steps without allocating a match (most numbers in prose are
 * short).
 */
const DIGIT_RUN = /\d(?:(?:[ \t\r\n]{1,3}|[.-])?\d){12,}/g;
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

    // Irregular grouping ("41111111 1111 1111", a zero-width character removed from between two
    // groups): a whole whitespace-separated run of 13-19 digits that holds a valid card number is one.
    const allDigits = value.replace(/\D/g, '');
    const first = allDigits.charCodeAt(0);
    // Whitespace-separated runs only: dashed digit groups of this shape are ids (the digits-only head
    // of a UUID), not cards.
    const spaced = !value.includes('-') && !value.includes('.');
    if (spaced && allDigits.length >= 13 && allDigits.length <= 19 && first >= 0x32 && first <= 0x36 && groups.length > 1 && luhnValid(allDigits)) {
      out.push({ type: PATTERN_PII_TYPES.card, start: runStart, end: runStart + value.length, score: CHECKSUM_SCORE });
      continue;
    }
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

  const separator = separatorClass(value.charCodeAt(first.end));
  let digits = value.slice(first.start, first.end);
  let best: { start: number; end: number; nextGroup: number } | undefined;
  for (let j = i + 1; j < groups.length; j += 1) {
    const group = groups[j];
    if (group === undefined) break;
    const length = group.end - group.start;
    if (length < 3 || length > 6 || separatorClass(value.charCodeAt(group.start - 1)) !== separator) break;
    digits += value.slice(group.start, group.end);
    if (digits.length > 19) break;
    if (digits.length >= 13 && luhnValid(digits)) best = { start: first.start, end: group.end, nextGroup: j + 1 };
  }
  return best;
}

/** Groups of one card share a separator: whitespace of any kind (a line break included), a dash, or a dot. */
function separatorClass(unit: number): 'space' | 'dash' | 'dot' | 'other' {
  if (unit === 0x20 || unit === 0x09 || unit === 0x0a || unit === 0x0d) return 'space';
  if (unit === 0x2d) return 'dash';
  if (unit === 0x2e) return 'dot';
  return 'other';
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

/**
 * Country, check digits, then groups of four (optionally separated by a dash, a dot, or up to three
 * spaces, tabs or line breaks) and a short last group; any case (producers lower-case them, "de89 3704 ...").
 */
const IBAN = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:(?:[ \t\r\n]{1,3}|[.-])?[A-Za-z0-9]{4}){2,7}(?:(?:[ \t\r\n]{1,3}|[.-])?[A-Za-z0-9]{1,4})?(?![A-Za-z0-9])/g;
const MIN_IBAN_LENGTH = 15;
const MAX_IBAN_LENGTH = 34;
/**
 * IBAN length by country (ISO 13616 registry). Used only for candidates not written in capitals: a
 * lower-case token of the right shape is as often a hash or an id, and mod-97 alone would take one
 * in 97 of those for an IBAN. Capitalised candidates need only mod-97, so a country missing here is
 * never a silent miss for the usual spelling.
 */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28,
  LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24,
  SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

function findIbans(text: string, out: Raw[]): void {
  IBAN.lastIndex = 0;
  for (let m = IBAN.exec(text); m !== null; m = IBAN.exec(text)) {
    let value = m[0];
    // A following word of 1-4 capitals/digits can be swallowed as the last group: retry without
    // trailing groups before giving up.
    for (;;) {
      if (ibanCandidateValid(value)) {
        out.push({ type: PATTERN_PII_TYPES.iban, start: m.index, end: m.index + value.length, score: CHECKSUM_SCORE });
        break;
      }
      const cut = lastSeparator(value);
      if (cut <= 4) break;
      value = value.slice(0, cut);
    }
  }
}

/**
 * An IBAN as people write it: grouped uniformly (groups of four with one kind of separator, the last
 * shorter) or not at all; the country's registered length where the table has the country (always
 * for a candidate not in capitals); mod-97. Uniform grouping and the length keep UUIDs and hex ids,
 * which share the alphabet, from passing on the one-in-97 chance of mod-97.
 */
function ibanCandidateValid(candidate: string): boolean {
  if (!uniformlyGrouped(candidate)) return false;
  const compact = candidate.replace(/[ \t\r\n.-]/g, '');
  const upper = compact.toUpperCase();
  const registered = IBAN_LENGTHS[upper.slice(0, 2)];
  if (registered !== undefined ? registered !== upper.length : upper !== compact) return false;
  return ibanValid(upper);
}

const IBAN_SEPARATOR = /[ \t\r\n]{1,3}|[.-]/g;

/** True when the candidate has no separators, or groups of four joined by one kind of separator. */
function uniformlyGrouped(candidate: string): boolean {
  const separators = candidate.match(IBAN_SEPARATOR);
  if (separators === null) return true;
  const kind = separatorClass(separators[0]?.charCodeAt(0) ?? 0);
  if (!separators.every((s) => separatorClass(s.charCodeAt(0)) === kind)) return false;
  const groups = candidate.split(IBAN_SEPARATOR);
  return groups.every((group, k) => (k === groups.length - 1 ? group.length >= 1 && group.length <= 4 : group.length === 4));
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

/** `YYMMDD-GNNNNNN`; the separator may be a dash (any width, after the skeleton), a dot, or spaces around either. */
const RRN = /(?<![\w-])(\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:[ \t]{0,3}[-.][ \t]{0,3}|[ \t]{1,3})?([1-8])(\d{6})(?![\w-]|\.\d)/g;
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

/** `AAA-GG-SSSS`, `AAA GG SSSS` or `AAA.GG.SSSS` (the same separator twice). */
const SSN = /(?<![\w.-])(\d{3})([- .])(\d{2})\2(\d{4})(?![\w-]|\.\d)/g;
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
 * Finds structured PII in a skeleton's text (see skeleton.ts). Findings are UTF-16 ranges of that
 * text, sorted by start (then by detection order: e-mail, RRN, SSN, IBAN, card, phone, which the
 * masker uses to name a span two patterns found with the same length). Overlapping findings of
 * different types are all returned; the masker merges them.
 */
export function findPatternPii(skeletonText: string): SkeletonEntity[] {
  const raw: Raw[] = [];
  findEmails(skeletonText, raw);
  // Every other type contains digits; most sentences do not.
  if (ANY_DIGIT.test(skeletonText)) {
    findRrns(skeletonText, raw);
    findSsns(skeletonText, raw);
    findIbans(skeletonText, raw);
    findCards(skeletonText, raw);
    findPhones(skeletonText, raw);
  }
  // Most texts hold nothing: no sorting, filtering or mapping of an empty list.
  if (raw.length === 0) return [];
  raw.sort((a, b) => a.start - b.start);
  // Two rules can find the same number (a cued phone that is also well-formed): report it once.
  const unique = raw.filter((r, k) => {
    const previous = raw[k - 1];
    return previous === undefined || previous.start !== r.start || previous.end !== r.end || previous.type !== r.type;
  });
  return unique.map((r) => ({ type: r.type, beginOffset: r.start, endOffset: r.end, score: r.score }));
}

/**
 * Finds structured PII in one text, read through its skeleton, so full-width digits, invisible
 * characters, look-alike letters and escapes hide nothing. Offsets are code points of the original
 * text, end exclusive (Comprehend's convention), sorted by start.
 */
export function detectPatternPii(text: string): PiiEntity[] {
  const skeleton = buildSkeleton(text);
  const found = findPatternPii(skeleton.text);
  return found.length === 0 ? [] : entitiesInOriginal(skeleton, found, 'utf16');
}
