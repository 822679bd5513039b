/**
 * The detection skeleton of a text: what every PII detector reads instead of the raw text, with an
 * exact map back to the original, so a mask always lands on the characters the producer wrote.
 *
 * Personal data hides from a literal-minded detector in a handful of ways, each a class rather than an
 * example, and each undone here:
 *
 * - **compatibility forms**: full-width digits and letters (`０１０`, `＠`), ligatures, circled and
 *   mathematical forms: NFKC, one code point at a time (so offsets stay attributable);
 * - **digits of other scripts** (Arabic-Indic, Devanagari, ...): their ASCII value;
 * - **invisible characters**: zero-width and other format characters, bidi controls, variation
 *   selectors, combining marks, control characters, NUL and lone surrogates are dropped;
 * - **look-alike letters**: Cyrillic and Greek letters that render as Latin ones (`exаmple.com` with a
 *   Cyrillic `а`) are folded to the Latin letter;
 * - **separators**: every Unicode space (NBSP, narrow NBSP, ideographic space, ...) becomes a space
 *   (detectors accept a few spaces, tabs or line breaks between digit groups); dash look-alikes (U+2010-U+2015, minus
 *   sign, full-width hyphen) become `-`; dot look-alikes (ideographic full stop, middle dot) become `.`;
 * - **escapes**: HTML character references (`&#64;`, `&#x40;`, `&commat;`), percent-encoding
 *   (`john%40example.com` in a query string, UTF-8 sequences included) and backslash escapes
 *   (`\u0040`, `\x40`, `\u{40}`, and JSON's `\n`, `\t`, `\"`, ..., however many times the backslash was
 *   doubled by nested JSON encoding) are decoded.
 *
 * Spelled-out forms ("john dot smith at example dot com") are left to the e-mail finder, which knows
 * where an `at` can be an `@`.
 *
 * The skeleton is the original with a sorted list of edits applied (a replaced stretch, or a dropped
 * one). A text of printable ASCII without `&`, `%` or `\` has no edits and is its own skeleton, which
 * is the common case and costs one regex scan. Detectors report UTF-16 ranges of the skeleton;
 * `originalRange` maps them back: a range covers every original character that produced it, plus any
 * combining marks that follow its last character (they belong to that character).
 */
import type { PiiEntity } from '../../shared/ports';
import { codePointOffsetsToUtf16, hasSurrogates, isWhitespaceUnit, utf16OffsetsToCodePoints } from './unicode';

/** One stretch of the original replaced in the skeleton (an empty replacement drops it). */
interface Edit {
  /** Original UTF-16 range. */
  readonly oStart: number;
  readonly oEnd: number;
  /** Skeleton UTF-16 range of the replacement. */
  readonly sStart: number;
  readonly sEnd: number;
}

/** A text as detectors see it, and the way back to the original. */
export interface Skeleton {
  readonly original: string;
  /** The normalised text the detectors read. */
  readonly text: string;
  /** Sorted by position; empty when `text === original`. */
  readonly edits: readonly Edit[];
}

/**
 * Everything that can start an edit: an HTML character reference, a run of percent-encoded bytes, a
 * backslash escape, or a run of characters outside printable ASCII and ASCII whitespace (processed
 * code point by code point).
 */
