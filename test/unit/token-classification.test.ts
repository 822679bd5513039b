import {
  DEFAULT_ENTITY_TYPES,
  TokenClassificationResponseError,
  entityTypeMap,
  maskTypeOf,
  parseTokenClassificationResponse,
  tokenClassificationRequest,
  wordMatches,
} from '../../lambdas/shared/token-classification';

const types = entityTypeMap();
const parse = (response: unknown, texts: readonly string[]) => () => parseTokenClassificationResponse(response, texts, types);

describe('tokenClassificationRequest', () => {
  it('sends a list of inputs with simple aggregation, and the stride only when set', () => {
    expect(JSON.parse(tokenClassificationRequest(['김민수 님', 'b']))).toEqual({ inputs: ['김민수 님', 'b'], parameters: { aggregation_strategy: 'simple' } });
    expect(JSON.parse(tokenClassificationRequest(['a'], 32))).toEqual({ inputs: ['a'], parameters: { aggregation_strategy: 'simple', stride: 32 } });
  });
});

describe('parseTokenClassificationResponse', () => {
  it('maps one entity list per input, keeping code-point offsets as they are', () => {
    const texts = ['😀👍🏽 김민수 님, 서울 강남구', 'nothing here'];
    // Python str indices: the emoji count 1 and 2 code points (4 UTF-16 units), so 김 is at 4.
    const response = [
      [
        { entity_group: 'PS', score: 0.98, word: '김민수', start: 4, end: 7 },
        { entity_group: 'LC', score: 0.91, word: '서울 강남구', start: 11, end: 17 },
      ],
      [],
    ];
    const result = parseTokenClassificationResponse(response, texts, types);
    expect(result).toEqual([
      [
        { type: 'NAME', beginOffset: 4, endOffset: 7, score: 0.98 },
        { type: 'ADDRESS', beginOffset: 11, endOffset: 17, score: 0.91 },
      ],
      [],
    ]);
    expect(Array.from(texts[0]!).slice(4, 7).join('')).toBe('김민수');
  });

  it('fails a response whose offsets are UTF-16 indices: the word does not match the text there', () => {
    const texts = ['😀 김민수 님'];
    // 김민수 is at UTF-16 index 3 but code point 2.
    expect(parse([[{ entity_group: 'PS', score: 0.9, word: '김민수', start: 3, end: 6 }]], texts)).toThrow(TokenClassificationResponseError);
    expect(parse([[{ entity_group: 'PS', score: 0.9, word: '김민수', start: 3, end: 6 }]], texts)).toThrow(/word does not match the input at \[3, 6\)/);
    expect(parse([[{ entity_group: 'PS', score: 0.9, word: '김민수', start: 2, end: 5 }]], texts)()).toEqual([[{ type: 'NAME', beginOffset: 2, endOffset: 5, score: 0.9 }]]);
  });

  it.each([
    ['not a list', { error: 'boom' }, /expected a list of 1 entity lists, received an object/],
    ['one list too few', [], /expected 1 entity lists \(one per input\), received 0/],
    ['a flat list (single-input answer form)', [{ entity_group: 'PS', score: 0.9, word: 'Jane', start: 0, end: 4 }], /input 0: expected a list of entities, received an object/],
    ['an entity that is not an object', [['PS']], /entity 0: expected an object, received a string/],
    ['no entity group', [[{ score: 0.9, word: 'Jane', start: 0, end: 4 }]], /entity_group must be a non-empty string/],
    ['a score above 1', [[{ entity_group: 'PS', score: 1.5, word: 'Jane', start: 0, end: 4 }]], /score must be a number in \[0, 1\]/],
    ['a score as text', [[{ entity_group: 'PS', score: '0.9', word: 'Jane', start: 0, end: 4 }]], /score must be a number/],
    ['no word', [[{ entity_group: 'PS', score: 0.9, start: 0, end: 4 }]], /word must be a string/],
    ['null offsets (slow tokenizer)', [[{ entity_group: 'PS', score: 0.9, word: 'Jane', start: null, end: null }]], /start and end must be integers \(the endpoint needs a fast tokenizer\)/],
    ['fractional offsets', [[{ entity_group: 'PS', score: 0.9, word: 'Jane', start: 0.5, end: 4 }]], /must be integers/],
    ['an end past the input', [[{ entity_group: 'PS', score: 0.9, word: 'Jane', start: 0, end: 99 }]], /offsets \[0, 99\) are outside the input of 14 code points/],
    ['an empty span', [[{ entity_group: 'PS', score: 0.9, word: '', start: 2, end: 2 }]], /outside the input/],
    ['a negative start', [[{ entity_group: 'PS', score: 0.9, word: 'Jane', start: -1, end: 4 }]], /outside the input/],
    ['a word from elsewhere', [[{ entity_group: 'PS', score: 0.9, word: 'Mary', start: 0, end: 4 }]], /word does not match/],
  ])('fails closed on %s', (_name, response, message) => {
    expect(parse(response, ['Jane Doe here.'])).toThrow(TokenClassificationResponseError);
    expect(parse(response, ['Jane Doe here.'])).toThrow(message);
  });

  it('never quotes the text or the word in its errors (they go to logs and the audit table)', () => {
    try {
      parse([[{ entity_group: 'PS', score: 0.9, word: 'Mary', start: 0, end: 4 }]], ['Jane Doe here.'])();
      throw new Error('expected a failure');
    } catch (error) {
      expect(String(error)).not.toMatch(/Jane|Mary/);
    }
  });

  it('maps person and location groups of the common label sets, and drops organisations, dates and quantities', () => {
    const text = 'Jane Doe of Acme in Paris on Monday, 3 items';
    const entity = (entity_group: string, start: number, end: number) => ({ entity_group, score: 0.9, word: text.slice(start, end), start, end });
    const response = [[entity('PER', 0, 8), entity('ORG', 12, 16), entity('LOC', 20, 25), entity('DT', 29, 35), entity('QT', 37, 44), entity('B-PER', 0, 4)]];
    expect(parseTokenClassificationResponse(response, [text], types)[0]!.map((e) => [e.type, e.beginOffset])).toEqual([
      ['NAME', 0],
      ['ADDRESS', 20],
      ['NAME', 0],
    ]);
  });

  it('masks what a stage maps on top of the built-in groups', () => {
    const withOrgs = entityTypeMap({ og: 'ORGANIZATION' });
    expect(maskTypeOf('OG', withOrgs)).toBe('ORGANIZATION');
    expect(maskTypeOf('OG', DEFAULT_ENTITY_TYPES)).toBeUndefined();
    expect(maskTypeOf('ps', DEFAULT_ENTITY_TYPES)).toBe('NAME');
    expect(maskTypeOf('LC', DEFAULT_ENTITY_TYPES)).toBe('ADDRESS');
    expect(maskTypeOf('constructor', DEFAULT_ENTITY_TYPES)).toBeUndefined();
  });
});

describe('wordMatches', () => {
  it('compares the word as a tokenizer decodes it: spacing, sub-word markers, case and accents aside', () => {
    expect(wordMatches('john smith', 'John  Smith')).toBe(true);
    expect(wordMatches('jose garcia', 'José García')).toBe(true);
    expect(wordMatches('김 ##민수', '김민수')).toBe(true);
    expect(wordMatches('\u2581Jane', 'Jane')).toBe(true);
    expect(wordMatches('[UNK] Smith', '😀 Smith')).toBe(true);
    expect(wordMatches('Smith', 'Smyth')).toBe(false);
  });
});
