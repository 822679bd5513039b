/**
 * Replaces PII spans in a text with `[TYPE]` placeholders (`[EMAIL]`, `[NAME]`, ...). Pure.
 *
 * Spans use Comprehend's convention: code-point offsets, end exclusive. Spans from several sources
 * (Comprehend, the pattern detector, the duplicate findings of a split overlap) are merged first:
 *
 * - Spans that overlap or touch (`next.begin <= current.end`) become one span covering both, so a
 *   placeholder never sits next to a fragment of the same secret and a value is never masked twice.
 * - **Merge rule:** the merged span takes the type of its longest constituent; on equal length the
 *   one that starts first, then the one listed first. The longest finding is the one that best
 *   describes what the whole masked stretch was (e.g. an ADDRESS that contains a PHONE).
 *
 * Out-of-range offsets are clamped to the text rather than rejected: masking a little more is the
 * safe direction, and offsets are validated where they enter (packer.mapPackEntities).
 */
import { codePointLength, codePointOffsetsToUtf16 } from './unicode';

/** A stretch of text to mask: code-point offsets, `endOffset` exclusive. */
export interface MaskSpan {
  readonly type: string;
  readonly beginOffset: number;
  readonly endOffset: number;
}

/** The masked text and how many placeholders were written. */
export interface MaskResult {
  readonly text: string;
  readonly masked: number;
}

interface Ranked {
  readonly type: string;
  readonly begin: number;
  readonly end: number;
  readonly order: number;
}

/**
 * Merges overlapping and adjacent spans (see the module comment for the type rule). Empty spans
 * are dropped; offsets are clamped to `[0, limit]` when a limit is given. The result is sorted and
 * non-overlapping.
 */
export function mergeSpans(spans: readonly MaskSpan[], limit = Number.POSITIVE_INFINITY): MaskSpan[] {
  const ranked: Ranked[] = [];
  spans.forEach((span, order) => {
    const begin = Math.max(0, Math.min(span.beginOffset, limit));
    const end = Math.max(0, Math.min(span.endOffset, limit));
    if (end > begin) ranked.push({ type: span.type, begin, end, order });
  });
  ranked.sort((a, b) => a.begin - b.begin || b.end - a.end || a.order - b.order);

  const merged: MaskSpan[] = [];
  let current: { begin: number; end: number; best: Ranked } | undefined;
  for (const span of ranked) {
    if (current !== undefined && span.begin <= current.end) {
      current.end = Math.max(current.end, span.end);
      if (outranks(span, current.best)) current.best = span;
      continue;
    }
    if (current !== undefined) merged.push({ type: current.best.type, beginOffset: current.begin, endOffset: current.end });
    current = { begin: span.begin, end: span.end, best: span };
  }
  if (current !== undefined) merged.push({ type: current.best.type, beginOffset: current.begin, endOffset: current.end });
  return merged;
}

/** Longer wins; on a tie, the earlier start, then the earlier listed. */
function outranks(candidate: Ranked, best: Ranked): boolean {
  const lengthDiff = candidate.end - candidate.begin - (best.end - best.begin);
  if (lengthDiff !== 0) return lengthDiff > 0;
  if (candidate.begin !== best.begin) return candidate.begin < best.begin;
  return candidate.order < best.order;
}

/** The placeholder written for a span of this type. */
export function placeholder(type: string): string {
  return `[${type}]`;
}

/**
 * Masks the spans in the text. Returns the text unchanged (and `masked: 0`) when there is nothing
 * to mask.
 */
export function maskText(text: string, spans: readonly MaskSpan[]): MaskResult {
  if (spans.length === 0 || text.length === 0) return { text, masked: 0 };
  const merged = mergeSpans(spans, codePointLength(text));
  if (merged.length === 0) return { text, masked: 0 };

  const offsets: number[] = [];
  for (const span of merged) offsets.push(span.beginOffset, span.endOffset);
  const units = codePointOffsetsToUtf16(text, offsets);

  const parts: string[] = [];
  let cursor = 0;
  merged.forEach((span, k) => {
    const start = units[2 * k] ?? text.length;
    const end = units[2 * k + 1] ?? text.length;
    parts.push(text.slice(cursor, start), placeholder(span.type));
    cursor = end;
  });
  parts.push(text.slice(cursor));
  return { text: parts.join(''), masked: merged.length };
}
