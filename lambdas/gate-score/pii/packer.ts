/**
 * Packs many short texts ("segments": the message contents, contexts, outputs and tool payloads of
 * many traces) into as few Amazon Comprehend DetectPiiEntities calls as its size limit allows, and
 * maps the entities found in a pack back onto each segment exactly. Pure: no I/O, no clock.
 *
 * Units (see unicode.ts): the limit is in UTF-8 bytes, Comprehend's offsets are in code points, JS
 * indexes UTF-16 units. Pieces and entities here are always in code points, like Comprehend's.
 *
 * Decisions:
 * - **Separator** `PACK_SEPARATOR` ("\n\n---\n\n") sits between pieces. It is a paragraph break
 *   around a horizontal-rule token that no PII type (name, address, number, e-mail) contains, so
 *   the model ends an entity before it; it is ASCII, so its byte and code-point lengths are equal.
 *   An entity that still crosses it is clipped to each segment it touches, never dropped.
 * - **Order**: pieces are packed next-fit in input order, so one trace's segments stay together
 *   and a failed call discards as few traces as possible. With 2 KB traces this fills packs to
 *   within one trace of the limit (about 49 traces per 100 KB call).
 * - **Oversized segments** (more bytes than one call takes) are split into chunks that each fit,
 *   cut after a whitespace character when one lies in the last quarter of the chunk (and within
 *   `splitSearchCodePoints` of the limit), else at the last code point that fits: never inside a
 *   surrogate pair, and a multi-byte character is never cut because we only ever step by code point.
 * - **Split overlap**: each chunk after the first starts `splitOverlapCodePoints` (default 256)
 *   code points before the previous cut, moved back to a word start when one is near. An entity of
 *   up to that length that straddles a cut is therefore wholly inside the next chunk; the masker
 *   merges the duplicate findings of the overlap. The overlap is capped at a quarter of the limit in
 *   bytes so that every chunk still advances by at least half the limit.
 */
import type { PiiEntity } from '../../shared/ports';
import {
  codePointBytes,
  codePointLength,
  isHighSurrogate,
  isLowSurrogate,
  isWhitespaceUnit,
  toWellFormed,
  utf8ByteLength,
} from './unicode';

/** Placed between two pieces in a pack; see the module comment for why this string. */
export const PACK_SEPARATOR = '\n\n---\n\n';

/** Default overlap between consecutive chunks of a split segment, in code points. */
export const DEFAULT_SPLIT_OVERLAP_CODE_POINTS = 256;

/** Default distance back from the size limit searched for a whitespace to cut at, in code points. */
export const DEFAULT_SPLIT_SEARCH_CODE_POINTS = 1_000;

/** The smallest limit the packer accepts: room for a separator, a few code points and an overlap. */
export const MIN_PACK_BYTES = 32;

/** How texts are packed. */
export interface PackOptions {
  /** Largest pack in UTF-8 bytes, separators included (the detector's `maxTextBytes`). */
  readonly maxBytes: number;
  /**
   * Overlap between consecutive chunks of a segment that is split, in code points.
   * @default DEFAULT_SPLIT_OVERLAP_CODE_POINTS
   */
  readonly splitOverlapCodePoints?: number;
  /**
   * How far back from the limit a whitespace cut point is searched for, in code points.
   * @default DEFAULT_SPLIT_SEARCH_CODE_POINTS
   */
  readonly splitSearchCodePoints?: number;
}

/** One segment's text (or one chunk of it) placed in a pack. All offsets are code points. */
export interface PackPiece {
  /** Index of the segment in the array given to `packSegments`. */
  readonly segment: number;
  /** Where this piece starts in its segment (0 unless the segment was split). */
  readonly segmentStart: number;
  /** Where this piece starts in the pack text. */
  readonly packStart: number;
  /** Length of the piece. */
  readonly length: number;
}

/** The text of one detector call and where each of its pieces came from. */
export interface Pack {
  /**
   * The text to send: the pieces joined by `PACK_SEPARATOR`, lone surrogates replaced by U+FFFD. Joined
   * anew on every read (see `flush`), so read it once per call sent.
   */
  readonly text: string;
  /** UTF-8 size of `text`; never more than `maxBytes`. */
  readonly bytes: number;
  /** Length of `text` in code points. */
  readonly codePoints: number;
  /** The pieces in pack order (ascending `packStart`). */
  readonly pieces: readonly PackPiece[];
  /** The distinct segment indices in this pack, ascending. */
  readonly segments: readonly number[];
}

/** An entity mapped back onto one segment: offsets in that segment's code points, end exclusive. */
export interface SegmentEntity extends PiiEntity {
  readonly segment: number;
}