const SPECIAL =
  /&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});|(?:%[0-9A-Fa-f]{2})+|\\+(?:u\{[0-9A-Fa-f]{1,6}\}|u[0-9A-Fa-f]{4}(?:\\+u[0-9A-Fa-f]{4})?|x[0-9A-Fa-f]{2}|[nrtbf"/])|[^\t\n\r\x20-\x7e]+/g;
/**
 * Quick test: a text made only of characters SPECIAL cannot start with is its own skeleton. Anchored,
 * so the engine makes one tight scan instead of a search from every position.
 */
const ONLY_PLAIN = /^[\t\n\r\x20-\x24\x27-\x5b\x5d-\x7e]*$/;

/** Named references worth decoding: the ones used to write an address or a number without its symbols. */
const NAMED_REFERENCES: Readonly<Record<string, string>> = {
  commat: '@',
  period: '.',
  plus: '+',
  hyphen: '-',
  dash: '-',
  minus: '-',
  nbsp: ' ',
  num: '#',
  colon: ':',
  lpar: '(',
  rpar: ')',
  lowbar: '_',
  amp: '&',
  percnt: '%',
  sol: '/',
};

/** Cyrillic, Greek and other letters that render like a Latin letter, folded to that letter. */
const CONFUSABLES: Readonly<Record<string, string>> = Object.fromEntries(
  [
    // Cyrillic lower and upper case
    'аa', 'вb', 'еe', 'ёe', 'һh', 'іi', 'їi', 'јj', 'кk', 'ӏl', 'мm', 'нh', 'оo', 'рp', 'сc', 'ѕs', 'тt', 'уy', 'хx', 'ԁd', 'ԛq', 'ԝw', 'ɡg', 'ʏy',
    'АA', 'ВB', 'ЕE', 'ЁE', 'ЅS', 'ІI', 'ЇI', 'ЈJ', 'КK', 'МM', 'НH', 'ОO', 'РP', 'СC', 'ТT', 'УY', 'ХX', 'ԌG', 'ԚQ', 'ԜW', 'Ӏl',
    // Greek lower and upper case
    'αa', 'βb', 'γy', 'εe', 'ιi', 'κk', 'νv', 'οo', 'ρp', 'τt', 'υu', 'χx', 'ωw', 'ϲc', 'ϳj',
    'ΑA', 'ΒB', 'ΕE', 'ΖZ', 'ΗH', 'ΙI', 'ΚK', 'ΜM', 'ΝN', 'ΟO', 'ΡP', 'ΤT', 'ΥY', 'ΧX', 'ϹC',
    // Armenian and Latin look-alikes that NFKC leaves alone
    'օo', 'սu', 'ցg', 'հh', 'ıi', 'ȷj', 'ɑa', 'ɩi', 'ɪi', 'ʟl', 'ᴏo', 'ᴄc', 'ᴜu', 'ᴠv', 'ᴡw', 'ᴢz',
  ].map((pair) => [pair.slice(0, 1), pair.slice(1)]),
);

/** Dash look-alikes (hyphen, non-breaking hyphen, figure dash, en/em dash, bar, minus sign, ...). */
function isDashLike(cp: number): boolean {
  return (cp >= 0x2010 && cp <= 0x2015) || cp === 0x2212 || cp === 0x2043 || cp === 0xfe58 || cp === 0xfe63 || cp === 0xff0d || cp === 0x2e3a || cp === 0x2e3b;
}

/** Dot look-alikes used between domain labels or digit groups (ideographic and half-width full stops, middle dots). */
function isDotLike(cp: number): boolean {
  return cp === 0x3002 || cp === 0xff61 || cp === 0xff0e || cp === 0x00b7 || cp === 0x2027 || cp === 0x30fb || cp === 0x2024 || cp === 0xfe52;
}

/** Scripts and blocks that NFKC, the digit rule and the look-alike table all leave unchanged: no edit needed. */
function isStable(cp: number): boolean {
  return (
    (cp >= 0xac00 && cp <= 0xd7a3) || // Hangul syllables
    (cp >= 0x4e00 && cp <= 0x9fff) || // CJK unified ideographs
    (cp >= 0x3041 && cp <= 0x3096) || // Hiragana
    (cp >= 0x30a1 && cp <= 0x30fa) || // Katakana
    // Latin-1 letters and Latin Extended-A, less the ligatures NFKC splits and the dotless i.
    (cp >= 0x00c0 && cp <= 0x017e && cp !== 0x00d7 && cp !== 0x00f7 && cp !== 0x0131 && cp !== 0x0132 && cp !== 0x0133 && cp !== 0x013f && cp !== 0x0140 && cp !== 0x0149)
  );
}

const DROPPED = /^[\p{Cf}\p{Cc}\p{Mn}\p{Me}\p{Cs}]$/u;
const DECIMAL_DIGIT = /^\p{Nd}$/u;
const COMBINING = /^[\p{Mn}\p{Me}]$/u;

/** Per-code-point folds, cached: real texts reuse a small alphabet. Bounded so hostile input cannot grow it. */
const foldCache = new Map<number, string>();
const MAX_CACHED_FOLDS = 20_000;

/** The value 0-9 of a decimal digit of any script (Unicode keeps each script's digits contiguous and in order). */
function digitValue(cp: number): number {
  let value = 0;
  while (value < 9 && DECIMAL_DIGIT.test(String.fromCodePoint(cp - value - 1))) value += 1;
  return value;
}

/** What one character becomes in the skeleton: itself, a replacement, or '' (dropped). */
function foldCodePoint(cp: number): string {
  if (cp < 0x80) {
    if (cp === 0x09 || cp === 0x0a || cp === 0x0d || cp === 0x20) return String.fromCharCode(cp);
    if (cp === 0x0b || cp === 0x0c) return ' ';
    if (cp < 0x20 || cp === 0x7f) return '';
    return String.fromCharCode(cp);
  }
  if (isStable(cp)) return String.fromCodePoint(cp);
  const cached = foldCache.get(cp);
  if (cached !== undefined) return cached;
  const folded = computeFold(cp);
  if (foldCache.size < MAX_CACHED_FOLDS) foldCache.set(cp, folded);
  return folded;
}

function computeFold(cp: number): string {
  // Lone surrogates reach here as themselves; they are invalid text and hide what surrounds them.
  if (cp >= 0xd800 && cp <= 0xdfff) return '';
  if (isWhitespaceUnit(cp) || cp === 0x180e) return ' ';
  const char = String.fromCodePoint(cp);
  if (DROPPED.test(char)) return '';
  let out = '';
  for (const c of char.normalize('NFKC')) {
    const code = c.codePointAt(0) ?? 0;
    if (DROPPED.test(c)) continue;
    if (code >= 0x80 && DECIMAL_DIGIT.test(c)) out += String(digitValue(code));
    else if (isDashLike(code)) out += '-';
    else if (isDotLike(code)) out += '.';
    else if (code >= 0x80 && isWhitespaceUnit(code)) out += ' ';
    else out += CONFUSABLES[c] ?? c;
  }
  return out;
}

/** Folds every code point of a decoded stretch (an escape may decode to a full-width `＠`). */
function foldString(text: string): string {
  let out = '';
  for (const c of text) out += foldCodePoint(c.codePointAt(0) ?? 0);
  return out;
}

const utf8Lenient = new TextDecoder('utf-8');

/**
 * JSON's one-letter escapes, as they appear in tool payloads kept as JSON text: a line break written
 * `\n` still separates the groups of a number, so it reads as whitespace.
 */
const JSON_SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: ' ', r: ' ', t: ' ', b: ' ', f: ' ', '"': '"', '/': '/' };

/** The decoded text of one SPECIAL match that is an escape, or undefined when it is not one. */
function decodeEscape(match: string): string | undefined {
  const first = match.charCodeAt(0);
  if (first === 0x26 /* & */) {
    const body = match.slice(1, -1);
    if (body.startsWith('#x') || body.startsWith('#X')) return codePointText(Number.parseInt(body.slice(2), 16));
    if (body.startsWith('#')) return codePointText(Number.parseInt(body.slice(1), 10));
    return NAMED_REFERENCES[body.toLowerCase()];
  }
  if (first === 0x25 /* % */) {
    const bytes = new Uint8Array(match.length / 3);
    for (let k = 0; k < bytes.length; k += 1) bytes[k] = Number.parseInt(match.slice(3 * k + 1, 3 * k + 3), 16);
    return utf8Lenient.decode(bytes);
  }
  if (first === 0x5c /* \ */) {
    // Text that was JSON-encoded more than once doubles its backslashes: `\\u0040` is still an `@`.
    const escape = match.replace(/^\\+/, '\\');
    const simple = JSON_SIMPLE_ESCAPES[escape.charAt(1)];
    if (simple !== undefined) return simple;
    if (escape.startsWith('\\u{')) return codePointText(Number.parseInt(escape.slice(3, -1), 16));
    if (escape.startsWith('\\x')) return codePointText(Number.parseInt(escape.slice(2), 16));
    // \uXXXX, or a surrogate pair written as two escapes.
    const units = escape.split(/\\+u/).filter((u) => u !== '').map((u) => Number.parseInt(u, 16));
    return String.fromCharCode(...units);
  }
  return undefined;
}

function codePointText(cp: number): string | undefined {
  return Number.isInteger(cp) && cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined;
}

/** The edits of a text that is its own skeleton: one shared, frozen empty list (nothing appends to it). */
const NO_EDITS: readonly Edit[] = Object.freeze([]);

/** Builds the skeleton of a text (see the module comment). Linear in the text's length. */
export function buildSkeleton(original: string): Skeleton {
  if (ONLY_PLAIN.test(original)) return { original, text: original, edits: NO_EDITS };
  const edits: Edit[] = [];
  const parts: string[] = [];
  let cursor = 0; // original index up to which the text has been copied or edited
  let length = 0; // skeleton length so far
  const edit = (oStart: number, oEnd: number, replacement: string): void => {
    if (oStart > cursor) {
      parts.push(original.slice(cursor, oStart));
      length += oStart - cursor;
    }
    parts.push(replacement);
    edits.push({ oStart, oEnd, sStart: length, sEnd: length + replacement.length });
    length += replacement.length;
    cursor = oEnd;
  };

  SPECIAL.lastIndex = 0;
  for (let m = SPECIAL.exec(original); m !== null; m = SPECIAL.exec(original)) {
    const start = m.index;
    const match = m[0];
    const first = match.charCodeAt(0);
    if (first === 0x26 || first === 0x25 || first === 0x5c) {
      const decoded = decodeEscape(match);
      if (decoded !== undefined) edit(start, start + match.length, foldString(decoded));
      else SPECIAL.lastIndex = start + 1; // not an escape we know: let its tail be scanned on its own
      continue;
    }
    // A run of other characters: fold each code point, editing only those that change.
    let i = start;
    const end = start + match.length;
    while (i < end) {
      const cp = original.codePointAt(i) ?? 0;
      const units = cp > 0xffff ? 2 : 1;
      const folded = foldCodePoint(cp);
      const same = folded.length === units && (units === 1 ? folded.charCodeAt(0) === cp : folded === original.slice(i, i + 2));
      if (!same) {
        // A space next to a previous space edit (NBSP after a newline, say) joins it: one separator.
        const previous = edits[edits.length - 1];
        if (folded === ' ' && previous !== undefined && previous.oEnd === i && parts[parts.length - 1] === ' ') {
          edits[edits.length - 1] = { ...previous, oEnd: i + units };
          cursor = i + units;
        } else edit(i, i + units, folded);
      }
      i += units;
    }
  }
  if (edits.length === 0) return { original, text: original, edits };
  if (cursor < original.length) parts.push(original.slice(cursor));
  return { original, text: parts.join(''), edits };
}

/**
 * The last edit that starts at or before skeleton unit `k` (binary search). A drop at `k` precedes the
 * unit; a replacement starting at `k` contains it.
 */
function editAtOrBefore(edits: readonly Edit[], k: number): Edit | undefined {
  let lo = 0;
  let hi = edits.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((edits[mid]?.sStart ?? Number.POSITIVE_INFINITY) <= k) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : edits[lo - 1];
}

/** The original UTF-16 range of the skeleton unit `k`. */
function originalOfUnit(skeleton: Skeleton, k: number): { start: number; end: number } {
  const e = editAtOrBefore(skeleton.edits, k);
  if (e === undefined) return { start: k, end: k + 1 };
  if (k >= e.sStart && k < e.sEnd) return { start: e.oStart, end: e.oEnd };
  const at = e.oEnd + (k - e.sEnd);
  return { start: at, end: at + 1 };
}

/**
 * The original UTF-16 range `[start, end)` that produced the skeleton range `[sStart, sEnd)`,
 * extended over combining marks that follow it. An empty range maps to an empty range.
 */
export function originalRange(skeleton: Skeleton, sStart: number, sEnd: number): { start: number; end: number } {
  if (skeleton.edits.length === 0) return { start: sStart, end: sEnd };
  if (sEnd <= sStart) {
    const at = originalOfUnit(skeleton, sStart).start;
    return { start: at, end: at };
  }
  const start = originalOfUnit(skeleton, sStart).start;
  let end = originalOfUnit(skeleton, sEnd - 1).end;
  const text = skeleton.original;
  while (end < text.length) {
    const cp = text.codePointAt(end) ?? 0;
    if (!COMBINING.test(String.fromCodePoint(cp)) && !(cp >= 0xfe00 && cp <= 0xfe0f)) break;
    end += cp > 0xffff ? 2 : 1;
  }
  return { start, end: Math.max(end, start) };
}

/** An entity found in a skeleton's text; its offsets are in the units the caller names. */
export type SkeletonEntity = PiiEntity;

/**
 * Maps entities found in the skeleton's text (UTF-16 indices, or code points as Comprehend reports
 * them) to code-point entities of the original text, sorted by start. Entities that map to nothing
 * (an empty range) are dropped.
 */
export function entitiesInOriginal(skeleton: Skeleton, entities: readonly SkeletonEntity[], units: 'utf16' | 'codePoints'): PiiEntity[] {
  if (entities.length === 0) return [];
  let utf16 = entities;
  if (units === 'codePoints' && hasSurrogates(skeleton.text)) {
    const boundaries = [...new Set(entities.flatMap((e) => [e.beginOffset, e.endOffset]))].sort((a, b) => a - b);
    const converted = codePointOffsetsToUtf16(skeleton.text, boundaries);
    const toUnit = new Map<number, number>();
    boundaries.forEach((b, k) => toUnit.set(b, converted[k] ?? skeleton.text.length));
    utf16 = entities.map((e) => ({ ...e, beginOffset: toUnit.get(e.beginOffset) ?? e.beginOffset, endOffset: toUnit.get(e.endOffset) ?? e.endOffset }));
  }
  const mapped: PiiEntity[] = [];
  for (const e of utf16) {
    const begin = Math.max(0, Math.min(e.beginOffset, skeleton.text.length));
    const end = Math.max(begin, Math.min(e.endOffset, skeleton.text.length));
    if (end === begin) continue;
    const range = originalRange(skeleton, begin, end);
    if (range.end > range.start) mapped.push({ type: e.type, beginOffset: range.start, endOffset: range.end, score: e.score });
  }
  mapped.sort((a, b) => a.beginOffset - b.beginOffset);
  const original = skeleton.original;
  if (!hasSurrogates(original)) return mapped;
  // Original UTF-16 indices to code points in one walk: sort all boundaries, convert, look up.
  const boundaries = [...new Set(mapped.flatMap((e) => [e.beginOffset, e.endOffset]))].sort((a, b) => a - b);
  const converted = utf16OffsetsToCodePoints(original, boundaries);
  const toCodePoint = new Map<number, number>();
  boundaries.forEach((b, k) => toCodePoint.set(b, converted[k] ?? b));
  return mapped.map((e) => ({ ...e, beginOffset: toCodePoint.get(e.beginOffset) ?? e.beginOffset, endOffset: toCodePoint.get(e.endOffset) ?? e.endOffset }));
}
