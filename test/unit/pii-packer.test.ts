import {
  MIN_PACK_BYTES,
  PACK_SEPARATOR,
  mapPackEntities,
  packSegments,
  splitText,
  type Pack,
} from '../../lambdas/gate-score/pii/packer';
import { detectPatternPii } from '../../lambdas/gate-score/pii/pattern-detector';
import type { PiiEntity } from '../../lambdas/shared/ports';

const LIMIT = 100_000;
const SEP_BYTES = Buffer.byteLength(PACK_SEPARATOR, 'utf8');

/** Code points of a string, computed independently of the code under test. */
const cps = (text: string): string[] => Array.from(text);

/** Code-point offset of the first occurrence of `needle` in `text`. */
function cpIndexOf(text: string, needle: string, from = 0): number {
  const unitIndex = text.indexOf(needle, from);
  if (unitIndex < 0) throw new Error(`"${needle}" not in text`);
  return cps(text.slice(0, unitIndex)).length;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every piece of every pack holds exactly the code points of its segment range; sizes are honest. */
function expectPacksConsistent(packs: readonly Pack[], segments: readonly string[], maxBytes: number): void {
  for (const pack of packs) {
    expect(Buffer.byteLength(pack.text, 'utf8')).toBe(pack.bytes);
    expect(pack.bytes).toBeLessThanOrEqual(maxBytes);
    expect(cps(pack.text).length).toBe(pack.codePoints);
    expect(LONE_SURROGATE.test(pack.text)).toBe(false);
    const packCps = cps(pack.text);
    for (const piece of pack.pieces) {
      const segment = segments[piece.segment] ?? '';
      const fromPack = packCps.slice(piece.packStart, piece.packStart + piece.length).join('');
      const fromSegment = cps(segment)
        .slice(piece.segmentStart, piece.segmentStart + piece.length)
        .join('');
      expect(fromPack).toBe(fromSegment);
    }
  }
}

describe('packSegments', () => {
  it('joins small segments with the separator into one pack, in order', () => {
    const segments = ['Hello Jane', '안녕하세요 김민수입니다', 'I ❤️ 🍕 emoji 👩🏽‍💻'];
    const packs = packSegments(segments, { maxBytes: LIMIT });
    expect(packs).toHaveLength(1);
    const [pack] = packs as [Pack];
    expect(pack.text).toBe(segments.join(PACK_SEPARATOR));
    expect(pack.segments).toEqual([0, 1, 2]);
    expect(pack.pieces.map((p) => p.packStart)).toEqual([0, 10 + 7, 10 + 7 + 12 + 7]);
    expectPacksConsistent(packs, segments, LIMIT);
  });

  it('maps entities back to each segment exactly, through Korean and surrogate pairs', () => {
    const segments = [
      '😀😀 Contact Jane Doe at jane@example.com',
      '제 이름은 김민수이고 이메일은 minsu@example.kr 입니다',
      '👩🏽‍💻 dev: 010-1234-5678 🍕',
    ];
    const [pack] = packSegments(segments, { maxBytes: LIMIT }) as [Pack];
    // Play Comprehend: find the values in the pack text and report code-point offsets.
    const values = ['Jane Doe', 'jane@example.com', '김민수', 'minsu@example.kr', '010-1234-5678'];
    const entities: PiiEntity[] = values.map((v) => {
      const begin = cpIndexOf(pack.text, v);
      return { type: 'X', beginOffset: begin, endOffset: begin + cps(v).length, score: 0.99 };
    });
    const mapped = mapPackEntities(pack, entities);
    const back = mapped.map((e) => ({
      segment: e.segment,
      text: cps(segments[e.segment] ?? '')
        .slice(e.beginOffset, e.endOffset)
        .join(''),
    }));
    expect(back).toEqual([
      { segment: 0, text: 'Jane Doe' },
      { segment: 0, text: 'jane@example.com' },
      { segment: 1, text: '김민수' },
      { segment: 1, text: 'minsu@example.kr' },
      { segment: 2, text: '010-1234-5678' },
    ]);
    expect(mapped[4]).toMatchObject({ beginOffset: cpIndexOf(segments[2] ?? '', '010'), type: 'X', score: 0.99 });
  });

  it('fills a pack to exactly the limit and opens a second one a byte over it', () => {
    const a = 'a'.repeat(50_000);
    const exact = 'b'.repeat(LIMIT - 50_000 - SEP_BYTES);
    const atLimit = packSegments([a, exact], { maxBytes: LIMIT });
    expect(atLimit).toHaveLength(1);
    expect(atLimit[0]?.bytes).toBe(LIMIT);

    const over = packSegments([a, `${exact}b`], { maxBytes: LIMIT });
    expect(over).toHaveLength(2);
    expect(over.map((p) => p.segments)).toEqual([[0], [1]]);
    expect(over.map((p) => p.bytes)).toEqual([50_000, LIMIT - 50_000 - SEP_BYTES + 1]);
  });

  it('counts multi-byte characters in bytes: a Hangul segment of exactly 100,000 bytes is one call', () => {
    const hangul = `${'가'.repeat(33_333)}a`; // 99,999 + 1 bytes, 33,334 code points
    const packs = packSegments([hangul], { maxBytes: LIMIT });
    expect(packs).toHaveLength(1);
    expect(packs[0]?.bytes).toBe(LIMIT);
    expect(packs[0]?.pieces).toEqual([{ segment: 0, segmentStart: 0, packStart: 0, length: 33_334 }]);
  });

  it('splits a segment one character over the limit without cutting a character', () => {
    const hangul = '가'.repeat(33_334); // 100,002 bytes, no whitespace
    const packs = packSegments([hangul], { maxBytes: LIMIT });
    expect(packs.length).toBe(2);
    expectPacksConsistent(packs, [hangul], LIMIT);
    expect(packs.every((p) => p.text.length > 0 && /^가+$/.test(p.text))).toBe(true);
  });

  it('splits emoji-only text between surrogate pairs, never inside one', () => {
    const emoji = '😀'.repeat(30_000); // 120,000 bytes, 60,000 UTF-16 units
    const packs = packSegments([emoji], { maxBytes: LIMIT });
    expect(packs.length).toBe(2);
    expectPacksConsistent(packs, [emoji], LIMIT);
    expect(packs[0]?.bytes).toBe(LIMIT); // 25,000 emoji of 4 bytes fill it exactly
  });

  it('covers every code point of a split segment, with overlapping chunks', () => {
    const words = Array.from({ length: 40_000 }, (_, i) => `word${i}`).join(' '); // ~270 KB
    const chunks = splitText(words, LIMIT);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks[0]?.codePointStart).toBe(0);
    const last = chunks[chunks.length - 1];
    expect((last?.codePointStart ?? 0) + (last?.codePointLength ?? 0)).toBe(cps(words).length);
    for (let k = 1; k < chunks.length; k += 1) {
      const prev = chunks[k - 1];
      const next = chunks[k];
      if (prev === undefined || next === undefined) throw new Error('missing chunk');
      // Overlap: the next chunk starts before the previous one ended, and at a word start.
      expect(next.codePointStart).toBeLessThan(prev.codePointStart + prev.codePointLength);
      expect(next.codePointStart).toBeGreaterThan(prev.codePointStart);
      expect(words[next.start - 1]).toBe(' ');
      // Cut at whitespace near the limit, not mid-word.
      expect(words[prev.end - 1]).toBe(' ');
      expect(prev.bytes).toBeLessThanOrEqual(LIMIT);
      expect(prev.bytes).toBeGreaterThan(LIMIT - 1_000);
    }
  });

  it.each([
    // Cut at whitespace: multi-word entities (grouped card and phone numbers) straddle cuts.
    ['spaced text', Array.from({ length: 300 }, (_, i) => `note ${i} card 4111 1111 1111 1111 phone +82 10 1234 ${5000 + i} ok`).join(' ')],
    // No whitespace at all: hard cuts fall inside e-mail addresses.
    ['text without whitespace', Array.from({ length: 400 }, (_, i) => `person${i}@example.com`).join(',')],
  ])('finds entities that straddle a split point, thanks to the overlap (%s)', (_name, text) => {
    const maxBytes = 500;
    const packs = packSegments([text], { maxBytes, splitOverlapCodePoints: 64 });
    expect(packs.length).toBeGreaterThanOrEqual(15);
    expectPacksConsistent(packs, [text], maxBytes);

    // Play Comprehend with the pattern detector on every pack, and compare with a scan of the whole text.
    const mapped = packs.flatMap((pack) => mapPackEntities(pack, detectPatternPii(pack.text)));
    const expected = detectPatternPii(text);
    expect(expected.length).toBeGreaterThanOrEqual(400);
    const missed = expected.filter((e) => !mapped.some((m) => m.beginOffset <= e.beginOffset && m.endOffset >= e.endOffset));
    expect(missed).toEqual([]);

    // The test is only meaningful if some entity really was cut: a chunk ends strictly inside it.
    const pieces = packs.flatMap((p) => p.pieces);
    const straddled = expected.filter((e) =>
      pieces.some((p) => p.segmentStart + p.length > e.beginOffset && p.segmentStart + p.length < e.endOffset),
    );
    expect(straddled.length).toBeGreaterThan(0);
  });

  it('clips an entity that crosses the separator to each segment it touches', () => {
    const segments = ['Call Maria', 'Lopez tomorrow'];
    const [pack] = packSegments(segments, { maxBytes: LIMIT }) as [Pack];
    const begin = cpIndexOf(pack.text, 'Maria');
    const end = cpIndexOf(pack.text, 'Lopez') + 'Lopez'.length;
    const mapped = mapPackEntities(pack, [{ type: 'NAME', beginOffset: begin, endOffset: end, score: 0.9 }]);
    expect(mapped).toEqual([
      { segment: 0, type: 'NAME', score: 0.9, beginOffset: 5, endOffset: 10 },
      { segment: 1, type: 'NAME', score: 0.9, beginOffset: 0, endOffset: 5 },
    ]);
  });

  it('drops the part of an entity that lies on a separator only', () => {
    const [pack] = packSegments(['abc', 'def'], { maxBytes: LIMIT }) as [Pack];
    expect(mapPackEntities(pack, [{ type: 'X', beginOffset: 3, endOffset: 3 + PACK_SEPARATOR.length, score: 1 }])).toEqual([]);
  });

  it('rejects entity offsets outside the pack (fail closed) and ignores empty ones', () => {
    const [pack] = packSegments(['abc'], { maxBytes: LIMIT }) as [Pack];
    expect(() => mapPackEntities(pack, [{ type: 'X', beginOffset: 1, endOffset: 4, score: 1 }])).toThrow(RangeError);
    expect(() => mapPackEntities(pack, [{ type: 'X', beginOffset: -1, endOffset: 2, score: 1 }])).toThrow(RangeError);
    expect(() => mapPackEntities(pack, [{ type: 'X', beginOffset: 2, endOffset: 1, score: 1 }])).toThrow(RangeError);
    expect(() => mapPackEntities(pack, [{ type: 'X', beginOffset: 0.5, endOffset: 2, score: 1 }])).toThrow(RangeError);
    expect(mapPackEntities(pack, [{ type: 'X', beginOffset: 2, endOffset: 2, score: 1 }])).toEqual([]);
  });

  it('skips empty segments and keeps the original indices', () => {
    const packs = packSegments(['', 'x', '', 'y'], { maxBytes: LIMIT });
    expect(packs).toHaveLength(1);
    expect(packs[0]?.segments).toEqual([1, 3]);
    expect(packSegments(['', ''], { maxBytes: LIMIT })).toEqual([]);
  });

  it('replaces a lone surrogate by U+FFFD (same length) so offsets still line up', () => {
    const segments = ['bad \uD800 then x@y.com'];
    const [pack] = packSegments(segments, { maxBytes: LIMIT }) as [Pack];
    expect(pack.text).toBe('bad \uFFFD then x@y.com');
    const [email] = detectPatternPii(pack.text);
    const [mapped] = mapPackEntities(pack, email ? [email] : []);
    expect(mapped).toMatchObject({ segment: 0, beginOffset: cpIndexOf(segments[0] ?? '', 'x@y') });
  });

  it('packs many 2 KB traces into about one call per 100 KB', () => {
    const trace = 'lorem ipsum dolor sit amet '.repeat(75); // ~2 KB
    const segments = Array.from({ length: 1_000 }, () => trace);
    const packs = packSegments(segments, { maxBytes: LIMIT });
    const totalBytes = segments.length * Buffer.byteLength(trace);
    expect(packs.length).toBeLessThanOrEqual(Math.ceil(totalBytes / LIMIT) + 1);
    expectPacksConsistent(packs, segments, LIMIT);
  });

  it('refuses a limit too small to pack anything', () => {
    expect(() => packSegments(['x'], { maxBytes: MIN_PACK_BYTES - 1 })).toThrow(RangeError);
    expect(() => packSegments(['x'], { maxBytes: LIMIT, splitOverlapCodePoints: -1 })).toThrow(RangeError);
  });
});