/** A chunk of a segment that fits the limit. */
export interface TextChunk {
  /** UTF-16 range in the segment, for slicing. */
  readonly start: number;
  readonly end: number;
  /** Code-point offset of the chunk in the segment, and its length in code points. */
  readonly codePointStart: number;
  readonly codePointLength: number;
  /** UTF-8 size of the chunk. */
  readonly bytes: number;
}

const SEPARATOR_BYTES = utf8ByteLength(PACK_SEPARATOR);
const SEPARATOR_CODE_POINTS = codePointLength(PACK_SEPARATOR);

interface PendingPiece {
  readonly segment: number;
  readonly text: string;
  readonly segmentStart: number;
  readonly length: number;
  readonly bytes: number;
}

/**
 * Packs the segments into as few packs as `maxBytes` allows, in input order. Empty segments are
 * skipped (nothing to scan). A segment over the limit is split (see the module comment).
 *
 * @throws RangeError when `maxBytes` is below `MIN_PACK_BYTES` or an option is not a non-negative integer.
 */
export function packSegments(segments: readonly string[], options: PackOptions): Pack[] {
  const { maxBytes } = options;
  const overlap = options.splitOverlapCodePoints ?? DEFAULT_SPLIT_OVERLAP_CODE_POINTS;
  const search = options.splitSearchCodePoints ?? DEFAULT_SPLIT_SEARCH_CODE_POINTS;
  validateOptions(maxBytes, overlap, search);

  const packs: Pack[] = [];
  let parts: string[] = [];
  let pieces: PackPiece[] = [];
  let bytes = 0;
  let codePoints = 0;

  const flush = (): void => {
    if (pieces.length === 0) return;
    const distinct = [...new Set(pieces.map((p) => p.segment))].sort((a, b) => a - b);
    const joined = parts;
    // Joined when the call is sent, not here: a batch plans every pack before the first call, and
    // holding a copy of all its text for the whole scan made each young-generation collection copy
    // megabytes of pack text (a large share of the gate's CPU). The pieces are the segments themselves.
    packs.push({
      get text(): string {
        return joined.join(PACK_SEPARATOR);
      },
      bytes,
      codePoints,
      pieces,
      segments: distinct,
    });
    parts = [];
    pieces = [];
    bytes = 0;
    codePoints = 0;
  };

  const add = (piece: PendingPiece): void => {
    const cost = piece.bytes + (pieces.length > 0 ? SEPARATOR_BYTES : 0);
    if (bytes + cost > maxBytes) flush();
    if (pieces.length > 0) {
      bytes += SEPARATOR_BYTES;
      codePoints += SEPARATOR_CODE_POINTS;
    }
    pieces.push({ segment: piece.segment, segmentStart: piece.segmentStart, packStart: codePoints, length: piece.length });
    parts.push(toWellFormed(piece.text));
    bytes += piece.bytes;
    codePoints += piece.length;
  };

  segments.forEach((text, segment) => {
    if (text.length === 0) return;
    const size = utf8ByteLength(text);
    if (size <= maxBytes) {
      add({ segment, text, segmentStart: 0, length: codePointLength(text), bytes: size });
      return;
    }
    for (const chunk of splitText(text, maxBytes, overlap, search)) {
      add({
        segment,
        text: text.slice(chunk.start, chunk.end),
        segmentStart: chunk.codePointStart,
        length: chunk.codePointLength,
        bytes: chunk.bytes,
      });
    }
  });
  flush();
  return packs;
}

/**
 * Splits a text into chunks of at most `maxBytes` UTF-8 bytes with the cut and overlap rules of the
 * module comment. A text that fits is returned as one chunk. Exported for tests and for callers
 * that scan one long text on its own.
 */
