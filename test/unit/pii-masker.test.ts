import { maskText, mergeSpans, placeholder } from '../../lambdas/gate-score/pii/masker';

describe('maskText', () => {
  it('replaces each span with [TYPE]', () => {
    const text = 'Hi, I am Jane Doe, mail jane@example.com';
    const result = maskText(text, [
      { type: 'NAME', beginOffset: 9, endOffset: 17 },
      { type: 'EMAIL', beginOffset: 24, endOffset: 40 },
    ]);
    expect(result).toEqual({ text: 'Hi, I am [NAME], mail [EMAIL]', masked: 2 });
  });

  it('accepts spans in any order', () => {
    const result = maskText('a b c', [
      { type: 'C', beginOffset: 4, endOffset: 5 },
      { type: 'A', beginOffset: 0, endOffset: 1 },
    ]);
    expect(result.text).toBe('[A] b [C]');
  });

  it('reads offsets as code points: Hangul and emoji before a span', () => {
    // 😀 is one code point but two UTF-16 units; 김민수 are three code points.
    const text = '😀👍🏽 김민수님 010-1234-5678 🍕';
    const result = maskText(text, [
      { type: 'NAME', beginOffset: 4, endOffset: 7 },
      { type: 'PHONE', beginOffset: 9, endOffset: 22 },
    ]);
    expect(result.text).toBe('😀👍🏽 [NAME]님 [PHONE] 🍕');
  });

  it('masks an emoji-containing span without leaving half a surrogate pair', () => {
    const result = maskText('x😀😀y', [{ type: 'E', beginOffset: 1, endOffset: 3 }]);
    expect(result.text).toBe('x[E]y');
  });

  it('merges overlapping spans into one placeholder named after the longest', () => {
    // An ADDRESS that contains a PHONE: one [ADDRESS], not "[ADDRESS][PHONE]" or a double mask.
    const text = 'ship to 1 Main St, tel 555-0100, Springfield';
    const result = maskText(text, [
      { type: 'PHONE', beginOffset: 23, endOffset: 31 },
      { type: 'ADDRESS', beginOffset: 8, endOffset: 44 },
    ]);
    expect(result).toEqual({ text: 'ship to [ADDRESS]', masked: 1 });
  });

  it('merges adjacent spans (end == begin) too', () => {
    const result = maskText('JaneDoe!', [
      { type: 'NAME', beginOffset: 0, endOffset: 4 },
      { type: 'USERNAME', beginOffset: 4, endOffset: 7 },
    ]);
    expect(result).toEqual({ text: '[NAME]!', masked: 1 });
  });

  it('keeps spans separated by one character apart', () => {
    expect(maskText('ab cd', [
      { type: 'X', beginOffset: 0, endOffset: 2 },
      { type: 'Y', beginOffset: 3, endOffset: 5 },
    ]).text).toBe('[X] [Y]');
  });

  it('masks duplicate findings (Comprehend and patterns, split overlap) once', () => {
    const spans = [
      { type: 'EMAIL', beginOffset: 5, endOffset: 12 },
      { type: 'EMAIL', beginOffset: 5, endOffset: 12 },
      { type: 'EMAIL', beginOffset: 5, endOffset: 12 },
    ];
    expect(maskText('mail x@y.com', spans)).toEqual({ text: 'mail [EMAIL]', masked: 1 });
  });

  it('clamps spans that run past the end, and ignores empty or inverted ones', () => {
    expect(maskText('call 555', [{ type: 'PHONE', beginOffset: 5, endOffset: 99 }]).text).toBe('call [PHONE]');
    expect(maskText('abc', [{ type: 'X', beginOffset: 1, endOffset: 1 }])).toEqual({ text: 'abc', masked: 0 });
    expect(maskText('abc', [{ type: 'X', beginOffset: 2, endOffset: 1 }])).toEqual({ text: 'abc', masked: 0 });
  });

  it('returns the text unchanged when there is nothing to mask', () => {
    expect(maskText('plain', [])).toEqual({ text: 'plain', masked: 0 });
    expect(maskText('', [{ type: 'X', beginOffset: 0, endOffset: 3 }])).toEqual({ text: '', masked: 0 });
  });
});

describe('mergeSpans', () => {
  it('takes the type of the longest constituent of a merged span', () => {
    expect(
      mergeSpans([
        { type: 'A', beginOffset: 0, endOffset: 3 },
        { type: 'B', beginOffset: 2, endOffset: 10 },
        { type: 'C', beginOffset: 9, endOffset: 12 },
      ]),
    ).toEqual([{ type: 'B', beginOffset: 0, endOffset: 12 }]);
  });

  it('on equal length, prefers the span that starts first, then the one listed first', () => {
    expect(
      mergeSpans([
        { type: 'LATER', beginOffset: 2, endOffset: 6 },
        { type: 'FIRST', beginOffset: 0, endOffset: 4 },
      ]),
    ).toEqual([{ type: 'FIRST', beginOffset: 0, endOffset: 6 }]);
    expect(
      mergeSpans([
        { type: 'COMPREHEND', beginOffset: 0, endOffset: 4 },
        { type: 'PATTERN', beginOffset: 0, endOffset: 4 },
      ]),
    ).toEqual([{ type: 'COMPREHEND', beginOffset: 0, endOffset: 4 }]);
  });

  it('returns sorted, disjoint, non-touching spans', () => {
    const merged = mergeSpans([
      { type: 'X', beginOffset: 20, endOffset: 25 },
      { type: 'Y', beginOffset: 0, endOffset: 5 },
      { type: 'Z', beginOffset: 4, endOffset: 8 },
      { type: 'W', beginOffset: 10, endOffset: 12 },
    ]);
    expect(merged.map((s) => [s.beginOffset, s.endOffset])).toEqual([
      [0, 8],
      [10, 12],
      [20, 25],
    ]);
  });

  it('writes placeholders as [TYPE]', () => {
    expect(placeholder('CREDIT_DEBIT_NUMBER')).toBe('[CREDIT_DEBIT_NUMBER]');
  });
});
