/**
 * Offset arithmetic between the three ways the PII path measures text:
 *
 * - JS strings index UTF-16 code units (an astral character such as an emoji is 2 units);
 * - Amazon Comprehend reports entity offsets in Unicode code points (any character is 1);
 * - Comprehend's size limit counts UTF-8 bytes (Hangul is 3 bytes, an emoji 4).
 *
 * A lone surrogate (invalid UTF-16, which a JS string can hold) counts as one code point and as the
 * 3 bytes of U+FFFD, exactly as `Buffer.byteLength` counts it; the packer replaces it with U+FFFD
 * before sending, so what Comprehend counts and what we count agree.
 *
 * Everything here walks the string once and allocates nothing proportional to its size.
 */

/** True for a UTF-16 high (leading) surrogate. */
export function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** True for a UTF-16 low (trailing) surrogate. */
export function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

const ANY_SURROGATE = /[\uD800-\uDFFF]/;

/**
 * True when the text holds any surrogate code unit. Without one, UTF-16 indices and code-point
 * offsets are identical and every conversion below can be skipped (the common case for en/es/ko text).
 */
export function hasSurrogates(text: string): boolean {
  return ANY_SURROGATE.test(text);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces each lone surrogate with U+FFFD. Both are one code point, one UTF-16 unit and 3 UTF-8
 * bytes, so every offset and byte count stays valid; what changes is that the text becomes valid
 * Unicode, so the service cannot count it differently from us.
 */
export function toWellFormed(text: string): string {
  return hasSurrogates(text) ? text.replace(LONE_SURROGATE, '\uFFFD') : text;
}

/**
 * The number of UTF-16 units (1 or 2) of the code point that starts at `index`.
 * A lone surrogate is one unit (and one code point).
 */
export function codePointUnits(text: string, index: number): 1 | 2 {
  const unit = text.charCodeAt(index);
  if (isHighSurrogate(unit) && index + 1 < text.length && isLowSurrogate(text.charCodeAt(index + 1))) return 2;
  return 1;
}

/** UTF-8 bytes of the code point that starts at `index` (a lone surrogate: 3, as U+FFFD). */
export function codePointBytes(text: string, index: number): 1 | 2 | 3 | 4 {
  const unit = text.charCodeAt(index);
  if (unit < 0x80) return 1;
  if (unit < 0x800) return 2;
  if (isHighSurrogate(unit) && index + 1 < text.length && isLowSurrogate(text.charCodeAt(index + 1))) return 4;
  return 3;
}

/** Number of code points in the text (what Comprehend counts as its length). */
export function codePointLength(text: string): number {
  if (!hasSurrogates(text)) return text.length;
  let count = 0;
  for (let i = 0; i < text.length; i += codePointUnits(text, i)) count += 1;
  return count;
}

/** UTF-8 size of the text in bytes, without encoding it. */
export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Converts ascending code-point offsets to UTF-16 indices in one forward walk. Offsets past the end
 * map to `text.length`. The input must be sorted ascending (callers sort their spans first).
 */
export function codePointOffsetsToUtf16(text: string, sortedOffsets: readonly number[]): number[] {
  if (!hasSurrogates(text)) return sortedOffsets.map((o) => Math.min(Math.max(o, 0), text.length));
  const result: number[] = new Array<number>(sortedOffsets.length);
  let unitIndex = 0;
  let cpIndex = 0;
  for (let k = 0; k < sortedOffsets.length; k += 1) {
    const target = Math.max(sortedOffsets[k] ?? 0, 0);
    while (cpIndex < target && unitIndex < text.length) {
      unitIndex += codePointUnits(text, unitIndex);
      cpIndex += 1;
    }
    result[k] = unitIndex;
  }
  return result;
}

/**
 * Converts ascending UTF-16 indices to code-point offsets in one forward walk. An index that falls
 * between the two halves of a surrogate pair maps to the pair's code point (regex matches never
 * start or end there, but the conversion stays total).
 */
export function utf16OffsetsToCodePoints(text: string, sortedIndices: readonly number[]): number[] {
  if (!hasSurrogates(text)) return sortedIndices.slice();
  const result: number[] = new Array<number>(sortedIndices.length);
  let unitIndex = 0;
  let cpIndex = 0;
  for (let k = 0; k < sortedIndices.length; k += 1) {
    const target = sortedIndices[k] ?? 0;
    while (unitIndex < target && unitIndex < text.length) {
      const units = codePointUnits(text, unitIndex);
      if (unitIndex + units > target) break;
      unitIndex += units;
      cpIndex += 1;
    }
    result[k] = cpIndex;
  }
  return result;
}

/**
 * True for the whitespace characters a long text may be split at: ASCII whitespace, NBSP, the
 * Unicode space separators, line/paragraph separators and the ideographic space used in CJK text.
 */
export function isWhitespaceUnit(unit: number): boolean {
  return (
    unit === 0x20 ||
    (unit >= 0x09 && unit <= 0x0d) ||
    unit === 0x85 ||
    unit === 0xa0 ||
    unit === 0x1680 ||
    (unit >= 0x2000 && unit <= 0x200a) ||
    unit === 0x2028 ||
    unit === 0x2029 ||
    unit === 0x202f ||
    unit === 0x205f ||
    unit === 0x3000
  );
}
