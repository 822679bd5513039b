/**
 * The shipped groundedness estimate is tuned for speed (hashing, a reused open-addressing table, no
 * substrings). This holds it to the plain definition, written the obvious way: lower-case, split into
 * maximal runs of word characters, keep tokens of at least the minimum length, and count the sentences
 * whose share of tokens found in the contexts reaches the threshold.
 */
import fc from 'fast-check';
import { estimateGroundedness } from '../../lambdas/gate-score/reward/groundedness';

function referenceGroundedness(answer: string, contexts: readonly string[], minTokenLength: number, threshold: number): number | undefined {
  if (contexts.length === 0) return undefined;
  const isWordChar = (unit: string): boolean => /[\p{L}\p{N}\p{M}]/u.test(unit) || /[\ud800-\udfff]/.test(unit);
  const tokensOf = (text: string): string[] => {
    const tokens: string[] = [];
    let current = '';
    for (const unit of text.toLowerCase().split('')) {
      if (isWordChar(unit)) current += unit;
      else {
        if (current.length >= Math.max(1, minTokenLength)) tokens.push(current);
        current = '';
      }
    }
    if (current.length >= Math.max(1, minTokenLength)) tokens.push(current);
    return tokens;
  };
  const contextWords = new Set(contexts.flatMap(tokensOf));
  if (contextWords.size === 0) return undefined;
  const sentences = answer
    .split(/[.!?\n\u3002\uff01\uff1f]/)
    .map(tokensOf)
    .filter((tokens) => tokens.length > 0);
  if (sentences.length === 0) return undefined;
  const supported = sentences.filter((tokens) => tokens.filter((t) => contextWords.has(t)).length / tokens.length >= threshold).length;
  return supported / sentences.length;
}

const vocabulary = ['refund', 'Refund', 'REFUND', 'plan', 'plans', 'the', 'a', 'of', 'naïve', 'Straße', 'über', '환불', '規定', '𠀀', 'e\u0301', 'x1', '42', 'İstanbul'];
const separators = [' ', '  ', ', ', '. ', '!', '?', '\n', '。', '！', '？', '-', '_', '\u00a0', '😀', '\ud800', ''];
const text = fc.array(fc.oneof(fc.constantFrom(...vocabulary), fc.constantFrom(...separators), fc.string({ maxLength: 3 })), { maxLength: 120 }).map((parts) => parts.join(''));

describe('estimateGroundedness agrees with the plain definition', () => {
  it('on random answers and contexts, token lengths and thresholds', () => {
    fc.assert(
      fc.property(text, fc.array(text, { maxLength: 4 }), fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 1, noNaN: true }), (answer, contexts, minTokenLength, threshold) => {
        const settings = { minTokenLength, sentenceSupportThreshold: threshold };
        expect(estimateGroundedness(answer, contexts, settings)).toBe(referenceGroundedness(answer, contexts, minTokenLength, threshold));
      }),
      { numRuns: 3000 },
    );
  });

  it('when two answer words share a hash (FNV-1a collisions): each is looked for on its own', () => {
    // "liquid"/"costarring" and "altarage"/"zinke" hash alike. Once the first of a pair is found, a
    // context token with that hash may still be the other one, so it must be compared, not skipped.
    const settings = { minTokenLength: 3, sentenceSupportThreshold: 1 };
    const cases: Array<[string, string[]]> = [
      ['liquid costarring.', ['liquid costarring']],
      ['liquid costarring.', ['liquid liquid']],
      ['costarring liquid. zinke altarage.', ['liquid', 'zinke costarring altarage']],
      ['zinke altarage. other words.', ['altarage zinke words other']],
      ['zinke. altarage.', ['zinke zinke zinke']],
    ];
    for (const [answer, contexts] of cases) {
      expect(estimateGroundedness(answer, contexts, settings)).toBe(referenceGroundedness(answer, contexts, 3, 1));
    }
    expect(estimateGroundedness('liquid costarring.', ['liquid costarring'], settings)).toBe(1);
  });

  it('on long texts with many repeated words (the hash table grows and is reused between calls)', () => {
    const long = Array.from({ length: 5000 }, (_, i) => vocabulary[i % vocabulary.length]).join(' ');
    for (const answer of [long, 'refund plan.', long.slice(0, 777)]) {
      const settings = { minTokenLength: 3, sentenceSupportThreshold: 0.5 };
      expect(estimateGroundedness(answer, [long.slice(100, 3000)], settings)).toBe(referenceGroundedness(answer, [long.slice(100, 3000)], 3, 0.5));
    }
  });

  it('reads ASCII in place with A-Z folded, and a text from its first unit of U+0080 or above lower-cased', () => {
    // Mixed case before and after the first non-ASCII unit, words found before it in a context, and
    // characters whose lower case is longer (U+0130) or depends on what follows (final sigma).
    const ascii = fc.array(fc.constantFrom('Refund', 'REFUND', 'refund', 'Plan', 'plans', 'The', 'x1', '42', ' ', '. ', '\n', '!', 'abc'), { maxLength: 40 }).map((parts) => parts.join(''));
    const other = fc.constantFrom('\u0130', '\u03a3', '\u03a3 ', 'na\u00efve', 'STRASSE', 'Stra\u00dfe', '\u212a', '\u017f', '\ud800', '\u{20000}', '\u00a0', '\u3002', '\u00c9T\u00c9');
    const mixed = fc.tuple(ascii, fc.option(other, { nil: '' }), ascii).map(([a, o, b]) => `${a}${o}${b}`);
    fc.assert(
      fc.property(mixed, fc.array(mixed, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, 0.5, 1), (answer, contexts, minTokenLength, threshold) => {
        const settings = { minTokenLength, sentenceSupportThreshold: threshold };
        expect(estimateGroundedness(answer, contexts, settings)).toBe(referenceGroundedness(answer, contexts, minTokenLength, threshold));
      }),
      { numRuns: 2000 },
    );
  });
});