export function splitText(
  text: string,
  maxBytes: number,
  overlapCodePoints: number = DEFAULT_SPLIT_OVERLAP_CODE_POINTS,
  searchCodePoints: number = DEFAULT_SPLIT_SEARCH_CODE_POINTS,
): TextChunk[] {
  validateOptions(maxBytes, overlapCodePoints, searchCodePoints);
  const chunks: TextChunk[] = [];
  const n = text.length;
  // Bytes the next chunk may re-read from the previous one; a quarter keeps every chunk advancing.
  const overlapBudget = Math.floor(maxBytes / 4);
  let start = 0;
  let startCp = 0;
  let previousEnd = 0;

  for (;;) {
    let i = start;
    let cp = startCp;
    let bytes = 0;
    let wsEnd = -1;
    let wsCp = 0;
    let wsBytes = 0;
    while (i < n) {
      const b = codePointBytes(text, i);
      if (bytes + b > maxBytes) break;
      const unit = text.charCodeAt(i);
      bytes += b;
      i += b === 4 ? 2 : 1;
      cp += 1;
      if (isWhitespaceUnit(unit)) {
        wsEnd = i;
        wsCp = cp;
        wsBytes = bytes;
      }
    }
    if (i >= n) {
      chunks.push({ start, end: n, codePointStart: startCp, codePointLength: cp - startCp, bytes });
      return chunks;
    }

    let end = i;
    let endCp = cp;
    let endBytes = bytes;
    const nearLimit = cp - wsCp <= searchCodePoints && wsBytes * 4 >= maxBytes * 3;
    if (wsEnd > previousEnd && nearLimit) {
      end = wsEnd;
      endCp = wsCp;
      endBytes = wsBytes;
    }
    chunks.push({ start, end, codePointStart: startCp, codePointLength: endCp - startCp, bytes: endBytes });

    // Step back `overlapCodePoints` code points from the cut (within the byte budget)...
    let next = end;
    let nextCp = endCp;
    let spent = 0;
    let stepped = 0;
    while (stepped < overlapCodePoints && next > start) {
      const units = unitsBefore(text, next);
      const b = codePointBytes(text, next - units);
      if (spent + b > overlapBudget) break;
      next -= units;
      nextCp -= 1;
      spent += b;
      stepped += 1;
    }
    // ...then, if a word start is near, further back to it, so the chunk does not open mid-word.
    let probe = next;
    let probeCp = nextCp;
    let extra = 0;
    while (extra < overlapCodePoints && probe > start && !isWhitespaceUnit(text.charCodeAt(probe - 1))) {
      const units = unitsBefore(text, probe);
      const b = codePointBytes(text, probe - units);
      if (spent + b > overlapBudget) break;
      probe -= units;
      probeCp -= 1;
      spent += b;
      extra += 1;
    }
    if (probe > start && isWhitespaceUnit(text.charCodeAt(probe - 1))) {
      next = probe;
      nextCp = probeCp;
    }
    if (next <= start) {
      // The limit is too small for any overlap: continue right after the cut.
      next = end;
      nextCp = endCp;
    }
    previousEnd = end;
    start = next;
    startCp = nextCp;
  }
}

/**
 * Maps entities found in a pack's text onto the segments they overlap. An entity that spans a
 * separator (or several pieces) yields one clipped entity per segment piece it touches; the part
 * that lies on a separator only is dropped, as it holds no segment text.
 *
 * @throws RangeError for an entity whose offsets are not integers within the pack: a detector that
 *   answers with offsets we cannot place must fail the pack (fail closed), not mask the wrong text.
 */
export function mapPackEntities(pack: Pack, entities: readonly PiiEntity[]): SegmentEntity[] {
  const mapped: SegmentEntity[] = [];
  const { pieces } = pack;
  for (const entity of entities) {
    const { beginOffset: begin, endOffset: end } = entity;
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > pack.codePoints) {
      throw new RangeError(
        `entity offsets [${String(begin)}, ${String(end)}) are outside the pack of ${pack.codePoints} code points`,
      );
    }
    if (begin === end) continue;
    for (let k = firstPieceEndingAfter(pieces, begin); k < pieces.length; k += 1) {
      const piece = pieces[k];
      if (piece === undefined || piece.packStart >= end) break;
      const clippedBegin = Math.max(begin, piece.packStart);
      const clippedEnd = Math.min(end, piece.packStart + piece.length);
      if (clippedBegin >= clippedEnd) continue;
      mapped.push({
        segment: piece.segment,
        type: entity.type,
        score: entity.score,
        beginOffset: piece.segmentStart + (clippedBegin - piece.packStart),
        endOffset: piece.segmentStart + (clippedEnd - piece.packStart),
      });
    }
  }
  return mapped;
}

/** Binary search: index of the first piece whose end lies after `offset`. */
function firstPieceEndingAfter(pieces: readonly PackPiece[], offset: number): number {
  let lo = 0;
  let hi = pieces.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const piece = pieces[mid];
    if (piece !== undefined && piece.packStart + piece.length <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** UTF-16 units of the code point that ends just before `index` (2 for a surrogate pair). */
function unitsBefore(text: string, index: number): 1 | 2 {
  if (index >= 2 && isLowSurrogate(text.charCodeAt(index - 1)) && isHighSurrogate(text.charCodeAt(index - 2))) return 2;
  return 1;
}

function validateOptions(maxBytes: number, overlap: number, search: number): void {
  if (!Number.isInteger(maxBytes) || maxBytes < MIN_PACK_BYTES) {
    throw new RangeError(`maxBytes must be an integer of at least ${MIN_PACK_BYTES}; received ${String(maxBytes)}`);
  }
  if (!Number.isInteger(overlap) || overlap < 0) {
    throw new RangeError(`splitOverlapCodePoints must be a non-negative integer; received ${String(overlap)}`);
  }
  if (!Number.isInteger(search) || search < 0) {
    throw new RangeError(`splitSearchCodePoints must be a non-negative integer; received ${String(search)}`);
  }
}
